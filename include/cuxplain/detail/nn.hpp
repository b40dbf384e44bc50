#pragma once
// Per-element math of the network stack (cuxplain::nn) shared by both
// backends: convolution and pooling index math, batch-norm folding, the
// interval (IBP) rules (their arithmetic, directed rounding included, is in
// rounding.hpp).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "hd.hpp"
#include "rounding.hpp"

namespace cuxplain::detail {

// ---------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------

/// Extent of a sliding window's output along one axis (floor mode, as ONNX
/// and PyTorch by default): (in + pad_begin + pad_end - kernel) / stride + 1,
/// or 0 when the kernel does not fit the padded input.
constexpr std::int64_t window_output_extent(std::int64_t in, std::int64_t kernel,
                                            std::int64_t stride, std::int64_t pad_begin,
                                            std::int64_t pad_end) {
  const std::int64_t span = in + pad_begin + pad_end - kernel;
  return span < 0 || stride < 1 ? 0 : span / stride + 1;
}

/// A 2D convolution (groups = 1, dilation 1) of one sample: weight
/// [out_c][in_c][kernel_h][kernel_w]. A dense layer (y = W x + b) is the same
/// with in_c = inputs, out_c = outputs and every spatial extent 1.
struct ConvGeometry {
  std::int64_t in_c = 0, in_h = 1, in_w = 1;
  std::int64_t out_c = 0, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0;

  /// K: the length of one output's dot product, in_c * kernel_h * kernel_w.
  CUXPLAIN_HD std::int64_t patch() const { return in_c * kernel_h * kernel_w; }
  CUXPLAIN_HD std::int64_t in_size() const { return in_c * in_h * in_w; }
  CUXPLAIN_HD std::int64_t out_plane() const { return out_h * out_w; }
  CUXPLAIN_HD std::int64_t out_size() const { return out_c * out_h * out_w; }
};

/// The dense layer y = W x + b (W: outputs x inputs) as a ConvGeometry.
constexpr ConvGeometry dense_geometry(std::int64_t inputs, std::int64_t outputs) {
  ConvGeometry g;
  g.in_c = inputs;
  g.out_c = outputs;
  return g;
}

/// im2col: the input element (offset within one sample, c-major) that row
/// k = (c, ky, kx) and output position (oy, ox) of the column matrix read,
/// or -1 where the kernel covers padding (which reads as 0).
CUXPLAIN_HD std::int64_t im2col_source(const ConvGeometry& g, std::int64_t k, std::int64_t oy,
                                       std::int64_t ox) {
  const std::int64_t kx = k % g.kernel_w;
  const std::int64_t rest = k / g.kernel_w;
  const std::int64_t ky = rest % g.kernel_h;
  const std::int64_t c = rest / g.kernel_h;
  const std::int64_t iy = oy * g.stride_h - g.pad_top + ky;
  const std::int64_t ix = ox * g.stride_w - g.pad_left + kx;
  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return -1;
  return (c * g.in_h + iy) * g.in_w + ix;
}

/// The same for output position p = oy * out_w + ox.
CUXPLAIN_HD std::int64_t im2col_source(const ConvGeometry& g, std::int64_t k, std::int64_t p) {
  return im2col_source(g, k, p / g.out_w, p % g.out_w);
}

/// Floats per im2col column matrix (and per GEMM output panel) that one
/// chunk of a batch may use: convolutions and dense layers walk the batch in
/// chunks of samples so that their workspace stays near 2^22 floats (16 MiB)
/// per matrix whatever the batch (one sample always fits, however large).
constexpr std::int64_t kNnPanelBudget = std::int64_t{1} << 22;

/// Samples per chunk of a convolution whose column matrix holds
/// patch x out_plane floats per sample and whose GEMM output holds
/// out_c x out_plane (the larger of the two is budgeted).
inline std::int64_t conv_chunk_samples(const ConvGeometry& g, std::int64_t n) {
  const std::int64_t per_sample =
      (g.patch() > g.out_c ? g.patch() : g.out_c) * (g.out_plane() > 0 ? g.out_plane() : 1);
  const std::int64_t chunk = kNnPanelBudget / (per_sample > 0 ? per_sample : 1);
  return chunk < 1 ? 1 : (chunk > n ? n : chunk);
}

/// Rows per GEMM of a dense layer (inputs -> outputs): its centre and radius
/// panels hold rows x inputs floats, and every GEMM dimension product stays
/// far below 2^31 (the CBLAS/cuBLAS int arguments).
inline std::int64_t dense_chunk_rows(std::int64_t inputs, std::int64_t outputs,
                                        std::int64_t n) {
  const std::int64_t widest = inputs > outputs ? inputs : outputs;
  const std::int64_t chunk = kNnPanelBudget / (widest > 0 ? widest : 1);
  return chunk < 1 ? 1 : (chunk > n ? n : chunk);
}

/// A 2D pooling window over each channel plane of one sample.
struct PoolGeometry {
  std::int64_t channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0;
  /// Average pooling: divide by kernel_h * kernel_w (padding counts as 0)
  /// instead of by the number of input elements the window covers.
  bool count_include_pad = false;

  CUXPLAIN_HD std::int64_t in_size() const { return channels * in_h * in_w; }
  CUXPLAIN_HD std::int64_t out_size() const { return channels * out_h * out_w; }
};

/// The input rows [y0, y1) and columns [x0, x1) one output's window covers
/// (clipped to the input) and the average's divisor.
struct PoolWindow {
  std::int64_t y0, y1, x0, x1;
  std::int64_t divisor;
};

/// Window of output (oy, ox). Padding never counts for max pooling; pads are
/// smaller than the kernel (checked when the network is built), so every
/// window covers at least one input element.
CUXPLAIN_HD PoolWindow pool_window(const PoolGeometry& g, std::int64_t oy, std::int64_t ox) {
  const std::int64_t ys = oy * g.stride_h - g.pad_top;
  const std::int64_t xs = ox * g.stride_w - g.pad_left;
  PoolWindow w;
  w.y0 = ys < 0 ? 0 : ys;
  w.x0 = xs < 0 ? 0 : xs;
  w.y1 = ys + g.kernel_h < g.in_h ? ys + g.kernel_h : g.in_h;
  w.x1 = xs + g.kernel_w < g.in_w ? xs + g.kernel_w : g.in_w;
  w.divisor = g.count_include_pad ? g.kernel_h * g.kernel_w : (w.y1 - w.y0) * (w.x1 - w.x0);
  return w;
}

// ---------------------------------------------------------------------------
// Batch normalization
// ---------------------------------------------------------------------------

/// y = gamma (x - mean) / sqrt(var + eps) + beta as y = scale x + shift, in
/// double so that folding rounds once (to float) per parameter.
struct ChannelAffine {
  double scale;
  double shift;
};

CUXPLAIN_HD ChannelAffine batch_norm_affine(float gamma, float beta, float mean, float var,
                                            float epsilon) {
  const double scale =
      static_cast<double>(gamma) / sqrt(static_cast<double>(var) + static_cast<double>(epsilon));
  return {scale, static_cast<double>(beta) - static_cast<double>(mean) * scale};
}

/// A weight of the output channel a batch norm follows, folded: scale * w.
CUXPLAIN_HD float fold_weight(float weight, ChannelAffine bn) {
  return static_cast<float>(bn.scale * static_cast<double>(weight));
}

/// The bias of that channel, folded: scale * b + shift.
CUXPLAIN_HD float fold_bias(float bias, ChannelAffine bn) {
  return static_cast<float>(bn.scale * static_cast<double>(bias) + bn.shift);
}

// ---------------------------------------------------------------------------
// Interval (IBP) rules
// ---------------------------------------------------------------------------

/// max(x, 0); NaN passes through.
CUXPLAIN_HD float relu_value(float x) { return x < 0.0f ? 0.0f : x; }

/// Centre of the box [l, u] (plain mode): halves first, so that no sum
/// overflows.
CUXPLAIN_HD float interval_centre(float l, float u) { return 0.5f * l + 0.5f * u; }

/// Radius of the box [l, u] (plain mode).
CUXPLAIN_HD float interval_radius(float l, float u) { return 0.5f * u - 0.5f * l; }

struct Interval {
  float lo, hi;
};

/// Plain-mode epilogue of an affine op in centre-radius form: with
/// centre_dot = W mu and radius_dot = |W| r, the output box is
/// (W mu + b) -/+ |W| r. With r = 0 this is exactly the forward value.
CUXPLAIN_HD Interval affine_interval(float centre_dot, float radius_dot, float bias,
                                     bool apply_relu) {
  const float centre = centre_dot + bias;
  Interval out{centre - radius_dot, centre + radius_dot};
  if (apply_relu) out = {relu_value(out.lo), relu_value(out.hi)};
  return out;
}

/// Sound mode: one step of an affine op's interval sum. In exact arithmetic
/// W mu - |W| r = sum_k (w_k >= 0 ? w_k l_k : w_k u_k) and
/// W mu + |W| r = sum_k (w_k >= 0 ? w_k u_k : w_k l_k); evaluated in this
/// split form, each step is one fma rounded outward, so no centre or radius
/// (which would need rounding of their own) is ever formed.
CUXPLAIN_HD void sound_affine_step(float w, float l, float u, float& lo, float& hi) {
  const bool positive = w >= 0.0f;
  lo = fma_rounded<Rounding::down>(w, positive ? l : u, lo);
  hi = fma_rounded<Rounding::up>(w, positive ? u : l, hi);
}

/// Per-channel affine (an unfolded batch norm) y = s x + t on a box: s < 0
/// swaps the ends. R_lo / R_hi are the roundings of the two ends.
template <Rounding R_lo, Rounding R_hi>
CUXPLAIN_HD Interval channel_affine_interval(float scale, float shift, float l, float u,
                                             bool apply_relu) {
  const bool positive = scale >= 0.0f;
  Interval out{fma_rounded<R_lo>(scale, positive ? l : u, shift),
               fma_rounded<R_hi>(scale, positive ? u : l, shift)};
  if (apply_relu) out = {relu_value(out.lo), relu_value(out.hi)};
  return out;
}

/// Plain mode: one step of the folded margin sum_i (W_ji - W_ci) x_i over the
/// box, whose largest value takes x_i = u_i where the folded weight is >= 0
/// and l_i elsewhere (= d mu + |d| r in centre-radius form).
CUXPLAIN_HD float margin_step(float w_j, float w_c, float l, float u, float acc) {
  const float d = w_j - w_c;
  return fma_rounded<Rounding::nearest>(d, d >= 0.0f ? u : l, acc);
}

/// Sound mode: the same step rounded upward. The folded weight W_ji - W_ci
/// is itself rounded: it lies in [d_lo, d_hi] (one float when the subtraction
/// is exact), so the step takes the largest of the corner products.
CUXPLAIN_HD float sound_margin_step(float w_j, float w_c, float l, float u, float acc) {
  const float d_lo = add_rounded<Rounding::down>(w_j, -w_c);
  const float d_hi = add_rounded<Rounding::up>(w_j, -w_c);
  if (d_lo == d_hi) return fma_rounded<Rounding::up>(d_lo, d_lo >= 0.0f ? u : l, acc);
  const float a = fma_rounded<Rounding::up>(d_lo, l, acc);
  const float b = fma_rounded<Rounding::up>(d_lo, u, acc);
  const float c = fma_rounded<Rounding::up>(d_hi, l, acc);
  const float e = fma_rounded<Rounding::up>(d_hi, u, acc);
  const float ab = a > b ? a : b;
  const float ce = c > e ? c : e;
  return ab > ce ? ab : ce;
}

}  // namespace cuxplain::detail
