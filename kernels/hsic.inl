// HSIC's centring, binary scores and interaction panels, written once over
// the execution contract (kernels/backend.hpp) and compiled for each backend
// by kernels/cpu/hsic.cpp and kernels/cuda/hsic.cu, beside the continuous
// scores (GPU-shaped: shared-memory tiles on CUDA). The math is
// detail/hsic.hpp; host/explain/hsic_estimator.cpp orchestrates the
// interaction GEMMs.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/hsic.hpp>

#include "hsic.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace hsic_ops {

struct Binarize {
  float* masks;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    masks[i] = cuxplain::detail::binarize_mask_value(masks[i]);
  }
};

/// L_jl, summed over l for row j.
struct OutputKernel {
  const float* y;
  double inv_width;
  CUXPLAIN_HD double operator()(std::int64_t j, std::int64_t l) const {
    return cuxplain::detail::hsic_output_kernel(y[j], y[l], inv_width);
  }
};

/// The row means, summed for the grand mean.
struct RowMean {
  const double* row_sums;
  std::int64_t n;
  CUXPLAIN_HD double operator()(std::int64_t, std::int64_t j) const {
    return row_sums[j] / static_cast<double>(n);
  }
};

struct CenteredGram {
  const float* y;
  std::int64_t n;
  double inv_width;
  const double* row_sums;
  const double* grand_sum;
  float* centered_gram;
  CUXPLAIN_HD void operator()(std::int64_t j, std::int64_t l) const {
    const double size = static_cast<double>(n);
    centered_gram[j * n + l] = cuxplain::detail::centered_entry(
        cuxplain::detail::hsic_output_kernel(y[j], y[l], inv_width), row_sums[j] / size,
        row_sums[l] / size, *grand_sum / size);
  }
};

/// U_ji P_ji, summed over j for cell i.
struct MaskedProduct {
  const float* masks;
  const float* product;
  std::int64_t d;
  CUXPLAIN_HD double operator()(std::int64_t i, std::int64_t j) const {
    return static_cast<double>(masks[j * d + i]) * product[j * d + i];
  }
};

struct ScaledScore {
  const double* sums;
  double scale;
  float* scores;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    scores[i] = static_cast<float>(scale * sums[i]);
  }
};

/// Pair row r = (a, b), a = a0 + r / n: k_i(x_a, x_b) and Lc_ab k_i.
struct InteractionPanels {
  const float* masks;
  const float* centered_gram;
  std::int64_t n, d;
  HsicKernel kernel;
  std::int64_t a0;
  float* kernel_panel;
  float* weighted_panel;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t i) const {
    const std::int64_t a = a0 + r / n, b = r % n;
    const float k = cuxplain::detail::hsic_input_kernel(kernel, masks[a * d + i], masks[b * d + i]);
    kernel_panel[r * d + i] = k;
    weighted_panel[r * d + i] = centered_gram[a * n + b] * k;
  }
};

struct Accumulate {
  const float* chunk;
  double* total;
  CUXPLAIN_HD void operator()(std::int64_t e) const { total[e] += chunk[e]; }
};

struct FinishInteractions {
  const double* total;
  std::int64_t d, n;
  float* interactions;
  CUXPLAIN_HD void operator()(std::int64_t i, std::int64_t j) const {
    interactions[i * d + j] =
        cuxplain::detail::interaction_entry(total[i * d + j], total[j * d + i], n, i == j);
  }
};

}  // namespace hsic_ops

void binarize_masks(const Context& ctx, float* masks, std::int64_t count) {
  for_each(ctx, count, hsic_ops::Binarize{masks});
}

void hsic_centered_gram(const Context& ctx, const float* y, std::int64_t nb_design, float width,
                        float* centered_gram) {
  const std::int64_t n = nb_design;
  const double inv_width = cuxplain::detail::hsic_inverse_width(width);
  Buffer<double> sums(ctx, n + 1, "the output Gram's row sums of hsic");
  double* row_sums = sums.data();
  double* grand_sum = sums.data() + n;
  segmented_sum(ctx, n, n, hsic_ops::OutputKernel{y, inv_width}, row_sums);
  segmented_sum(ctx, 1, n, hsic_ops::RowMean{row_sums, n}, grand_sum, Policy::serial());
  for_each(ctx, Extent2{n, n},
           hsic_ops::CenteredGram{y, n, inv_width, row_sums, grand_sum, centered_gram});
}

void hsic_scores_binary(const Context& ctx, const float* masks, std::int64_t nb_design,
                        std::int64_t d, HsicKernel kernel, const float* centered_gram,
                        float* scores) {
  const std::int64_t n = nb_design;
  // P = Lc U (N x d); score_i = c / N * sum_j U_ji P_ji.
  Buffer<float> product(ctx, n * d, "the product Lc U of hsic");
  Buffer<double> sums(ctx, d, "the binary score sums of hsic");
  gemm(ctx, false, false, n, d, n, 1.0f, centered_gram, n, masks, d, 0.0f, product.data(), d);
  segmented_sum(ctx, d, n, hsic_ops::MaskedProduct{masks, product.data(), d}, sums.data());
  const double scale =
      cuxplain::detail::hsic_binary_coefficient(kernel) / static_cast<double>(n);
  for_each(ctx, d, hsic_ops::ScaledScore{sums.data(), scale, scores});
}

void hsic_interaction_panels(const Context& ctx, const float* masks, std::int64_t nb_design,
                             std::int64_t d, HsicKernel kernel, const float* centered_gram,
                             std::int64_t a0, std::int64_t rows, float* kernel_panel,
                             float* weighted_panel) {
  for_each(ctx, Extent2{rows, d},
           hsic_ops::InteractionPanels{masks, centered_gram, nb_design, d, kernel, a0,
                                       kernel_panel, weighted_panel});
}

void hsic_accumulate(const Context& ctx, const float* chunk, std::int64_t count, double* total) {
  for_each(ctx, count, hsic_ops::Accumulate{chunk, total});
}

void hsic_finish_interactions(const Context& ctx, const double* total, std::int64_t d,
                              std::int64_t nb_design, float* interactions) {
  for_each(ctx, Extent2{d, d}, hsic_ops::FinishInteractions{total, d, nb_design, interactions});
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
