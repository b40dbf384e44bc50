// The CUDA backend of kernels/hsic.inl, and its continuous scores: a block
// owns kTileRows rows j and kTileDims cells i and streams all rows l through
// shared memory in tiles, evaluating the input kernel on the fly; the tiles'
// partial sums are added in tile order.
#include "backend.cuh"

#include "../hsic.inl"

namespace cuxplain::kernels::cuda {
namespace {

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
  for (const std::int64_t i : grid_stride(d)) {
    double sum = 0.0;
    for (std::int64_t t = 0; t < tiles; ++t) sum += partial[t * d + i];
    scores[i] = static_cast<float>(sum / static_cast<double>(n));
  }
}

}  // namespace

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
  launch(ctx, grid, kTileRows * kTileDims, hsic_continuous_kernel, masks, centered_gram, n, d,
         kernel, partial.data());
  launch(ctx, blocks_for(d, 128), 128, reduce_partials_kernel, partial.data(), row_tiles, d, n,
         scores);
}

}  // namespace cuxplain::kernels::cuda
