#pragma once
// Per-element HSIC math shared by both backends: input kernels, the output RBF
// kernel, mask binarization and the centring of a Gram matrix.
#include <cmath>
#include <cstdint>

#include "../core/options.hpp"
#include "hd.hpp"

namespace cuxplain::detail {

/// np.round / tf.round of a mask value in [0, 1]: half to even, so 0.5 -> 0.
CUXPLAIN_HD float binarize_mask_value(float value) { return value > 0.5f ? 1.0f : 0.0f; }

/// Width of HsicKernel::rbf on mask values (xplique's RbfEstimator).
constexpr float kHsicInputRbfWidth = 0.5f;

/// k(x, x') of an input kernel on one cell's mask values.
CUXPLAIN_HD float hsic_input_kernel(HsicKernel kernel, float x, float y) {
  const float diff = x - y;
  switch (kernel) {
    case HsicKernel::binary:
      return 0.5f - diff * diff;
    case HsicKernel::rbf:
      return expf(-diff * diff / (2.0f * kHsicInputRbfWidth * kHsicInputRbfWidth));
    case HsicKernel::sobolev: {
      const float t = fabsf(diff);
      const float bernoulli2 = t * t - t + 1.0f / 6.0f;
      return 0.5f * bernoulli2 + (fabsf(x) - 0.5f) * (fabsf(y) - 0.5f);
    }
  }
  return 0.0f;
}

/// On 0/1 masks any symmetric kernel is k(u, v) = a + b (u + v) + c u v, and
/// against a centred Gram matrix (rows and columns summing to 0) only the c
/// term survives: sum_jl k(u_j, u_l) Lc_jl = c u^T Lc u. This is c.
CUXPLAIN_HD float hsic_binary_coefficient(HsicKernel kernel) {
  return hsic_input_kernel(kernel, 1.0f, 1.0f) - 2.0f * hsic_input_kernel(kernel, 0.0f, 1.0f) +
         hsic_input_kernel(kernel, 0.0f, 0.0f);
}

/// 1 / w, the argument hsic_output_kernel takes: finite for every float w > 0.
CUXPLAIN_HD double hsic_inverse_width(float width) { return 1.0 / static_cast<double>(width); }

/// L_jl = exp(-(y_j - y_l)^2 / (2 w^2)) given inv_width = 1 / w, as
/// exp(-t^2 / 2) with t = (y_j - y_l) / w in double: for any finite outputs
/// and width t^2 < 1e168, so L is a number in [0, 1]. (In float, outputs
/// near 1e19 overflowed (y_j - y_l)^2 and 2 w^2 together: inf * 0 = NaN.)
CUXPLAIN_HD float hsic_output_kernel(float yj, float yl, double inv_width) {
  const double t = (static_cast<double>(yj) - static_cast<double>(yl)) * inv_width;
  return static_cast<float>(exp(-0.5 * t * t));
}

/// (H L H)_jl = L_jl - r_j - r_l + g for a symmetric L with row means r and
/// grand mean g.
CUXPLAIN_HD float centered_entry(float l_jl, double row_mean_j, double row_mean_l,
                                 double grand_mean) {
  return static_cast<float>(static_cast<double>(l_jl) - row_mean_j - row_mean_l + grand_mean);
}

/// Interaction S_ij from the accumulated sums T = K^T diag(Lc) K: T is
/// symmetric up to rounding, so both halves are averaged; divided by N; the
/// diagonal (not an interaction) is 0.
CUXPLAIN_HD float interaction_entry(double t_ij, double t_ji, std::int64_t n, bool diagonal) {
  return diagonal ? 0.0f : static_cast<float>(0.5 * (t_ij + t_ji) / static_cast<double>(n));
}

/// Rows a of the (a, b) pair matrix per interaction GEMM chunk, so that a
/// chunk's two (rows * N) x d panels stay near 2^24 floats each.
inline std::int64_t interaction_chunk_rows(std::int64_t nb_design, std::int64_t d) {
  const std::int64_t budget = std::int64_t{1} << 24;
  const std::int64_t per_row = nb_design * d > 0 ? nb_design * d : 1;
  const std::int64_t rows = budget / per_row;
  return rows < 1 ? 1 : (rows > nb_design ? nb_design : rows);
}

}  // namespace cuxplain::detail
