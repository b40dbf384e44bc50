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

/// The same in ceil mode (pooling's ceil_mode, as PyTorch and ONNX Runtime
/// count it): (span + stride - 1) / stride + 1, less one when the last window
/// would start past the input and its leading padding.
constexpr std::int64_t window_output_extent_ceil(std::int64_t in, std::int64_t kernel,
                                                 std::int64_t stride, std::int64_t pad_begin,
                                                 std::int64_t pad_end) {
  const std::int64_t span = in + pad_begin + pad_end - kernel;
  if (span < 0 || stride < 1) return 0;
  std::int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= in + pad_begin) --out;
  return out;
}

/// A 2D convolution of one sample: weight [out_c][in_c / groups][kernel_h]
/// [kernel_w]; output channel o reads the input channels of its group
/// o / (out_c / groups). A dense layer (y = W x + b) is the same with
/// in_c = inputs, out_c = outputs and every spatial extent 1.
struct ConvGeometry {
  std::int64_t in_c = 0, in_h = 1, in_w = 1;
  std::int64_t out_c = 0, out_h = 1, out_w = 1;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0;
  std::int64_t groups = 1;
  std::int64_t dilation_h = 1, dilation_w = 1;

  /// K: the length of one output's dot product,
  /// (in_c / groups) * kernel_h * kernel_w.
  CUXPLAIN_HD std::int64_t patch() const { return in_c / groups * kernel_h * kernel_w; }
  /// Rows of the column matrix (every input channel): groups * patch().
  CUXPLAIN_HD std::int64_t col_rows() const { return in_c * kernel_h * kernel_w; }
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
/// k = (c, ky, kx) (c over every input channel) and output position (oy, ox)
/// of the column matrix read, or -1 where the kernel covers padding (which
/// reads as 0). Output channel o of group q reads rows q * patch() + k.
CUXPLAIN_HD std::int64_t im2col_source(const ConvGeometry& g, std::int64_t k, std::int64_t oy,
                                       std::int64_t ox) {
  const std::int64_t kx = k % g.kernel_w;
  const std::int64_t rest = k / g.kernel_w;
  const std::int64_t ky = rest % g.kernel_h;
  const std::int64_t c = rest / g.kernel_h;
  const std::int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
  const std::int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
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
/// col_rows x out_plane floats per sample and whose GEMM output holds
/// out_c x out_plane (the larger of the two is budgeted).
inline std::int64_t conv_chunk_samples(const ConvGeometry& g, std::int64_t n) {
  const std::int64_t per_sample =
      (g.col_rows() > g.out_c ? g.col_rows() : g.out_c) * (g.out_plane() > 0 ? g.out_plane() : 1);
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
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  /// Average pooling: divide by the window's size within the padded input
  /// (padding counts as 0; kernel_h * kernel_w but where a ceil-mode window
  /// overhangs the padding) instead of by the number of input elements the
  /// window covers.
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
  if (g.count_include_pad) {
    const std::int64_t ye = ys + g.kernel_h < g.in_h + g.pad_bottom ? ys + g.kernel_h
                                                                     : g.in_h + g.pad_bottom;
    const std::int64_t xe = xs + g.kernel_w < g.in_w + g.pad_right ? xs + g.kernel_w
                                                                    : g.in_w + g.pad_right;
    w.divisor = (ye - ys) * (xe - xs);
  } else {
    w.divisor = (w.y1 - w.y0) * (w.x1 - w.x0);
  }
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


// ---------------------------------------------------------------------------
// Elementwise activations
// ---------------------------------------------------------------------------

/// Activations beyond relu (ONNX's definitions). Parameters: clip
/// [alpha, beta] = [min, max]; leaky_relu slope alpha; hard_sigmoid
/// max(0, min(1, alpha x + beta)); hard_swish x hard_sigmoid(x) with
/// alpha = 1/6, beta = 1/2; silu x sigmoid(x).
enum class Activation : int { clip, leaky_relu, sigmoid, tanh, hard_sigmoid, hard_swish, silu };

struct ActivationParams {
  Activation kind = Activation::clip;
  float alpha = 0.0f, beta = 0.0f;
};

/// The float nearest v, or, directed, the float below (R = down) or above
/// (R = up) v and one more step outward: for values computed in double with
/// a relative error far below float's (exp, tanh of a float argument), so
/// that the float bound is on the right side of the exact real value.
template <Rounding R>
CUXPLAIN_HD float double_to_float_outward(double v) {
  const float f = static_cast<float>(v);
  if constexpr (R == Rounding::down) return next_float_down(f);
  if constexpr (R == Rounding::up) return next_float_up(f);
  return f;
}

template <Rounding R>
CUXPLAIN_HD float hard_sigmoid_rounded(float alpha, float beta, float x) {
  const float v = fma_rounded<R>(alpha, x, beta);
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/// f(x) rounded to nearest (the forward value) or, directed, a float below
/// (R = down) or above (R = up) the exact real f(x) of the float parameters.
/// Plain sigmoid, tanh and silu use float exp / tanh (within a few ulps of
/// the exact value); directed, they are evaluated in double.
template <Rounding R>
CUXPLAIN_HD float activation_rounded(const ActivationParams& a, float x) {
  constexpr Rounding opposite =
      R == Rounding::down ? Rounding::up : (R == Rounding::up ? Rounding::down : R);
  switch (a.kind) {
    case Activation::clip:
      return x < a.alpha ? a.alpha : (x > a.beta ? a.beta : x);
    case Activation::leaky_relu:
      return x < 0.0f ? mul_rounded<R>(a.alpha, x) : x;
    case Activation::sigmoid:
      if constexpr (R == Rounding::nearest) {
        return 1.0f / (1.0f + expf(-x));
      } else {
        const float v = double_to_float_outward<R>(1.0 / (1.0 + exp(-static_cast<double>(x))));
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
      }
    case Activation::tanh:
      if constexpr (R == Rounding::nearest) {
        return tanhf(x);
      } else {
        const float v = double_to_float_outward<R>(tanh(static_cast<double>(x)));
        return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
      }
    case Activation::hard_sigmoid:
      return hard_sigmoid_rounded<R>(a.alpha, a.beta, x);
    case Activation::hard_swish:
      // x >= 0: the product grows with the gate; x < 0: it shrinks.
      return mul_rounded<R>(x, x >= 0.0f ? hard_sigmoid_rounded<R>(a.alpha, a.beta, x)
                                         : hard_sigmoid_rounded<opposite>(a.alpha, a.beta, x));
    case Activation::silu:
      if constexpr (R == Rounding::nearest) {
        return x / (1.0f + expf(-x));
      } else {
        const double xd = static_cast<double>(x);
        return double_to_float_outward<R>(xd / (1.0 + exp(-xd)));
      }
  }
  return x;
}

CUXPLAIN_HD float activation_value(const ActivationParams& a, float x) {
  return activation_rounded<Rounding::nearest>(a, x);
}

/// Where a valley-shaped activation (non-increasing up to its argmin, then
/// non-decreasing: hard_swish, silu, leaky_relu with a negative slope) takes
/// its least value, and that value (double, exact for the float parameters
/// up to double rounding). monotone = true for the non-decreasing ones.
struct ActivationValley {
  bool monotone;
  double argmin, min;
};

CUXPLAIN_HD ActivationValley activation_valley(const ActivationParams& a) {
  switch (a.kind) {
    case Activation::leaky_relu:
      if (a.alpha < 0.0f) return {false, 0.0, 0.0};
      return {true, 0.0, 0.0};
    case Activation::hard_swish: {
      // x (alpha x + beta) is least at -beta / (2 alpha), where the gate is
      // beta / 2, inside (0, 1) for ONNX's alpha = 1/6, beta = 1/2.
      const double al = a.alpha, be = a.beta;
      return {false, -be / (2.0 * al), -be * be / (4.0 * al)};
    }
    case Activation::silu:
      // x sigmoid(x) is least where sigmoid(x) = (1 + x) / x: at
      // x = -1 - W(1/e), value -W(1/e) (W: Lambert's function).
      return {false, -1.2784645427610738, -0.27846454276107380};
    default:
      return {true, 0.0, 0.0};
  }
}

/// The interval rule of an activation on [l, u]: monotone ones map the
/// ends; valley-shaped ones take the larger end value as the upper bound and
/// the valley's least value as the lower bound when the argmin lies in
/// [l, u] (else the smaller end value).
template <Rounding R_lo, Rounding R_hi>
CUXPLAIN_HD Interval activation_interval(const ActivationParams& a, float l, float u) {
  const ActivationValley v = activation_valley(a);
  if (v.monotone) return {activation_rounded<R_lo>(a, l), activation_rounded<R_hi>(a, u)};
  const float hl = activation_rounded<R_hi>(a, l), hu = activation_rounded<R_hi>(a, u);
  float lo;
  if (static_cast<double>(l) <= v.argmin && v.argmin <= static_cast<double>(u)) {
    lo = double_to_float_outward<R_lo>(v.min);
  } else {
    const float ll = activation_rounded<R_lo>(a, l), lu = activation_rounded<R_lo>(a, u);
    lo = ll < lu ? ll : lu;
  }
  return {lo, hl > hu ? hl : hu};
}

// ---------------------------------------------------------------------------
// Binary ops with broadcasting, concatenation, padding, transposition
// ---------------------------------------------------------------------------

enum class BinaryOp : int { add, sub, mul };

/// The element of a C x H x W operand broadcast over the output, for output
/// (c, h, w): each extent of the operand is the output's or 1.
struct Broadcast {
  std::int64_t c = 1, h = 1, w = 1;
  CUXPLAIN_HD std::int64_t index(std::int64_t oc, std::int64_t oy, std::int64_t ox) const {
    return ((c == 1 ? 0 : oc) * h + (h == 1 ? 0 : oy)) * w + (w == 1 ? 0 : ox);
  }
  CUXPLAIN_HD std::int64_t size() const { return c * h * w; }
};

template <Rounding R>
CUXPLAIN_HD float binary_rounded(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::add: return add_rounded<R>(a, b);
    case BinaryOp::sub: return add_rounded<R>(a, -b);
    default: return mul_rounded<R>(a, b);
  }
}

/// The interval rule of a op b on boxes [al, au] and [bl, bu]: sums and
/// differences of the ends; a product takes the least and largest of the
/// four corner products (each rounded outward).
template <Rounding R_lo, Rounding R_hi>
CUXPLAIN_HD Interval binary_interval(BinaryOp op, float al, float au, float bl, float bu) {
  if (op == BinaryOp::add) return {add_rounded<R_lo>(al, bl), add_rounded<R_hi>(au, bu)};
  if (op == BinaryOp::sub) return {add_rounded<R_lo>(al, -bu), add_rounded<R_hi>(au, -bl)};
  const float p0 = mul_rounded<R_lo>(al, bl), p1 = mul_rounded<R_lo>(al, bu);
  const float p2 = mul_rounded<R_lo>(au, bl), p3 = mul_rounded<R_lo>(au, bu);
  const float q0 = mul_rounded<R_hi>(al, bl), q1 = mul_rounded<R_hi>(al, bu);
  const float q2 = mul_rounded<R_hi>(au, bl), q3 = mul_rounded<R_hi>(au, bu);
  const float lo01 = p0 < p1 ? p0 : p1, lo23 = p2 < p3 ? p2 : p3;
  const float hi01 = q0 > q1 ? q0 : q1, hi23 = q2 > q3 ? q2 : q3;
  return {lo01 < lo23 ? lo01 : lo23, hi01 > hi23 ? hi01 : hi23};
}

/// ONNX Pad's modes on the spatial axes.
enum class PadMode : int { constant, reflect, edge };

/// Spatial padding of each channel plane.
struct PadGeometry {
  std::int64_t channels = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t pad_top = 0, pad_left = 0;
  PadMode mode = PadMode::constant;
  float value = 0.0f;
};

/// The input coordinate that output coordinate o (of an axis with `in`
/// elements, padded by `begin` before) reads, or -1 for the constant.
CUXPLAIN_HD std::int64_t pad_source(PadMode mode, std::int64_t o, std::int64_t begin,
                                    std::int64_t in) {
  std::int64_t i = o - begin;
  if (i >= 0 && i < in) return i;
  if (mode == PadMode::constant) return -1;
  if (mode == PadMode::edge) return i < 0 ? 0 : in - 1;
  // reflect (pads < in, checked when the network is built): mirror without
  // repeating the edge.
  if (i < 0) i = -i;
  if (i >= in) i = 2 * (in - 1) - i;
  return i;
}

/// Permutation of a sample's three axes: output axis k is input axis
/// perm[k] (ONNX Transpose without the batch axis). Scalars only (no array
/// indexed at run time), so that a kernel keeps it in registers.
struct TransposeGeometry {
  std::int64_t perm0 = 0, perm1 = 1, perm2 = 2;
  /// Output extents, and the input stride of the axis each output axis reads.
  std::int64_t d0 = 1, d1 = 1, d2 = 1;
  std::int64_t s0 = 0, s1 = 0, s2 = 0;
  /// The input offset of output offset e within one sample.
  CUXPLAIN_HD std::int64_t source(std::int64_t e) const {
    const std::int64_t i2 = e % d2, rest = e / d2;
    return (rest / d1) * s0 + (rest % d1) * s1 + i2 * s2;
  }
};

/// The geometry of permuting a C x H x W sample by perm (a permutation of
/// 0, 1, 2, checked by the caller).
inline TransposeGeometry transpose_geometry(const std::int64_t dims[3], const std::int64_t perm[3]) {
  const std::int64_t strides[3] = {dims[1] * dims[2], dims[2], 1};
  TransposeGeometry g;
  g.perm0 = perm[0];
  g.perm1 = perm[1];
  g.perm2 = perm[2];
  g.d0 = dims[perm[0]];
  g.d1 = dims[perm[1]];
  g.d2 = dims[perm[2]];
  g.s0 = strides[perm[0]];
  g.s1 = strides[perm[1]];
  g.s2 = strides[perm[2]];
  return g;
}

// ---------------------------------------------------------------------------
// Softmax
// ---------------------------------------------------------------------------

/// Softmax of one row of k values, in double: y_i = exp(x_i - m) / sum_j
/// exp(x_j - m) with m the row's largest value.
CUXPLAIN_HD void softmax_row(const float* x, std::int64_t k, float* y) {
  float m = x[0];
  for (std::int64_t j = 1; j < k; ++j) m = x[j] > m ? x[j] : m;
  double sum = 0.0;
  for (std::int64_t j = 0; j < k; ++j) sum += exp(static_cast<double>(x[j]) - m);
  for (std::int64_t j = 0; j < k; ++j)
    y[j] = static_cast<float>(exp(static_cast<double>(x[j]) - m) / sum);
}

/// Interval softmax of a row on the box [l, u]: output i is increasing in
/// x_i and decreasing in every other x_j, so
///   lo_i = e^{l_i} / (e^{l_i} + sum_{j != i} e^{u_j}),
///   hi_i = e^{u_i} / (e^{u_i} + sum_{j != i} e^{l_j}).
/// The sums over j != i are the row's sum less term i, in double; in sound
/// mode (sound = true) the sum's rounding, bounded by 2 k 2^-52 of the row's
/// total, widens each denominator, and each bound is stepped one float
/// outward, which covers the double exp's error.
CUXPLAIN_HD void softmax_interval_row(const float* l, const float* u, std::int64_t k, bool sound,
                                      float* lo, float* hi) {
  float m = u[0];
  for (std::int64_t j = 1; j < k; ++j) m = u[j] > m ? u[j] : m;
  double sum_l = 0.0, sum_u = 0.0;
  for (std::int64_t j = 0; j < k; ++j) {
    sum_l += exp(static_cast<double>(l[j]) - m);
    sum_u += exp(static_cast<double>(u[j]) - m);
  }
  const double slack = sound ? 2.0 * static_cast<double>(k) * 2.220446049250313e-16 : 0.0;
  for (std::int64_t i = 0; i < k; ++i) {
    const double el = exp(static_cast<double>(l[i]) - m), eu = exp(static_cast<double>(u[i]) - m);
    double others_u = sum_u - eu + slack * sum_u;
    double others_l = sum_l - el - slack * sum_l;
    others_u = others_u < 0.0 ? 0.0 : others_u;
    others_l = others_l < 0.0 ? 0.0 : others_l;
    const double low = el / (el + others_u), high = eu / (eu + others_l);
    float a = static_cast<float>(low), b = static_cast<float>(high);
    if (sound) {
      a = next_float_down(a);
      b = next_float_up(b);
    }
    lo[i] = a < 0.0f ? 0.0f : a;
    hi[i] = b > 1.0f ? 1.0f : b;
  }
}

}  // namespace cuxplain::detail
