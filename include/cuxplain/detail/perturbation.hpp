#pragma once
// Per-element math of cuxplain::perturb and cuxplain::box_blur, shared by the
// host and CUDA backends (which differ only in how they walk the index space):
//  - where a mask value comes from: the source cells and bilinear weight of an
//    output row or column, computed exactly in integers;
//  - the value of a mask at a pixel and the perturbation formulas;
//  - OpenCV's BORDER_REFLECT_101 and the box-window sums of the blur;
//  - float -> binary16 / bfloat16 rounding to nearest even.
//
// Host and CUDA results are bit-identical because every rounding is spelled
// out: products and sums that one compiler could contract into an FMA and
// the other not are written with the helpers of rounding.hpp, either as an
// explicit fused multiply-add or as an explicitly rounded product.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../core/options.hpp"
#include "hd.hpp"
#include "rounding.hpp"

namespace cuxplain::detail {

// ------------------------------------------------------------ mask lookup ---

/// Where output coordinate `dst` reads a mask along one axis: cells i0 and i1
/// mixed as (1 - t) * m[i0] + t * m[i1]. Nearest modes have i1 == i0, t == 0.
template <class Int>
struct MaskAxisTap {
  Int i0;
  Int i1;
  float t;
};

/// Source cells of output coordinate `dst` (0 <= dst < size) when `cells`
/// mask cells are stretched over `size` pixels (1 <= cells <= size):
///   nearest:       src = min(floor(dst*cells/size), cells-1)
///   nearest_exact: src = min(floor((dst+0.5)*cells/size), cells-1)
///   bilinear:      src = max(0, (dst+0.5)*cells/size - 0.5), i0 = floor(src),
///                  i1 = min(i0+1, cells-1), t = src - i0
/// The floors are exact integer quotients (no float scale that could land a
/// hair below an integer); t is a ratio of exact integers rounded once.
/// `Int` must hold 2*size*cells.
template <class Int>
CUXPLAIN_HD MaskAxisTap<Int> mask_axis_tap(Interpolation mode, Int dst, Int cells, Int size) {
  const Int last = cells - 1;
  if (mode == Interpolation::nearest) {
    const Int src = dst * cells / size;
    return {src < last ? src : last, src < last ? src : last, 0.0f};
  }
  if (mode == Interpolation::nearest_exact) {
    // floor((dst + 0.5) * cells / size) == ((2*dst + 1) * cells) / (2*size)
    const Int src = (2 * dst + 1) * cells / (2 * size);
    return {src < last ? src : last, src < last ? src : last, 0.0f};
  }
  // bilinear: src = numerator / denominator with both exact integers.
  const Int numerator = (2 * dst + 1) * cells - size;
  const Int denominator = 2 * size;
  if (numerator <= 0) return {0, 0, 0.0f};  // src clamped to 0: weight 0 on cell 1
  const Int i0 = numerator / denominator;
  if (i0 >= last) return {last, last, 0.0f};  // both taps equal: the weight is moot
  const Int remainder = numerator - i0 * denominator;
  const float t =
      static_cast<float>(static_cast<double>(remainder) / static_cast<double>(denominator));
  return {i0, i0 + 1, t};
}

/// Offsets of the (up to) four mask cells a pixel reads, and its weights.
/// Cell (gy, gx) of a mask sits at (gy*grid + gx) * cell_stride + cell_offset:
/// stride 1, offset 0 for one mask per image; stride c, offset = channel for
/// per-channel masks.
template <class Int>
struct MaskTaps {
  Int top_left;
  Int top_right;
  Int bottom_left;
  Int bottom_right;
  float ty;
  float tx;
};

template <class Int>
CUXPLAIN_HD MaskTaps<Int> mask_taps(MaskAxisTap<Int> y, MaskAxisTap<Int> x, Int grid,
                                    Int cell_stride, Int cell_offset) {
  return {(y.i0 * grid + x.i0) * cell_stride + cell_offset,
          (y.i0 * grid + x.i1) * cell_stride + cell_offset,
          (y.i1 * grid + x.i0) * cell_stride + cell_offset,
          (y.i1 * grid + x.i1) * cell_stride + cell_offset,
          y.t, x.t};
}

/// (1 - t) * a + t * b; exact at t = 0 and t = 1.
CUXPLAIN_HD float mask_lerp(float a, float b, float t) {
  return fma_rounded<Rounding::nearest>(t, b, mul_rounded<Rounding::nearest>(1.0f - t, a));
}

/// The horizontal step of mask_value on one row of cells: the cell at
/// offset `left`, or the bilinear mix of `left` and `right` by tx. A walk
/// over whole rows can tabulate it per grid row and reuse it for every
/// pixel row that reads that grid row.
template <bool Bilinear, class Int>
CUXPLAIN_HD float mask_row_mix(const float* mask, Int left, Int right, float tx) {
  if (!Bilinear) return mask[left];
  return mask_lerp(mask[left], mask[right], tx);
}

/// The vertical step of mask_value: the top row's value, or the bilinear mix
/// of the top and bottom rows' values by ty.
template <bool Bilinear>
CUXPLAIN_HD float mask_column_mix(float top, float bottom, float ty) {
  if (!Bilinear) return top;
  return mask_lerp(top, bottom, ty);
}

/// Value of one mask (its first cell at `mask`) at a pixel: the nearest cell,
/// or the bilinear mix (x first, then y, as PyTorch).
template <bool Bilinear, class Int>
CUXPLAIN_HD float mask_value(const float* mask, const MaskTaps<Int>& taps) {
  if (!Bilinear) return mask[taps.top_left];
  return mask_column_mix<true>(
      mask_row_mix<true>(mask, taps.top_left, taps.top_right, taps.tx),
      mask_row_mix<true>(mask, taps.bottom_left, taps.bottom_right, taps.tx), taps.ty);
}

// ----------------------------------------------------------- perturbation ---

/// Perturbed value of pixel x under mask value m:
///   inpainting, blurring: x*m + (1-m)*fill   (fill = baseline, or blur(x) at the pixel)
///   amplitude:            x*(m-0.5)*sigma
CUXPLAIN_HD float perturbed_value(Perturbation kind, float x, float m, float fill, float sigma) {
  if (kind == Perturbation::amplitude) {
    return mul_rounded<Rounding::nearest>(mul_rounded<Rounding::nearest>(x, m - 0.5f), sigma);
  }
  return fma_rounded<Rounding::nearest>(x, m, mul_rounded<Rounding::nearest>(1.0f - m, fill));
}

// --------------------------------------------------------------- box blur ---

/// OpenCV's BORDER_REFLECT_101 (...dcb|abcd|cba...) applied as often as needed,
/// so windows wider than the image still land inside; a 1-pixel axis maps
/// every index to 0.
template <class Int>
CUXPLAIN_HD Int reflect_101(Int i, Int size) {
  if (i >= 0 && i < size) return i;
  if (size == 1) return 0;
  const Int period = 2 * (size - 1);
  i %= period;
  if (i < 0) i += period;
  return i < size ? i : period - i;
}

/// Sum of the blur_size values of a line (row or column; element j at
/// line[j * stride], `length` elements) in the window of `center`:
/// [center - blur_size/2, center + blur_size - 1 - blur_size/2] (OpenCV's
/// anchor at blur_size/2), reflected at the borders, added in window order.
template <class Int>
CUXPLAIN_HD float box_window_sum(const float* line, Int stride, Int length, Int center,
                                 Int blur_size) {
  const Int first = center - blur_size / 2;
  float sum = 0.0f;
  for (Int j = 0; j < blur_size; ++j) sum += line[reflect_101(first + j, length) * stride];
  return sum;
}

// ------------------------------------------------- half-precision outputs ---

CUXPLAIN_HD std::uint32_t float_as_bits(float value) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(value);
#else
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
#endif
}

CUXPLAIN_HD float bits_as_float(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
#endif
}

/// IEEE binary16 bits of `value` rounded to nearest, ties to even. Magnitudes
/// from 65520 up become Inf, tiny values become subnormals or (signed) zero,
/// NaN stays a quiet NaN with its sign and leading payload bits.
CUXPLAIN_HD std::uint16_t float_to_f16_bits(float value) {
  const std::uint32_t bits = float_as_bits(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  // Normal halves, [2^-14, 65520), first: one unsigned range test (smaller
  // magnitudes wrap around) keeps the common case short on the GPU.
  if (magnitude - 0x38800000u < 0x477ff000u - 0x38800000u) {
    // Rebias the exponent (127 -> 15), then round off 13 mantissa bits; a carry
    // out of the mantissa correctly bumps the exponent.
    const std::uint32_t rebased = magnitude - 0x38000000u;
    return static_cast<std::uint16_t>(sign |
                                      ((rebased + 0x0fffu + ((rebased >> 13) & 1u)) >> 13));
  }
  if (magnitude > 0x7f800000u) {  // NaN: quiet, keeping the leading payload bits
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x03ffu));
  }
  if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520, Inf
  // Subnormal half: value / 2^-24 = significand >> (126 - exponent).
  const std::uint32_t exponent = magnitude >> 23;
  const std::uint32_t shift = 126u - exponent;  // >= 14 here
  if (shift > 24u) return static_cast<std::uint16_t>(sign);  // below 2^-25: rounds to 0
  const std::uint32_t significand = (magnitude & 0x007fffffu) | 0x00800000u;
  const std::uint32_t quotient = significand >> shift;
  const std::uint32_t remainder = significand & ((1u << shift) - 1u);
  const std::uint32_t halfway = 1u << (shift - 1u);
  const std::uint32_t round_up =
      (remainder > halfway || (remainder == halfway && (quotient & 1u))) ? 1u : 0u;
  return static_cast<std::uint16_t>(sign | (quotient + round_up));
}

/// bfloat16 bits of `value` rounded to nearest, ties to even (overflow to Inf
/// comes out of the carry); NaN stays a quiet NaN. Both computed and one
/// selected, without a branch: the host compiler vectorizes a loop of these
/// (perturb's bf16 outputs).
CUXPLAIN_HD std::uint16_t float_to_bf16_bits(float value) {
  const std::uint32_t bits = float_as_bits(value);
  const std::uint32_t nan = (bits >> 16) | 0x0040u;
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  return static_cast<std::uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

/// The float value of binary16 bits (exact).
CUXPLAIN_HD float f16_bits_to_float(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1fu;
  const std::uint32_t mantissa = half & 0x03ffu;
  if (exponent == 0x1fu) return bits_as_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return bits_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  // Subnormal or zero: mantissa * 2^-24, exact in float.
  const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
  return sign != 0 ? -magnitude : magnitude;
}

/// The float value of bfloat16 bits (exact).
CUXPLAIN_HD float bf16_bits_to_float(std::uint16_t bf16) {
  return bits_as_float(static_cast<std::uint32_t>(bf16) << 16);
}

/// How an op stores a float result in each output element type.
struct StoreF32 {
  using type = float;
  static CUXPLAIN_HD float encode(float value) { return value; }
};
struct StoreF16 {
  using type = std::uint16_t;
  static CUXPLAIN_HD std::uint16_t encode(float value) { return float_to_f16_bits(value); }
};
struct StoreBF16 {
  using type = std::uint16_t;
  static CUXPLAIN_HD std::uint16_t encode(float value) { return float_to_bf16_bits(value); }
};

}  // namespace cuxplain::detail
