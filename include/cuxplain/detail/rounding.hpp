#pragma once
// The arithmetic of the per-element math, one rounding per operation spelled
// out so that the host and CUDA backends give the same bits: to nearest
// (every op) or toward -inf / +inf (the outward-rounded bounds of sound IBP).
//
// nvcc contracts a * b + c into an FMA unless told otherwise, and g++ may
// too (-ffp-contract=fast is its default; the library compiles with
// -ffp-contract=off). Where the order of roundings matters, the math calls
// these helpers: fma_rounded is always fused (__fmaf_* on CUDA, std::fma on
// the host), mul_rounded / add_rounded / div_rounded always round on their
// own (__fmul_rn and friends keep nvcc from fusing them).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "hd.hpp"

namespace cuxplain::detail {

/// Rounding of one float operation: to nearest (plain mode), or toward -inf /
/// +inf (the lower / upper bounds of sound mode).
enum class Rounding { nearest, down, up };

/// The next float above x (+inf and NaN stay; -0 and +0 step to the
/// smallest subnormal).
CUXPLAIN_HD float next_float_up(float x) {
  if (x != x || x == INFINITY) return x;
  if (x == 0.0f) return 1.40129846e-45f;  // 2^-149
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits = x > 0.0f ? bits + 1u : bits - 1u;
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}

/// The next float below x.
CUXPLAIN_HD float next_float_down(float x) { return -next_float_up(-x); }

/// The float nearest-rounded from s, moved one step when needed so that it
/// is the float below (R = down) or above (R = up) the exact real value
/// s + e, where e is the exact rounding error of the double s (|e| is at most
/// half an ulp of s). For finite values this equals the correctly rounded
/// directed result, bit for bit (what __fadd_rd and friends return on CUDA).
/// (float)s - s is exact (Sterbenz: the two are within a factor 2).
template <Rounding R>
CUXPLAIN_HD float round_double_directed(double s, double e) {
  const float f = static_cast<float>(s);
  const double d = static_cast<double>(f) - s;  // f = s + d, so f - v = d - e
  const bool step = R == Rounding::down ? d > e : d < e;
  // The neighbour of f in direction R, without branches (the step is taken
  // about half the time, unpredictably): one unit of the bit pattern away
  // from or toward zero, the smallest subnormal from +-0. Infinities and NaN
  // never step toward the outside (d - e is then not finite or inf - inf).
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const bool away_from_zero = (f > 0.0f) == (R == Rounding::up);
  bits = f == 0.0f ? (R == Rounding::up ? 0x00000001u : 0x80000001u)
                   : (away_from_zero ? bits + 1u : bits - 1u);
  float neighbour;
  std::memcpy(&neighbour, &bits, sizeof bits);
  return step ? neighbour : f;
}

/// p + c rounded in direction R, for doubles p (exact product of two floats)
/// and c (a float): Knuth's TwoSum gives the exact error of the double sum.
template <Rounding R>
CUXPLAIN_HD float sum_directed_host(double p, double c) {
  const double s = p + c;
  const double pp = s - c;
  const double cc = s - pp;
  const double e = (p - pp) + (c - cc);
  return round_double_directed<R>(s, e);
}

/// a * b + c with one rounding in direction R. CUDA: __fmaf_rd / __fmaf_ru /
/// __fmaf_rn. Host: to nearest, std::fma (a true fused multiply-add: the
/// two roundings of a * b + c would differ from CUDA's bits); directed, the
/// product is exact in double, the sum's error is recovered by TwoSum and
/// the float result stepped by one ulp when the nearest float lies on the
/// wrong side: the same bits as the CUDA intrinsic.
template <Rounding R>
CUXPLAIN_HD float fma_rounded(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  if constexpr (R == Rounding::down) return __fmaf_rd(a, b, c);
  if constexpr (R == Rounding::up) return __fmaf_ru(a, b, c);
  return __fmaf_rn(a, b, c);
#else
  if constexpr (R == Rounding::nearest) {
    return std::fma(a, b, c);
  } else {
    return sum_directed_host<R>(static_cast<double>(a) * static_cast<double>(b),
                                static_cast<double>(c));
  }
#endif
}

/// a + b with one rounding in direction R (__fadd_rd / __fadd_ru on CUDA).
template <Rounding R>
CUXPLAIN_HD float add_rounded(float a, float b) {
#if defined(__CUDA_ARCH__)
  if constexpr (R == Rounding::down) return __fadd_rd(a, b);
  if constexpr (R == Rounding::up) return __fadd_ru(a, b);
  return __fadd_rn(a, b);
#else
  if constexpr (R == Rounding::nearest) {
    return a + b;
  } else {
    return sum_directed_host<R>(static_cast<double>(a), static_cast<double>(b));
  }
#endif
}

/// a * b with one rounding in direction R (__fmul_rd / __fmul_ru on CUDA).
template <Rounding R>
CUXPLAIN_HD float mul_rounded(float a, float b) {
#if defined(__CUDA_ARCH__)
  if constexpr (R == Rounding::down) return __fmul_rd(a, b);
  if constexpr (R == Rounding::up) return __fmul_ru(a, b);
  return __fmul_rn(a, b);
#else
  if constexpr (R == Rounding::nearest) {
    return a * b;
  } else {
    return round_double_directed<R>(static_cast<double>(a) * static_cast<double>(b), 0.0);
  }
#endif
}

/// a / b (b > 0) with one rounding in direction R (__fdiv_rd / __fdiv_ru on
/// CUDA). Host: q = a / b to nearest; q * b - a is exact in double (the
/// product has 48 bits and is within a factor 2 of a), and its sign says on
/// which side of a / b the quotient lies.
template <Rounding R>
CUXPLAIN_HD float div_rounded(float a, float b) {
#if defined(__CUDA_ARCH__)
  if constexpr (R == Rounding::down) return __fdiv_rd(a, b);
  if constexpr (R == Rounding::up) return __fdiv_ru(a, b);
  return __fdiv_rn(a, b);
#else
  float q = a / b;
  if constexpr (R != Rounding::nearest) {
    const double residual =
        static_cast<double>(q) * static_cast<double>(b) - static_cast<double>(a);
    if (R == Rounding::down && residual > 0.0) q = next_float_down(q);
    if (R == Rounding::up && residual < 0.0) q = next_float_up(q);
  }
  return q;
#endif
}

}  // namespace cuxplain::detail
