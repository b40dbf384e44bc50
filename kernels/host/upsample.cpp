// Heatmap upsampling on the host: the taps of every output column and row are
// computed once, then each output pixel combines its 4 x 4 (or 1) cells.
#include "../upsample.hpp"

#include <cuxplain/detail/upsample.hpp>

#include <vector>

namespace cuxplain::kernels::host {
namespace {

// Below this many output elements starting threads costs more than the work.
constexpr std::int64_t kParallelMinOutputs = std::int64_t{1} << 16;

void upsample_bicubic(const float* cells, std::int64_t n, std::int64_t grid_h, std::int64_t grid_w,
                      std::int64_t h, std::int64_t w, float* out, std::int64_t channels) {
  std::vector<detail::CubicTaps> taps_x(static_cast<std::size_t>(w));
  std::vector<detail::CubicTaps> taps_y(static_cast<std::size_t>(h));
  for (std::int64_t x = 0; x < w; ++x) taps_x[x] = detail::cubic_taps(x, grid_w, w);
  for (std::int64_t y = 0; y < h; ++y) taps_y[y] = detail::cubic_taps(y, grid_h, h);
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
              detail::bicubic_value(src, grid_w, channels, taps_y[y], taps_x[x], channel);
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
  } else {
    upsample_bicubic(cells, n, grid_h, grid_w, h, w, out, channels);
  }
}

}  // namespace cuxplain::kernels::host
