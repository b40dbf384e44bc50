#pragma once
// Source indices and weights of cuxplain::upsample, shared by the host and
// CUDA backends.
//
// Bicubic has OpenCV's cv2.resize(INTER_CUBIC) semantics: half-pixel centres,
// source coordinate x = (dst + 0.5) * src_size / dst_size - 0.5; Keys cubic
// convolution (a = -0.75) over the neighbours floor(x) - 1 .. floor(x) + 2,
// clamped to the edge (BORDER_REPLICATE); the horizontal pass first, then the
// vertical one, accumulated in float. The coordinate is split exactly in
// integers and the weights are computed in double before rounding to float;
// on float32 grids the result stays within about 1e-6 of cv2 5.0 (fixtures:
// tests/data/make_upsample_fixtures.py). Both backends evaluate the taps once
// per output row and column, not per pixel.
//
// Nearest is PyTorch's / OpenCV's INTER_NEAREST, src = min(floor(dst * src_size
// / dst_size), src_size - 1), computed exactly in integers.
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

/// The four source indices (edge clamped) and weights of one output coordinate.
struct CubicTaps {
  std::int64_t index[4];
  float weight[4];
};

/// Keys cubic convolution coefficient used by OpenCV.
constexpr double kCubicA = -0.75;

CUXPLAIN_HD std::int64_t clamp_index(std::int64_t i, std::int64_t size) {
  return i < 0 ? 0 : (i >= size ? size - 1 : i);
}

/// floor(numerator / denominator) for denominator > 0.
CUXPLAIN_HD std::int64_t floor_div(std::int64_t numerator, std::int64_t denominator) {
  const std::int64_t quotient = numerator / denominator;
  return (numerator % denominator != 0 && numerator < 0) ? quotient - 1 : quotient;
}

/// Taps of output coordinate `dst` when `src_size` cells are resized to `dst_size`.
CUXPLAIN_HD CubicTaps cubic_taps(std::int64_t dst, std::int64_t src_size, std::int64_t dst_size) {
  // x = ((2 dst + 1) src_size - dst_size) / (2 dst_size): floor(x) and the
  // fraction t = x - floor(x) from exact integer arithmetic.
  const std::int64_t numerator = (2 * dst + 1) * src_size - dst_size;
  const std::int64_t denominator = 2 * dst_size;
  const std::int64_t left = floor_div(numerator, denominator);
  const double t =
      static_cast<double>(numerator - left * denominator) / static_cast<double>(denominator);

  constexpr double a = kCubicA;
  const double w0 = ((a * (t + 1.0) - 5.0 * a) * (t + 1.0) + 8.0 * a) * (t + 1.0) - 4.0 * a;
  const double w1 = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
  const double w2 = ((a + 2.0) * (1.0 - t) - (a + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
  const double w3 = 1.0 - w0 - w1 - w2;

  CubicTaps taps{};
  taps.weight[0] = static_cast<float>(w0);
  taps.weight[1] = static_cast<float>(w1);
  taps.weight[2] = static_cast<float>(w2);
  taps.weight[3] = static_cast<float>(w3);
  for (int k = 0; k < 4; ++k) taps.index[k] = clamp_index(left - 1 + k, src_size);
  return taps;
}

/// Output (y, x, channel) of one image: the horizontal cubic pass on each of
/// the four source rows, then the vertical pass. `cells` is one grid_h x
/// grid_w x channels image, channel fastest.
CUXPLAIN_HD float bicubic_value(const float* cells, std::int64_t grid_w, std::int64_t channels,
                                const CubicTaps& ty, const CubicTaps& tx, std::int64_t channel) {
  float value = 0.0f;
  for (int ky = 0; ky < 4; ++ky) {
    const float* row = cells + ty.index[ky] * grid_w * channels + channel;
    float horizontal = 0.0f;
    for (int kx = 0; kx < 4; ++kx) horizontal += row[tx.index[kx] * channels] * tx.weight[kx];
    value += horizontal * ty.weight[ky];
  }
  return value;
}

/// Source index of output coordinate `dst` for nearest (exact integer floor).
CUXPLAIN_HD std::int64_t nearest_source(std::int64_t dst, std::int64_t src_size,
                                        std::int64_t dst_size) {
  const std::int64_t src = dst * src_size / dst_size;
  return src < src_size - 1 ? src : src_size - 1;
}

}  // namespace cuxplain::detail
