#pragma once
// Reference resizing in double precision, written as the textbook 2D sums:
// bicubic = sum over the 4 x 4 neighbourhood of W(x - x_k) W(y - y_l) * cell,
// with Keys' kernel W (a = -0.75), half-pixel centres and edge-clamped
// neighbours (OpenCV's INTER_CUBIC); nearest = min(floor(dst * g / h), g - 1).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cuxplain::reference {

/// Keys' cubic convolution kernel with a = -0.75.
inline double keys(double x) {
  const double a = -0.75;
  x = std::fabs(x);
  if (x <= 1.0) return (a + 2.0) * x * x * x - (a + 3.0) * x * x + 1.0;
  if (x < 2.0) return a * x * x * x - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a;
  return 0.0;
}

/// n images of gh x gw x channels cells resized to h x w x channels (bicubic or nearest).
inline std::vector<double> resize(const std::vector<float>& cells, std::int64_t n, std::int64_t gh,
                                  std::int64_t gw, std::int64_t h, std::int64_t w,
                                  std::int64_t channels, bool bicubic) {
  std::vector<double> out(static_cast<std::size_t>(n * h * w * channels));
  const auto cell = [&](std::int64_t image, std::int64_t y, std::int64_t x, std::int64_t ch) {
    y = std::clamp<std::int64_t>(y, 0, gh - 1);
    x = std::clamp<std::int64_t>(x, 0, gw - 1);
    return static_cast<double>(
        cells[static_cast<std::size_t>(((image * gh + y) * gw + x) * channels + ch)]);
  };
  for (std::int64_t image = 0; image < n; ++image) {
    for (std::int64_t y = 0; y < h; ++y) {
      for (std::int64_t x = 0; x < w; ++x) {
        for (std::int64_t ch = 0; ch < channels; ++ch) {
          double value = 0.0;
          if (bicubic) {
            const double sy = (y + 0.5) * static_cast<double>(gh) / static_cast<double>(h) - 0.5;
            const double sx = (x + 0.5) * static_cast<double>(gw) / static_cast<double>(w) - 0.5;
            const std::int64_t y0 = static_cast<std::int64_t>(std::floor(sy));
            const std::int64_t x0 = static_cast<std::int64_t>(std::floor(sx));
            for (std::int64_t yy = y0 - 1; yy <= y0 + 2; ++yy) {
              for (std::int64_t xx = x0 - 1; xx <= x0 + 2; ++xx) {
                value += keys(sy - static_cast<double>(yy)) * keys(sx - static_cast<double>(xx)) *
                         cell(image, yy, xx, ch);
              }
            }
          } else {
            const auto source = [](std::int64_t dst, std::int64_t g, std::int64_t size) {
              const double s = std::floor(static_cast<double>(dst) * static_cast<double>(g) /
                                          static_cast<double>(size));
              return std::min(static_cast<std::int64_t>(s), g - 1);
            };
            value = cell(image, source(y, gh, h), source(x, gw, w), ch);
          }
          out[static_cast<std::size_t>(((image * h + y) * w + x) * channels + ch)] = value;
        }
      }
    }
  }
  return out;
}

}  // namespace cuxplain::reference
