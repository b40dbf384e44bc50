// Heatmap upsampling, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by
// kernels/cpu/upsample.cpp and kernels/cuda/upsample.cu. Bicubic first
// tabulates the taps of every output row and column (h + w entries, computed
// in double once), then each output element combines its 4 x 4 cells (1 for
// nearest). The two bicubics (cv2's, TensorFlow's) differ only in their taps
// and their order of passes, both in detail/upsample.hpp.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/upsample.hpp>

#include "upsample.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace upsample_ops {

using cuxplain::detail::CubicTaps;

/// taps[0, h): output rows; taps[h, h + w): output columns.
template <bool TensorFlow>
struct Taps {
  std::int64_t grid_h, grid_w, h, w;
  CubicTaps* taps;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    const std::int64_t dst = i < h ? i : i - h;
    const std::int64_t src_size = i < h ? grid_h : grid_w;
    const std::int64_t dst_size = i < h ? h : w;
    taps[i] = TensorFlow ? cuxplain::detail::tf_cubic_taps(dst, src_size, dst_size)
                         : cuxplain::detail::cubic_taps(dst, src_size, dst_size);
  }
};

/// Output row (image, y) = r, column (x, channel) = col, channel fastest.
template <bool TensorFlow>
struct Bicubic {
  const float* cells;
  std::int64_t grid_h, grid_w, h, w, channels;
  const CubicTaps* taps;
  float* out;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t col) const {
    const std::int64_t image = r / h, y = r % h;
    const std::int64_t x = col / channels, channel = col % channels;
    const float* src = cells + image * grid_h * grid_w * channels;
    out[r * w * channels + col] =
        TensorFlow
            ? cuxplain::detail::tf_bicubic_value(src, grid_w, channels, taps[y], taps[h + x], channel)
            : cuxplain::detail::bicubic_value(src, grid_w, channels, taps[y], taps[h + x], channel);
  }
};

struct Nearest {
  const float* cells;
  std::int64_t grid_h, grid_w, h, w, channels;
  float* out;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t col) const {
    const std::int64_t image = r / h, y = r % h;
    const std::int64_t x = col / channels, channel = col % channels;
    const std::int64_t sy = cuxplain::detail::nearest_source(y, grid_h, h);
    const std::int64_t sx = cuxplain::detail::nearest_source(x, grid_w, w);
    out[r * w * channels + col] =
        cells[image * grid_h * grid_w * channels + (sy * grid_w + sx) * channels + channel];
  }
};

// Below this many output elements starting threads costs more than the work.
constexpr std::int64_t kParallelMin = std::int64_t{1} << 16;

template <bool TensorFlow>
void bicubic(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
             std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,
             std::int64_t channels) {
  Buffer<CubicTaps> taps(ctx, h + w, "the bicubic taps of upsample");
  for_each(ctx, h + w, Taps<TensorFlow>{grid_h, grid_w, h, w, taps.data()}, Policy::serial());
  for_each(ctx, Extent2{n * h, w * channels},
           Bicubic<TensorFlow>{cells, grid_h, grid_w, h, w, channels, taps.data(), out},
           Policy::parallel_from(n * h * w * channels, kParallelMin));
}

}  // namespace upsample_ops

void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,
              Interpolation method, std::int64_t channels) {
  if (method == Interpolation::nearest) {
    for_each(ctx, Extent2{n * h, w * channels},
             upsample_ops::Nearest{cells, grid_h, grid_w, h, w, channels, out},
             Policy::parallel_from(n * h * w * channels, upsample_ops::kParallelMin));
  } else if (method == Interpolation::bicubic_tensorflow) {
    upsample_ops::bicubic<true>(ctx, cells, n, grid_h, grid_w, h, w, out, channels);
  } else {
    upsample_ops::bicubic<false>(ctx, cells, n, grid_h, grid_w, h, w, out, channels);
  }
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
