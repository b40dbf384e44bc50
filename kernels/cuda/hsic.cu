// HSIC estimator on CUDA: the same math as kernels/cpu/hsic.cpp
// (include/cuxplain/detail/hsic.hpp); GEMMs through the Context's cuBLAS handle.
#include "../hsic.hpp"
#include "backend.cuh"

#include <cub/block/block_reduce.cuh>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/hsic.hpp>

#include <algorithm>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kReduceThreads = 256;

__global__ void binarize_kernel(float* masks, std::int64_t count) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    masks[i] = detail::binarize_mask_value(masks[i]);
  }
}

/// One block per row j: row_mean[j] = mean_l L_jl (fixed reduction order).
__global__ void gram_row_means_kernel(const float* y, std::int64_t n, double inv_width,
                                      double* row_mean) {
  using Reduce = cub::BlockReduce<double, kReduceThreads>;
  __shared__ typename Reduce::TempStorage storage;
  const std::int64_t j = blockIdx.x;
  const float yj = y[j];
  double sum = 0.0;
  for (std::int64_t l = threadIdx.x; l < n; l += kReduceThreads) {
    sum += detail::hsic_output_kernel(yj, y[l], inv_width);
  }
  const double total = Reduce(storage).Sum(sum);
  if (threadIdx.x == 0) row_mean[j] = total / static_cast<double>(n);
}

/// One block: grand = mean of row means.
__global__ void mean_kernel(const double* values, std::int64_t n, double* mean) {
  using Reduce = cub::BlockReduce<double, kReduceThreads>;
  __shared__ typename Reduce::TempStorage storage;
  double sum = 0.0;
  for (std::int64_t i = threadIdx.x; i < n; i += kReduceThreads) sum += values[i];
  const double total = Reduce(storage).Sum(sum);
  if (threadIdx.x == 0) *mean = total / static_cast<double>(n);
}

__global__ void centered_gram_kernel(const float* y, std::int64_t n, double inv_width,
                                     const double* row_mean, const double* grand_mean,
                                     float* centered_gram) {
  const double grand = *grand_mean;
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < n * n; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = e / n, l = e % n;
    centered_gram[e] = detail::centered_entry(detail::hsic_output_kernel(y[j], y[l], inv_width),
                                              row_mean[j], row_mean[l], grand);
  }
}

/// One block per cell i: scores[i] = scale * sum_j U_ji P_ji.
__global__ void masked_column_sums_kernel(const float* masks, const float* product,
                                          std::int64_t n, std::int64_t d, double scale,
                                          float* scores) {
  using Reduce = cub::BlockReduce<double, kReduceThreads>;
  __shared__ typename Reduce::TempStorage storage;
  const std::int64_t i = blockIdx.x;
  double sum = 0.0;
  for (std::int64_t j = threadIdx.x; j < n; j += kReduceThreads) {
    sum += static_cast<double>(masks[j * d + i]) * product[j * d + i];
  }
  const double total = Reduce(storage).Sum(sum);
  if (threadIdx.x == 0) scores[i] = static_cast<float>(scale * total);
}

// Continuous masks: a block owns kTileRows rows j and kTileDims cells i and
// streams all rows l through shared memory in tiles, evaluating k on the fly.
constexpr int kTileRows = 32;
constexpr int kTileDims = 8;
constexpr int kTileCols = 32;

__global__ void hsic_continuous_kernel(const float* masks, const float* centered_gram,
                                       std::int64_t n, std::int64_t d, HsicKernel kernel,
                                       double* partial) {
  __shared__ float gram_tile[kTileRows][kTileCols + 1];
  __shared__ float x_tile[kTileCols][kTileDims];
  const int row = threadIdx.x % kTileRows;   // j within the tile
  const int cell = threadIdx.x / kTileRows;  // i within the tile
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * kTileRows + row;
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.y) * kTileDims + cell;
  const bool active = j < n && i < d;
  const float xj = active ? masks[j * d + i] : 0.0f;
  double acc = 0.0;
  for (std::int64_t l0 = 0; l0 < n; l0 += kTileCols) {
    // kTileRows * kTileDims = 256 threads load the 32 x 32 Lc tile (4 each,
    // consecutive threads on consecutive columns) and the 32 x 8 x tile.
    for (int e = threadIdx.x; e < kTileRows * kTileCols; e += blockDim.x) {
      const int r = e / kTileCols, c = e % kTileCols;
      const std::int64_t gj = static_cast<std::int64_t>(blockIdx.x) * kTileRows + r;
      const std::int64_t gl = l0 + c;
      gram_tile[r][c] = (gj < n && gl < n) ? centered_gram[gj * n + gl] : 0.0f;
    }
    {
      const int c = threadIdx.x / kTileDims, t = threadIdx.x % kTileDims;
      const std::int64_t gl = l0 + c, gi = static_cast<std::int64_t>(blockIdx.y) * kTileDims + t;
      x_tile[c][t] = (gl < n && gi < d) ? masks[gl * d + gi] : 0.0f;
    }
    __syncthreads();
    if (active) {
      const int cols = n - l0 < kTileCols ? static_cast<int>(n - l0) : kTileCols;
      float tile_sum = 0.0f;
      for (int c = 0; c < cols; ++c) {
        tile_sum += detail::hsic_input_kernel(kernel, xj, x_tile[c][cell]) * gram_tile[row][c];
      }
      acc += tile_sum;
    }
    __syncthreads();
  }
  if (active) partial[static_cast<std::int64_t>(blockIdx.x) * d + i] = acc;
}

/// scores[i] = sum over row tiles of partial / N, in tile order.
__global__ void reduce_partials_kernel(const double* partial, std::int64_t tiles, std::int64_t d,
                                       std::int64_t n, float* scores) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < d;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    double sum = 0.0;
    for (std::int64_t t = 0; t < tiles; ++t) sum += partial[t * d + i];
    scores[i] = static_cast<float>(sum / static_cast<double>(n));
  }
}

/// Panels of the interaction GEMM for pair rows r = (a, b), a in [a0, a0 + rows/n).
__global__ void interaction_panels_kernel(const float* masks, const float* centered_gram,
                                          std::int64_t n, std::int64_t d, HsicKernel kernel,
                                          std::int64_t a0, std::int64_t rows, float* kernel_panel,
                                          float* weighted_panel) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < rows * d; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = e / d, i = e % d;
    const std::int64_t a = a0 + r / n, b = r % n;
    const float k = detail::hsic_input_kernel(kernel, masks[a * d + i], masks[b * d + i]);
    kernel_panel[e] = k;
    weighted_panel[e] = centered_gram[a * n + b] * k;
  }
}

__global__ void accumulate_kernel(const float* chunk, std::int64_t count, double* total) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < count; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    total[e] += chunk[e];
  }
}

__global__ void finish_interactions_kernel(const double* total, std::int64_t d, std::int64_t n,
                                           float* interactions) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < d * d; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = e / d, j = e % d;
    interactions[e] = detail::interaction_entry(total[i * d + j], total[j * d + i], n, i == j);
  }
}

}  // namespace

void binarize_masks(const Context& ctx, float* masks, std::int64_t count) {
  if (count <= 0) return;
  binarize_kernel<<<blocks_for(count, 256), 256, 0, ctx.stream()>>>(masks, count);
  CUXPLAIN_CHECK_LAUNCH();
}

void hsic_centered_gram(const Context& ctx, const float* y, std::int64_t nb_design, float width,
                        float* centered_gram) {
  const std::int64_t n = nb_design;
  const double inv_width = detail::hsic_inverse_width(width);
  Buffer<double> row_mean(ctx, n);
  Buffer<double> grand(ctx, 1);
  gram_row_means_kernel<<<static_cast<unsigned>(n), kReduceThreads, 0, ctx.stream()>>>(
      y, n, inv_width, row_mean.data());
  CUXPLAIN_CHECK_LAUNCH();
  mean_kernel<<<1, kReduceThreads, 0, ctx.stream()>>>(row_mean.data(), n, grand.data());
  CUXPLAIN_CHECK_LAUNCH();
  centered_gram_kernel<<<blocks_for(n * n, 256), 256, 0, ctx.stream()>>>(
      y, n, inv_width, row_mean.data(), grand.data(), centered_gram);
  CUXPLAIN_CHECK_LAUNCH();
}

void hsic_scores_binary(const Context& ctx, const float* masks, std::int64_t nb_design,
                        std::int64_t d, HsicKernel kernel, const float* centered_gram,
                        float* scores) {
  const std::int64_t n = nb_design;
  Buffer<float> product(ctx, n * d);
  gemm(ctx, false, false, n, d, n, 1.0f, centered_gram, n, masks, d, 0.0f, product.data(), d);
  const double scale = detail::hsic_binary_coefficient(kernel) / static_cast<double>(n);
  masked_column_sums_kernel<<<static_cast<unsigned>(d), kReduceThreads, 0, ctx.stream()>>>(
      masks, product.data(), n, d, scale, scores);
  CUXPLAIN_CHECK_LAUNCH();
}

void hsic_scores_continuous(const Context& ctx, const float* masks, std::int64_t nb_design,
                            std::int64_t d, HsicKernel kernel, const float* centered_gram,
                            float* scores) {
  const std::int64_t n = nb_design;
  const std::int64_t row_tiles = (n + kTileRows - 1) / kTileRows;
  const std::int64_t dim_tiles = (d + kTileDims - 1) / kTileDims;
  CUXPLAIN_EXPECTS(dim_tiles <= 65535, "hsic_scores: d = ", d, " exceeds the supported ",
                   65535 * kTileDims, " cells");
  Buffer<double> partial(ctx, row_tiles * d);
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>(dim_tiles));
  hsic_continuous_kernel<<<grid, kTileRows * kTileDims, 0, ctx.stream()>>>(
      masks, centered_gram, n, d, kernel, partial.data());
  CUXPLAIN_CHECK_LAUNCH();
  reduce_partials_kernel<<<blocks_for(d, 128), 128, 0, ctx.stream()>>>(partial.data(), row_tiles,
                                                                      d, n, scores);
  CUXPLAIN_CHECK_LAUNCH();
}

void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                       std::int64_t d, HsicKernel kernel, const float* centered_gram,
                       float* interactions) {
  const std::int64_t n = nb_design;
  const std::int64_t chunk = detail::interaction_chunk_rows(n, d);
  Buffer<float> kernel_panel(ctx, chunk * n * d);
  Buffer<float> weighted_panel(ctx, chunk * n * d);
  Buffer<float> chunk_sum(ctx, d * d);
  Buffer<double> total(ctx, d * d);
  CUXPLAIN_CUDA_TRY(cudaMemsetAsync(total.data(), 0, total.bytes(), ctx.stream()));
  for (std::int64_t a0 = 0; a0 < n; a0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - a0) * n;
    interaction_panels_kernel<<<blocks_for(rows * d, 256), 256, 0, ctx.stream()>>>(
        masks, centered_gram, n, d, kernel, a0, rows, kernel_panel.data(), weighted_panel.data());
    CUXPLAIN_CHECK_LAUNCH();
    gemm(ctx, true, false, d, d, rows, 1.0f, kernel_panel.data(), d, weighted_panel.data(), d,
         0.0f, chunk_sum.data(), d);
    accumulate_kernel<<<blocks_for(d * d, 256), 256, 0, ctx.stream()>>>(chunk_sum.data(), d * d,
                                                                     total.data());
    CUXPLAIN_CHECK_LAUNCH();
  }
  finish_interactions_kernel<<<blocks_for(d * d, 256), 256, 0, ctx.stream()>>>(total.data(), d, n,
                                                                            interactions);
  CUXPLAIN_CHECK_LAUNCH();
}

}  // namespace cuxplain::kernels::cuda
