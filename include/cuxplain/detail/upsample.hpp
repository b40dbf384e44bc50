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
//
// TensorFlow's bicubic (tf.image.resize(method="bicubic"), the ResizeBicubic
// kernel with half-pixel centres, no antialiasing), which xplique's CraftTf
// resizes its crops with, differs from cv2's in every detail: Keys a = -0.5;
// the source coordinate in float, (dst + 0.5f) * (src / (float)dst) - 0.5f;
// weights looked up in a table of 1024 steps (the fraction rounded to the
// nearest step, entries computed in double and stored as float); taps that
// fall outside the source dropped and the remaining weights renormalized
// (always: the weights are scaled by 1 / their float sum even inside); the
// vertical pass first, then the horizontal one. tf_cubic_taps and
// tf_bicubic_value reproduce each of these steps, rounding by rounding.
#include <cmath>
#include <cstdint>

#include "hd.hpp"
#include "rounding.hpp"

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

/// w0 v0 + w1 v1 + w2 v2 + w3 v3 summed left to right, each product and sum
/// rounded on its own (nvcc would otherwise fuse them).
CUXPLAIN_HD float weighted_sum4(const float v[4], const float w[4]) {
  float sum = mul_rounded<Rounding::nearest>(v[0], w[0]);
  for (int k = 1; k < 4; ++k) {
    sum = add_rounded<Rounding::nearest>(sum, mul_rounded<Rounding::nearest>(v[k], w[k]));
  }
  return sum;
}

/// Output (y, x, channel) of one image: the horizontal cubic pass on each of
/// the four source rows, then the vertical pass. `cells` is one grid_h x
/// grid_w x channels image, channel fastest.
CUXPLAIN_HD float bicubic_value(const float* cells, std::int64_t grid_w, std::int64_t channels,
                                const CubicTaps& ty, const CubicTaps& tx, std::int64_t channel) {
  float horizontal[4];
  for (int ky = 0; ky < 4; ++ky) {
    const float* row = cells + ty.index[ky] * grid_w * channels + channel;
    const float values[4] = {row[tx.index[0] * channels], row[tx.index[1] * channels],
                             row[tx.index[2] * channels], row[tx.index[3] * channels]};
    horizontal[ky] = weighted_sum4(values, tx.weight);
  }
  return weighted_sum4(horizontal, ty.weight);
}

/// Steps of TensorFlow's bicubic weight table.
constexpr std::int64_t kTfCubicTableSize = 1024;

/// Entry `step` of TensorFlow's Keys (a = -0.5) table: the weight of the
/// inner tap at distance x = step / 1024, or of the outer one at 1 + x,
/// evaluated in double as TensorFlow tabulates it and stored as float.
CUXPLAIN_HD float tf_cubic_table_entry(std::int64_t step, bool outer) {
  constexpr double a = -0.5;
  // x is a float in TensorFlow (step / 1024 is exact); each double product
  // and sum is rounded on its own, as the host's unfused code does.
  const double x = static_cast<double>(step) / static_cast<double>(kTfCubicTableSize);
  const auto mul = [](double p, double q) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(p, q);
#else
    return p * q;
#endif
  };
  const auto add = [](double p, double q) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(p, q);
#else
    return p + q;
#endif
  };
  if (!outer) {  // ((a + 2) x - (a + 3)) x x + 1
    return static_cast<float>(add(mul(mul(add(mul(a + 2.0, x), -(a + 3.0)), x), x), 1.0));
  }
  const double x1 = x + 1.0;  // ((a x1 - 5 a) x1 + 8 a) x1 - 4 a
  return static_cast<float>(
      add(mul(add(mul(add(mul(a, x1), -5.0 * a), x1), 8.0 * a), x1), -4.0 * a));
}

/// Taps of output coordinate `dst` of tf.image.resize(method="bicubic")
/// when `src_size` pixels are resized to `dst_size` (see the file comment).
/// A dropped tap keeps an in-range index (clamped) and weight 0.
CUXPLAIN_HD CubicTaps tf_cubic_taps(std::int64_t dst, std::int64_t src_size,
                                    std::int64_t dst_size) {
  const float scale = div_rounded<Rounding::nearest>(static_cast<float>(src_size),
                                                     static_cast<float>(dst_size));
  const float source = add_rounded<Rounding::nearest>(
      mul_rounded<Rounding::nearest>(add_rounded<Rounding::nearest>(static_cast<float>(dst), 0.5f),
                                     scale),
      -0.5f);
  const float floor_source = floorf(source);
  const auto left = static_cast<std::int64_t>(floor_source);
  // delta * 1024 is exact; rintf rounds it half to even, as lrintf does.
  const auto step = static_cast<std::int64_t>(
      rintf((source - floor_source) * static_cast<float>(kTfCubicTableSize)));
  const float table[4] = {tf_cubic_table_entry(step, true), tf_cubic_table_entry(step, false),
                          tf_cubic_table_entry(kTfCubicTableSize - step, false),
                          tf_cubic_table_entry(kTfCubicTableSize - step, true)};
  CubicTaps taps{};
  float sum = 0.0f;
  for (int k = 0; k < 4; ++k) {
    const std::int64_t index = left - 1 + k;
    taps.index[k] = clamp_index(index, src_size);
    taps.weight[k] = taps.index[k] == index ? table[k] : 0.0f;
    sum = k == 0 ? taps.weight[0] : add_rounded<Rounding::nearest>(sum, taps.weight[k]);
  }
  if (fabsf(sum) >= 1000.0f * 1.17549435e-38f) {  // 1000 * FLT_MIN, TensorFlow's guard
    const float inverse = div_rounded<Rounding::nearest>(1.0f, sum);
    for (int k = 0; k < 4; ++k) taps.weight[k] = mul_rounded<Rounding::nearest>(taps.weight[k], inverse);
  }
  return taps;
}

/// Output (y, x, channel) of tf.image.resize(method="bicubic"): the vertical
/// pass on each of the four source columns, then the horizontal one.
CUXPLAIN_HD float tf_bicubic_value(const float* cells, std::int64_t grid_w, std::int64_t channels,
                                   const CubicTaps& ty, const CubicTaps& tx,
                                   std::int64_t channel) {
  float vertical[4];
  for (int kx = 0; kx < 4; ++kx) {
    const float* column = cells + tx.index[kx] * channels + channel;
    const float values[4] = {column[ty.index[0] * grid_w * channels],
                             column[ty.index[1] * grid_w * channels],
                             column[ty.index[2] * grid_w * channels],
                             column[ty.index[3] * grid_w * channels]};
    vertical[kx] = weighted_sum4(values, ty.weight);
  }
  return weighted_sum4(vertical, tx.weight);
}

/// Source index of output coordinate `dst` for nearest (exact integer floor).
CUXPLAIN_HD std::int64_t nearest_source(std::int64_t dst, std::int64_t src_size,
                                        std::int64_t dst_size) {
  const std::int64_t src = dst * src_size / dst_size;
  return src < src_size - 1 ? src : src_size - 1;
}

}  // namespace cuxplain::detail
