// The CUDA backend of kernels/craft.inl, and its transpose: 32 x 32 tiles
// through shared memory, so that both the reads and the writes of a warp are
// contiguous.
#include "backend.cuh"

#include "../craft.inl"

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kTile = 32;
constexpr int kTileRows = 8;  // threads per tile column: each moves kTile / kTileRows values

/// Tile (blockIdx.y, blockIdx.x) of every matrix blockIdx.z, blockIdx.z + gridDim.z, ...
__global__ void transpose_kernel(const float* in, std::int64_t batch, std::int64_t rows,
                                 std::int64_t cols, float* out) {
  __shared__ float tile[kTile][kTile + 1];  // +1: no bank conflicts on the column reads
  const std::int64_t r0 = static_cast<std::int64_t>(blockIdx.y) * kTile;
  const std::int64_t c0 = static_cast<std::int64_t>(blockIdx.x) * kTile;
  for (std::int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const float* src = in + b * rows * cols;
    float* dst = out + b * rows * cols;
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const std::int64_t r = r0 + j, c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[j][threadIdx.x] = src[r * cols + c];
    }
    __syncthreads();
    for (int j = threadIdx.y; j < kTile; j += kTileRows) {
      const std::int64_t c = c0 + j, r = r0 + threadIdx.x;  // out row c, column r
      if (c < cols && r < rows) dst[c * rows + r] = tile[threadIdx.x][j];
    }
    __syncthreads();  // the tile is refilled for the next matrix
  }
}

}  // namespace

void batched_transpose(const Context& ctx, const float* in, std::int64_t batch, std::int64_t rows,
                       std::int64_t cols, float* out) {
  if (batch <= 0 || rows <= 0 || cols <= 0) return;
  const std::int64_t row_tiles = (rows + kTile - 1) / kTile;
  const std::int64_t col_tiles = (cols + kTile - 1) / kTile;
  CUXPLAIN_EXPECTS(row_tiles <= 65535 && col_tiles <= 0x7fffffff, "batched_transpose: ", rows,
                   " x ", cols, " matrices exceed the CUDA grid");
  const dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(row_tiles),
                  static_cast<unsigned>(batch < 65535 ? batch : 65535));
  launch(ctx, grid, dim3(kTile, kTileRows), transpose_kernel, in, batch, rows, cols, out);
}

}  // namespace cuxplain::kernels::cuda
