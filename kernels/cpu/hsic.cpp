// HSIC estimator on the host: the same math as kernels/cuda/hsic.cu
// (include/cuxplain/detail/hsic.hpp), walked with loops.
#include "../hsic.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/hsic.hpp>

#include <algorithm>
#include <vector>

#include "backend.hpp"

namespace cuxplain::kernels::cpu {
namespace {

/// Rows of j handled per partial sum: fixed, so sums are repeatable whatever
/// the number of threads.
constexpr std::int64_t kRowBlock = 64;

}  // namespace

void binarize_masks(const Context&, float* masks, std::int64_t count) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) masks[i] = detail::binarize_mask_value(masks[i]);
}

void hsic_centered_gram(const Context&, const float* y, std::int64_t nb_design, float width,
                        float* centered_gram) {
  const std::int64_t n = nb_design;
  const double inv_width = detail::hsic_inverse_width(width);
  std::vector<double> row_mean(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static)
  for (std::int64_t j = 0; j < n; ++j) {
    double sum = 0.0;
    for (std::int64_t l = 0; l < n; ++l) sum += detail::hsic_output_kernel(y[j], y[l], inv_width);
    row_mean[j] = sum / static_cast<double>(n);
  }
  double grand = 0.0;
  for (double r : row_mean) grand += r;
  grand /= static_cast<double>(n);
#pragma omp parallel for schedule(static)
  for (std::int64_t j = 0; j < n; ++j) {
    for (std::int64_t l = 0; l < n; ++l) {
      centered_gram[j * n + l] = detail::centered_entry(
          detail::hsic_output_kernel(y[j], y[l], inv_width), row_mean[j], row_mean[l], grand);
    }
  }
}

void hsic_scores_binary(const Context& ctx, const float* masks, std::int64_t nb_design,
                        std::int64_t d, HsicKernel kernel, const float* centered_gram,
                        float* scores) {
  const std::int64_t n = nb_design;
  // P = Lc U (N x d); score_i = c / N * sum_j U_ji P_ji.
  Buffer<float> product(ctx, n * d);
  gemm(ctx, false, false, n, d, n, 1.0f, centered_gram, n, masks, d, 0.0f, product.data(), d);
  const double scale = detail::hsic_binary_coefficient(kernel) / static_cast<double>(n);
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < d; ++i) {
    double sum = 0.0;
    for (std::int64_t j = 0; j < n; ++j) {
      sum += static_cast<double>(masks[j * d + i]) * product.data()[j * d + i];
    }
    scores[i] = static_cast<float>(scale * sum);
  }
}

void hsic_scores_continuous(const Context&, const float* masks, std::int64_t nb_design,
                            std::int64_t d, HsicKernel kernel, const float* centered_gram,
                            float* scores) {
  const std::int64_t n = nb_design;
  const std::int64_t blocks = (n + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(static_cast<std::size_t>(blocks * d), 0.0);
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t block = 0; block < blocks; ++block) {
    double* acc = partial.data() + block * d;
    const std::int64_t j1 = std::min(n, (block + 1) * kRowBlock);
    for (std::int64_t j = block * kRowBlock; j < j1; ++j) {
      const float* xj = masks + j * d;
      for (std::int64_t l = 0; l < n; ++l) {
        const float lc = centered_gram[j * n + l];
        const float* xl = masks + l * d;
        for (std::int64_t i = 0; i < d; ++i) {
          acc[i] += static_cast<double>(detail::hsic_input_kernel(kernel, xj[i], xl[i]) * lc);
        }
      }
    }
  }
  for (std::int64_t i = 0; i < d; ++i) {
    double sum = 0.0;
    for (std::int64_t block = 0; block < blocks; ++block) sum += partial[block * d + i];
    scores[i] = static_cast<float>(sum / static_cast<double>(n));
  }
}

void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                       std::int64_t d, HsicKernel kernel, const float* centered_gram,
                       float* interactions) {
  // S = sum over pairs (a, b) of Lc_ab k_ab k_ab^T with k_ab[i] = k(x_ai, x_bi):
  // K^T diag(Lc) K over the N^2 pairs, as GEMMs over chunks of rows a.
  const std::int64_t n = nb_design;
  const std::int64_t chunk = detail::interaction_chunk_rows(n, d);
  Buffer<float> kernel_panel(ctx, chunk * n * d);
  Buffer<float> weighted_panel(ctx, chunk * n * d);
  Buffer<float> chunk_sum(ctx, d * d);
  std::vector<double> total(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t a0 = 0; a0 < n; a0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - a0) * n;
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t a = a0 + r / n, b = r % n;
      const float lc = centered_gram[a * n + b];
      for (std::int64_t i = 0; i < d; ++i) {
        const float k = detail::hsic_input_kernel(kernel, masks[a * d + i], masks[b * d + i]);
        kernel_panel.data()[r * d + i] = k;
        weighted_panel.data()[r * d + i] = lc * k;
      }
    }
    gemm(ctx, true, false, d, d, rows, 1.0f, kernel_panel.data(), d, weighted_panel.data(), d, 0.0f,
          chunk_sum.data(), d);
    for (std::int64_t e = 0; e < d * d; ++e) total[e] += chunk_sum.data()[e];
  }
  for (std::int64_t i = 0; i < d; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      interactions[i * d + j] = detail::interaction_entry(total[i * d + j], total[j * d + i], n, i == j);
    }
  }
}

}  // namespace cuxplain::kernels::cpu
