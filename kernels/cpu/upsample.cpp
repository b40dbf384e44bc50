// Heatmap upsampling on the host: the taps of every output column and row are
// computed once, then each output pixel combines its 4 x 4 (or 1) cells.
// The two bicubics (cv2's, TensorFlow's) differ only in their taps and in
// which pass comes first, both in detail/upsample.hpp.
#include "../upsample.hpp"

#include <cuxplain/detail/upsample.hpp>

#include <vector>

namespace cuxplain::kernels::cpu {
namespace {

// Below this many output elements starting threads costs more than the work.
constexpr std::int64_t kParallelMinOutputs = std::int64_t{1} << 16;

/// TensorFlow: tf.image.resize's bicubic instead of cv2's (a template, so
/// that the per-pixel value inlines).
template <bool TensorFlow>
void upsample_bicubic(const float* cells, std::int64_t n, std::int64_t grid_h, std::int64_t grid_w,
                      std::int64_t h, std::int64_t w, float* out, std::int64_t channels) {
  constexpr auto taps_of = TensorFlow ? detail::tf_cubic_taps : detail::cubic_taps;
  constexpr auto value_of = TensorFlow ? detail::tf_bicubic_value : detail::bicubic_value;
  std::vector<detail::CubicTaps> taps_x(static_cast<std::size_t>(w));
  std::vector<detail::CubicTaps> taps_y(static_cast<std::size_t>(h));
  for (std::int64_t x = 0; x < w; ++x) taps_x[x] = taps_of(x, grid_w, w);
  for (std::int64_t y = 0; y < h; ++y) taps_y[y] = taps_of(y, grid_h, h);
  const std::int64_t cells_per_image = grid_h * grid_w * channels;
  const std::int64_t out_per_image = h * w * channels;
#pragma omp parallel for collapse(2) schedule(static) \
    if (n * h * w * channels >= kParallelMinOutputs)
  for (std::int64_t image = 0; image < n; ++image) {
    for (std::int64_t y = 0; y < h; ++y) {
      const float* src = cells + image * cells_per_image;
      float* dst = out + image * out_per_image + y * w * channels;
      for (std::int64_t x = 0; x < w; ++x) {
        for (std::int64_t channel = 0; channel < channels; ++channel) {
          dst[x * channels + channel] =
              value_of(src, grid_w, channels, taps_y[y], taps_x[x], channel);
        }
      }
    }
  }
}

void upsample_nearest(const float* cells, std::int64_t n, std::int64_t grid_h, std::int64_t grid_w,
                      std::int64_t h, std::int64_t w, float* out, std::int64_t channels) {
  std::vector<std::int64_t> source_x(static_cast<std::size_t>(w));
  for (std::int64_t x = 0; x < w; ++x) source_x[x] = detail::nearest_source(x, grid_w, w);
  const std::int64_t cells_per_image = grid_h * grid_w * channels;
  const std::int64_t out_per_image = h * w * channels;
#pragma omp parallel for collapse(2) schedule(static) \
    if (n * h * w * channels >= kParallelMinOutputs)
  for (std::int64_t image = 0; image < n; ++image) {
    for (std::int64_t y = 0; y < h; ++y) {
      const float* src_row = cells + image * cells_per_image +
                             detail::nearest_source(y, grid_h, h) * grid_w * channels;
      float* dst = out + image * out_per_image + y * w * channels;
      for (std::int64_t x = 0; x < w; ++x) {
        for (std::int64_t channel = 0; channel < channels; ++channel) {
          dst[x * channels + channel] = src_row[source_x[x] * channels + channel];
        }
      }
    }
  }
}

}  // namespace

void upsample(const Context&, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out, Interpolation method,
              std::int64_t channels) {
  if (method == Interpolation::nearest) {
    upsample_nearest(cells, n, grid_h, grid_w, h, w, out, channels);
  } else if (method == Interpolation::bicubic_tensorflow) {
    upsample_bicubic<true>(cells, n, grid_h, grid_w, h, w, out, channels);
  } else {
    upsample_bicubic<false>(cells, n, grid_h, grid_w, h, w, out, channels);
  }
}

}  // namespace cuxplain::kernels::cpu
