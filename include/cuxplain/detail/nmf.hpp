#pragma once
// Per-element NMF math shared by both backends: the multiplicative update of
// one factor entry, the coordinate-descent update of one factor row and its
// stopping rule, the objective from its accumulated terms, NNDSVD's rule for
// one entry and the seeded normal draws of the random initialization and of
// the randomized SVD's sketch.
#include <cmath>
#include <cstdint>

#include "hd.hpp"
#include "qmc.hpp"

namespace cuxplain::detail {

/// What replaces a zero denominator of an update: float32's machine epsilon
/// (scikit-learn's EPSILON).
constexpr float kNmfEpsilon = 1.1920928955078125e-07f;

/// NNDSVD entries below this are set to zero (scikit-learn's eps of
/// _initialize_nmf), then to the fill value for NNDSVDa.
constexpr float kNndsvdZero = 1e-6f;

/// Blocks (CUDA) or chunks (host) of the partial sums of the reductions over
/// a factor; a fixed number, so that each backend's sums are repeatable.
constexpr std::int64_t kNmfReduceBlocks = 512;

/// Salts of the random streams, so that the factors and the sketch of one
/// seed are independent.
constexpr std::uint64_t kNmfRandomUSalt = 0x510e527fade682d1ull;
constexpr std::uint64_t kNmfRandomWSalt = 0x9b05688c2b3e6c1full;
constexpr std::uint64_t kNmfSketchSalt = 0x1f83d9abfb41bd6bull;

/// One entry of a multiplicative update (Lee and Seung; scikit-learn's
/// _multiplicative_update_w/_h for the Frobenius loss):
///   x' = x * numerator / (denominator + l1 + l2 x),
/// with a zero denominator replaced by kNmfEpsilon. numerator is (A W^T)_ij
/// for U, (U^T A)_ij for W; denominator is (U W W^T)_ij, ((U^T U) W)_ij.
CUXPLAIN_HD float nmf_update_value(float x, float numerator, float denominator, float l1,
                                   float l2) {
  float den = denominator + l1;
  den = den + l2 * x;
  if (den == 0.0f) den = kNmfEpsilon;
  return x * (numerator / den);
}

/// acc + a b rounded after the product and after the sum, never fused: the
/// coordinate-descent gradient is scikit-learn's float32 loop, which x86-64
/// builds compute without FMA. nvcc contracts a * b + c by default, hence
/// the intrinsics on the device.
CUXPLAIN_HD float nmf_mul_add(float acc, float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(acc, __fmul_rn(a, b));
#else
  return acc + a * b;
#endif
}

/// The coordinate-descent update of one factor row (scikit-learn's
/// _update_cdnmf_fast for one sample, permutation 0..r-1), in float32 as
/// scikit-learn computes it. For t = 0..r-1 in order, with x the row,
/// cross_t its entry of A H^T (U's sweep: A W^T; W's sweep: (U^T A)^T) and
/// gram the r x r H H^T:
///   g    = -(cross_t - l1) + sum_q (gram_tq + [q == t] l2) x_q   (q in order)
///   |pg| = |min(g, 0)| when x_t == 0, else |g|     (added to the violation)
///   x_t  = max(x_t - g / (gram_tt + l2), 0)        (unless gram_tt + l2 == 0)
/// scikit-learn subtracts l1 from X H^T and adds l2 to the Gram's diagonal in
/// float32 beforehand: the same roundings. The pieces below are that math;
/// nmf_cd_row composes them for one row, and the host walks blocks of rows
/// through them component by component (the same operations per row).

/// g's first term.
CUXPLAIN_HD float nmf_cd_gradient_start(float cross, float l1) { return -(cross - l1); }

/// The Gram's entry (t, q), with the L2 penalty on the diagonal.
CUXPLAIN_HD float nmf_cd_gram(const float* gram, std::int64_t r, std::int64_t t, std::int64_t q,
                              float l2) {
  return q == t ? gram[t * r + q] + l2 : gram[t * r + q];
}

/// |pg| of a coordinate whose value before its step is `value`.
CUXPLAIN_HD float nmf_cd_violation(float value, float grad) {
  return fabsf(value == 0.0f ? (grad < 0.0f ? grad : 0.0f) : grad);
}

/// The coordinate's new value (unchanged when the curvature is 0).
CUXPLAIN_HD float nmf_cd_step(float value, float grad, float hessian) {
  if (hessian == 0.0f) return value;
  const float step = value - grad / hessian;
  return step > 0.0f ? step : 0.0f;
}

/// One row: x and cross hold its r entries at stride `stride`. Returns the
/// row's violation, summed in double in component order.
CUXPLAIN_HD double nmf_cd_row(float* x, std::int64_t stride, const float* cross,
                              const float* gram, std::int64_t r, float l1, float l2) {
  double violation = 0.0;
  for (std::int64_t t = 0; t < r; ++t) {
    float grad = nmf_cd_gradient_start(cross[t * stride], l1);
    for (std::int64_t q = 0; q < r; ++q) {
      grad = nmf_mul_add(grad, nmf_cd_gram(gram, r, t, q, l2), x[q * stride]);
    }
    const float value = x[t * stride];
    violation += nmf_cd_violation(value, grad);
    x[t * stride] = nmf_cd_step(value, grad, nmf_cd_gram(gram, r, t, t, l2));
  }
  return violation;
}

/// Where a coordinate-descent run stands: on the device with CUDA, so that
/// the stopping test needs no read-back (see nmf::Options::tol).
struct NmfCdState {
  double violation_init = 0.0;  ///< violation of iteration 1
  double violation = 0.0;       ///< violation of the last iteration run
  std::int64_t stopped_at = 0;  ///< the iteration the rule stopped at; 0 while running
};

/// Records iteration `iteration`'s violation and applies scikit-learn's
/// rule (stop when violation_init == 0 or violation / violation_init <=
/// tol). Nothing changes once stopped: the sweeps of later iterations are
/// skipped and their violation (0) is not theirs.
CUXPLAIN_HD void nmf_cd_record(NmfCdState* state, double violation, std::int64_t iteration,
                               double tol) {
  if (state->stopped_at != 0) return;
  if (iteration == 1) state->violation_init = violation;
  state->violation = violation;
  if (state->violation_init == 0.0 || violation / state->violation_init <= tol) {
    state->stopped_at = iteration;
  }
}

/// Blocks (CUDA, kNmfCdThreads rows each per pass) or chunks (host) of a
/// coordinate-descent sweep over `rows` rows: one violation partial each.
/// Small blocks, since a row is r^2 work: more of the GPU busy at CRAFT's n.
constexpr std::int64_t kNmfCdThreads = 64;
inline std::int64_t nmf_cd_blocks(std::int64_t rows) {
  const std::int64_t blocks = (rows + kNmfCdThreads - 1) / kNmfCdThreads;
  return blocks < 1 ? 1 : (blocks > kNmfReduceBlocks ? kNmfReduceBlocks : blocks);
}

/// Penalty coefficients of the objective
///   0.5 ||A - U W||_F^2 + l1_u sum(U) + 0.5 l2_u ||U||_F^2
///                       + l1_w sum(W) + 0.5 l2_w ||W||_F^2.
struct NmfPenalties {
  float l1_u = 0.0f, l2_u = 0.0f, l1_w = 0.0f, l2_w = 0.0f;
};

/// Sums accumulated over one factor X (against a same-shaped matrix N):
/// [0] sum N o X, [1] sum X, [2] sum X^2.
constexpr int kNmfTerms = 3;

/// The objective and ||A - U W||_F^2 from the Gram form, without forming U W:
///   ||A - U W||^2 = ||A||^2 - 2 <A, U W> + <U^T U, W W^T>,
/// where <A, U W> = sum (U^T A) o W = sum (A W^T) o U is cross_terms[0] and
/// gram_dot = <U^T U, W W^T>. u_terms / w_terms give the penalties' sums; a
/// null w_terms leaves W's penalty out (transform, W fixed). Rounding can
/// make the residual of a near-exact fit slightly negative: it is clamped at 0.
/// out[0] = objective, out[1] = ||A - U W||^2.
CUXPLAIN_HD void nmf_objective(double norm_a2, const double* cross_terms, const double* u_terms,
                               const double* w_terms, double gram_dot, NmfPenalties penalties,
                               double* out) {
  double residual = norm_a2 - 2.0 * cross_terms[0] + gram_dot;
  residual = residual > 0.0 ? residual : 0.0;
  double objective = 0.5 * residual + static_cast<double>(penalties.l1_u) * u_terms[1] +
                     0.5 * static_cast<double>(penalties.l2_u) * u_terms[2];
  if (w_terms != nullptr) {
    objective += static_cast<double>(penalties.l1_w) * w_terms[1] +
                 0.5 * static_cast<double>(penalties.l2_w) * w_terms[2];
  }
  out[0] = objective;
  out[1] = residual;
}

/// Which part of a singular vector an NNDSVD component keeps.
enum class NndsvdPart : int {
  absolute = 0,  ///< |x| (the leading component, whose vectors are one-signed)
  positive = 1,  ///< max(x, 0)
  negative = 2,  ///< max(-x, 0)
};

/// Per component j: factor column (U) or row (W) = scale * part(singular vector j).
struct NndsvdComponent {
  float scale = 0.0f;
  NndsvdPart part = NndsvdPart::absolute;
};

/// One entry of an NNDSVD factor (Boutsidis and Gallopoulos 2008, as
/// scikit-learn's _initialize_nmf): the kept part of the singular vector's
/// entry x, scaled; entries below kNndsvdZero become `fill` (0 for NNDSVD,
/// mean(A) for NNDSVDa).
CUXPLAIN_HD float nndsvd_value(float x, NndsvdComponent component, float fill) {
  float value = component.part == NndsvdPart::absolute ? fabsf(x)
                : component.part == NndsvdPart::positive ? (x > 0.0f ? x : 0.0f)
                                                         : (x < 0.0f ? -x : 0.0f);
  value *= component.scale;
  return value < kNndsvdZero ? fill : value;
}

/// Stream of random draws `salt` of a seed.
CUXPLAIN_HD std::uint64_t nmf_random_key(std::uint64_t seed, std::uint64_t salt) {
  return stream_key(seed, salt, 0);
}

/// Standard normal draw `index` of a stream (Box-Muller on the two 32-bit
/// halves of one splitmix64 output, in double, rounded to float: the two
/// backends agree up to the last bit of their double log and cosine).
CUXPLAIN_HD float nmf_normal(std::uint64_t key, std::uint64_t index) {
  const std::uint64_t bits = stream_bits(key, index);
  const double u1 = (static_cast<double>(bits >> 32) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  const double u2 = static_cast<double>(bits & 0xffffffffull) * (1.0 / 4294967296.0);  // [0, 1)
#if defined(__CUDA_ARCH__)
  // cos(2 pi u2) as cospi: no reduction of large arguments, whose slow path
  // would give the kernel a stack frame (tools/ptxas_gate.py).
  const double cosine = cospi(2.0 * u2);
#else
  const double cosine = cos(6.283185307179586 * u2);
#endif
  return static_cast<float>(sqrt(-2.0 * log(u1)) * cosine);
}

/// Entry `index` of a random factor: scale * |N(0, 1)| (scikit-learn's
/// init='random' with scale = sqrt(mean(A) / rank)), or a signed draw.
CUXPLAIN_HD float nmf_random_value(std::uint64_t key, std::uint64_t index, float scale,
                                   bool absolute) {
  const float z = nmf_normal(key, index);
  return scale * (absolute ? fabsf(z) : z);
}

/// The reduction's blocks for `count` entries (CUDA: 256 threads each).
inline std::int64_t nmf_reduce_blocks(std::int64_t count) {
  const std::int64_t blocks = (count + 255) / 256;
  return blocks < 1 ? 1 : (blocks > kNmfReduceBlocks ? kNmfReduceBlocks : blocks);
}

/// What a pass over a matrix finds: the sum and sum of squares of its entries
/// (double) and the first (row-major) index of a negative or non-finite
/// entry, -1 when there is none.
struct NmfScan {
  double sum = 0.0;
  double sum_squares = 0.0;
  std::int64_t first_invalid = -1;
};

/// An entry NMF accepts: finite and >= 0.
CUXPLAIN_HD bool nmf_valid_entry(float x) { return x >= 0.0f && x <= 3.4028234663852886e38f; }

}  // namespace cuxplain::detail
