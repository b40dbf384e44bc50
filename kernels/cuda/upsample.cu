// Heatmap upsampling on CUDA: one thread per output element (channel fastest,
// so neighbouring threads write neighbouring floats). Bicubic first tabulates
// the taps of every output row and column (h + w entries, computed in double
// once), then each element reads its two entries and its 16 cells, which
// stay in L1 (grids are a few hundred floats).
#include "../upsample.hpp"
#include "backend.cuh"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/upsample.hpp>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

/// Image, row, column and channel of output element `i` (n x h x w x channels).
struct OutputIndex {
  std::int64_t image, y, x, channel;
};

__device__ OutputIndex split_output_index(std::int64_t i, std::int64_t h, std::int64_t w,
                                          std::int64_t channels) {
  OutputIndex index;
  index.channel = i % channels;
  i /= channels;
  index.x = i % w;
  i /= w;
  index.y = i % h;
  index.image = i / h;
  return index;
}

/// taps[0, h): output rows; taps[h, h + w): output columns. TensorFlow: the
/// taps of tf.image.resize's bicubic instead of cv2's.
template <bool TensorFlow>
__global__ void cubic_taps_kernel(std::int64_t grid_h, std::int64_t grid_w, std::int64_t h,
                                  std::int64_t w, detail::CubicTaps* taps) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < h + w;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    if constexpr (TensorFlow) {
      taps[i] = i < h ? detail::tf_cubic_taps(i, grid_h, h) : detail::tf_cubic_taps(i - h, grid_w, w);
    } else {
      taps[i] = i < h ? detail::cubic_taps(i, grid_h, h) : detail::cubic_taps(i - h, grid_w, w);
    }
  }
}

template <bool TensorFlow>
__global__ void upsample_bicubic_kernel(const float* cells, std::int64_t n, std::int64_t grid_h,
                                        std::int64_t grid_w, std::int64_t h, std::int64_t w,
                                        std::int64_t channels, const detail::CubicTaps* taps,
                                        float* out) {
  const std::int64_t count = n * h * w * channels;
  const std::int64_t cells_per_image = grid_h * grid_w * channels;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const OutputIndex at = split_output_index(i, h, w, channels);
    const float* image = cells + at.image * cells_per_image;
    if constexpr (TensorFlow) {
      out[i] = detail::tf_bicubic_value(image, grid_w, channels, taps[at.y], taps[h + at.x],
                                        at.channel);
    } else {
      out[i] = detail::bicubic_value(image, grid_w, channels, taps[at.y], taps[h + at.x],
                                     at.channel);
    }
  }
}

template <bool TensorFlow>
void upsample_bicubic(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
                      std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,
                      std::int64_t channels) {
  const Stream stream = ctx.stream();
  const std::int64_t count = n * h * w * channels;
  Buffer<detail::CubicTaps> taps(ctx, h + w);
  cubic_taps_kernel<TensorFlow><<<blocks_for(h + w, kThreads), kThreads, 0, stream>>>(
      grid_h, grid_w, h, w, taps.data());
  CUXPLAIN_CHECK_LAUNCH();
  upsample_bicubic_kernel<TensorFlow><<<blocks_for(count, kThreads), kThreads, 0, stream>>>(
      cells, n, grid_h, grid_w, h, w, channels, taps.data(), out);
  CUXPLAIN_CHECK_LAUNCH();
}

__global__ void upsample_nearest_kernel(const float* cells, std::int64_t n, std::int64_t grid_h,
                                        std::int64_t grid_w, std::int64_t h, std::int64_t w,
                                        std::int64_t channels, float* out) {
  const std::int64_t count = n * h * w * channels;
  const std::int64_t cells_per_image = grid_h * grid_w * channels;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const OutputIndex at = split_output_index(i, h, w, channels);
    const std::int64_t sy = detail::nearest_source(at.y, grid_h, h);
    const std::int64_t sx = detail::nearest_source(at.x, grid_w, w);
    out[i] = cells[at.image * cells_per_image + (sy * grid_w + sx) * channels + at.channel];
  }
}

}  // namespace

void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out, Interpolation method,
              std::int64_t channels) {
  const Stream stream = ctx.stream();
  const std::int64_t count = n * h * w * channels;
  if (method == Interpolation::nearest) {
    upsample_nearest_kernel<<<blocks_for(count, kThreads), kThreads, 0, stream>>>(
        cells, n, grid_h, grid_w, h, w, channels, out);
    CUXPLAIN_CHECK_LAUNCH();
    return;
  }
  if (method == Interpolation::bicubic_tensorflow) {
    upsample_bicubic<true>(ctx, cells, n, grid_h, grid_w, h, w, out, channels);
  } else {
    upsample_bicubic<false>(ctx, cells, n, grid_h, grid_w, h, w, out, channels);
  }
}

}  // namespace cuxplain::kernels::cuda
