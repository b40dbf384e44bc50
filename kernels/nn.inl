// The network stack's ops, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by kernels/cpu/nn.cpp
// and kernels/cuda/nn.cu, beside the GPU-shaped ones (sound affine bounds and
// folded margins in shared-memory tiles, the box check's reduction). The
// math is detail/nn.hpp; host/nn orchestrates convolutions and dense layers
// (im2col, the contract's GEMM, these epilogues) in chunks of the batch.
//
// Walks over rows of contiguous outputs (Extent2) let the CPU compute each
// row's index arithmetic once; CUDA flattens them.
#include <limits>
#include <type_traits>

#include <cuxplain/detail/nn.hpp>

#include "nn.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace nn_ops {

using cuxplain::detail::ConvGeometry;
using cuxplain::detail::Interval;
using cuxplain::detail::PoolGeometry;
using cuxplain::detail::PoolWindow;
using cuxplain::detail::Rounding;
using cuxplain::detail::relu_value;

/// Runs run(std::integral_constant<Rounding, R>{}) for the runtime rounding:
/// each rounding is its own instantiation of the op's functor.
template <class Run>
void with_rounding(Rounding rounding, Run&& run) {
  switch (rounding) {
    case Rounding::down: return run(std::integral_constant<Rounding, Rounding::down>{});
    case Rounding::up: return run(std::integral_constant<Rounding, Rounding::up>{});
    default: return run(std::integral_constant<Rounding, Rounding::nearest>{});
  }
}

/// Column matrix entry cols[k][s * plane + oy * out_w + ox]; row =
/// (k * samples + s) * out_h + oy, col = ox.
struct Im2col {
  ConvGeometry g;
  std::int64_t samples;
  const float* x;
  float* cols;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t oy = row % g.out_h, ks = row / g.out_h;
    const std::int64_t s = ks % samples, k = ks / samples;
    const std::int64_t src = cuxplain::detail::im2col_source(g, k, oy, ox);
    cols[row * g.out_w + ox] = src < 0 ? 0.0f : x[s * g.in_size() + src];
  }
};

/// Centre and radius column matrices of the boxes [l, u], laid out as Im2col.
struct Im2colBounds {
  ConvGeometry g;
  std::int64_t samples;
  const float* l;
  const float* u;
  float* centre_cols;
  float* radius_cols;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t oy = row % g.out_h, ks = row / g.out_h;
    const std::int64_t s = ks % samples, k = ks / samples;
    const std::int64_t src = cuxplain::detail::im2col_source(g, k, oy, ox);
    const std::int64_t e = row * g.out_w + ox;
    if (src < 0) {
      centre_cols[e] = 0.0f;
      radius_cols[e] = 0.0f;
    } else {
      const float lo = l[s * g.in_size() + src], hi = u[s * g.in_size() + src];
      centre_cols[e] = cuxplain::detail::interval_centre(lo, hi);
      radius_cols[e] = cuxplain::detail::interval_radius(lo, hi);
    }
  }
};

/// y[s][o][p] = act(panel[o][s * plane + p] + bias[o]); row = s * out_c + o.
struct ConvEpilogue {
  const float* panel;
  const float* bias;
  bool relu;
  std::int64_t out_c, plane, samples;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t p) const {
    const std::int64_t s = row / out_c, o = row % out_c;
    const float v = panel[o * samples * plane + s * plane + p] + bias[o];
    y[row * plane + p] = relu ? relu_value(v) : v;
  }
};

struct ConvBoundsEpilogue {
  const float* centre_panel;
  const float* radius_panel;
  const float* bias;
  bool relu;
  std::int64_t out_c, plane, samples;
  float* lo;
  float* hi;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t p) const {
    const std::int64_t s = row / out_c, o = row % out_c;
    const std::int64_t src = o * samples * plane + s * plane + p;
    const Interval v =
        cuxplain::detail::affine_interval(centre_panel[src], radius_panel[src], bias[o], relu);
    lo[row * plane + p] = v.lo;
    hi[row * plane + p] = v.hi;
  }
};

/// y[r][o] = act(y[r][o] + bias[o]) in place.
struct Bias {
  float* y;
  const float* bias;
  bool relu;
  std::int64_t outputs;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t o) const {
    const float v = y[r * outputs + o] + bias[o];
    y[r * outputs + o] = relu ? relu_value(v) : v;
  }
};

struct CentreRadius {
  const float* l;
  const float* u;
  float* centre;
  float* radius;
  CUXPLAIN_HD void operator()(std::int64_t e) const {
    centre[e] = cuxplain::detail::interval_centre(l[e], u[e]);
    radius[e] = cuxplain::detail::interval_radius(l[e], u[e]);
  }
};

/// lo holds W mu, hi holds |W| r: the interval epilogue in place.
struct BoundsEpilogue {
  float* lo;
  float* hi;
  const float* bias;
  bool relu;
  std::int64_t outputs;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t o) const {
    const std::int64_t e = r * outputs + o;
    const Interval v = cuxplain::detail::affine_interval(lo[e], hi[e], bias[o], relu);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
};

/// Plane q = (sample, channel) of `plane` elements.
struct ChannelAffine {
  const float* scale;
  const float* shift;
  bool relu;
  std::int64_t channels, plane;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t q, std::int64_t i) const {
    const std::int64_t c = q % channels, e = q * plane + i;
    const float v = cuxplain::detail::fma_rounded<Rounding::nearest>(scale[c], x[e], shift[c]);
    y[e] = relu ? relu_value(v) : v;
  }
};

template <Rounding R_lo, Rounding R_hi>
struct ChannelAffineBounds {
  const float* scale;
  const float* shift;
  bool relu;
  std::int64_t channels, plane;
  const float* l;
  const float* u;
  float* lo;
  float* hi;
  CUXPLAIN_HD void operator()(std::int64_t q, std::int64_t i) const {
    const std::int64_t c = q % channels, e = q * plane + i;
    const Interval v = cuxplain::detail::channel_affine_interval<R_lo, R_hi>(scale[c], shift[c],
                                                                             l[e], u[e], relu);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
};

struct Relu {
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t e) const { y[e] = relu_value(x[e]); }
};

/// Output row = (plane q, oy), col = ox.
struct MaxPool {
  PoolGeometry g;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t q = row / g.out_h, oy = row % g.out_h;
    const PoolWindow w = cuxplain::detail::pool_window(g, oy, ox);
    const float* src = x + q * g.in_h * g.in_w;
    float best = -std::numeric_limits<float>::infinity();
    for (std::int64_t iy = w.y0; iy < w.y1; ++iy) {
      for (std::int64_t ix = w.x0; ix < w.x1; ++ix) {
        const float v = src[iy * g.in_w + ix];
        best = best < v ? v : best;  // a NaN input never wins
      }
    }
    y[row * g.out_w + ox] = best;
  }
};

template <Rounding R>
struct AvgPool {
  PoolGeometry g;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t q = row / g.out_h, oy = row % g.out_h;
    const PoolWindow w = cuxplain::detail::pool_window(g, oy, ox);
    const float* src = x + q * g.in_h * g.in_w;
    float sum = 0.0f;
    for (std::int64_t iy = w.y0; iy < w.y1; ++iy)
      for (std::int64_t ix = w.x0; ix < w.x1; ++ix)
        sum = cuxplain::detail::add_rounded<R>(sum, src[iy * g.in_w + ix]);
    y[row * g.out_w + ox] =
        cuxplain::detail::div_rounded<R>(sum, static_cast<float>(w.divisor));
  }
};

/// One channel plane, summed in order.
template <Rounding R>
struct GlobalAvgPool {
  std::int64_t plane;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t q) const {
    float sum = 0.0f;
    for (std::int64_t i = 0; i < plane; ++i)
      sum = cuxplain::detail::add_rounded<R>(sum, x[q * plane + i]);
    y[q] = cuxplain::detail::div_rounded<R>(sum, static_cast<float>(plane));
  }
};

template <Rounding R>
struct Add {
  const float* a;
  const float* b;
  bool relu;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t e) const {
    const float v = cuxplain::detail::add_rounded<R>(a[e], b[e]);
    y[e] = relu ? relu_value(v) : v;
  }
};

/// margins[s][j] = hi[s][j] - lo[s][t] (rounded up when Sound), 0 for j = t.
template <bool Sound>
struct MarginsFromBounds {
  std::int64_t outputs;
  const float* lo;
  const float* hi;
  const int* targets;
  float* margins;
  CUXPLAIN_HD void operator()(std::int64_t s, std::int64_t j) const {
    const std::int64_t t = targets[s], e = s * outputs + j;
    const float target_lo = lo[s * outputs + t];
    margins[e] = j == t  ? 0.0f
                 : Sound ? cuxplain::detail::add_rounded<Rounding::up>(hi[e], -target_lo)
                         : hi[e] - target_lo;
  }
};

template <Rounding R>
struct ActivationForward {
  cuxplain::detail::ActivationParams a;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t e) const {
    y[e] = cuxplain::detail::activation_rounded<R>(a, x[e]);
  }
};

template <Rounding R_lo, Rounding R_hi>
struct ActivationBounds {
  cuxplain::detail::ActivationParams a;
  const float* l;
  const float* u;
  float* lo;
  float* hi;
  CUXPLAIN_HD void operator()(std::int64_t e) const {
    const Interval v = cuxplain::detail::activation_interval<R_lo, R_hi>(a, l[e], u[e]);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
};

/// Output row = (sample s, channel c, row oy), col = ox; b broadcast.
template <Rounding R_lo, Rounding R_hi, bool Bounds>
struct BinaryWalk {
  cuxplain::detail::BinaryOp op;
  cuxplain::detail::Broadcast b;
  std::int64_t channels, h, w;
  const float* al;
  const float* au;
  const float* bl;
  const float* bu;
  float* lo;
  float* hi;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t oy = row % h, sc = row / h;
    const std::int64_t c = sc % channels, s = sc / channels;
    const std::int64_t e = row * w + ox;
    const std::int64_t f = s * b.size() + b.index(c, oy, ox);
    if constexpr (Bounds) {
      const Interval v =
          cuxplain::detail::binary_interval<R_lo, R_hi>(op, al[e], au[e], bl[f], bu[f]);
      lo[e] = v.lo;
      hi[e] = v.hi;
    } else {
      lo[e] = cuxplain::detail::binary_rounded<R_lo>(op, al[e], bl[f]);
    }
  }
};

/// y[s][offset + e] = x[s][e] for e < in_size.
struct CopyBlock {
  const float* x;
  std::int64_t in_size, out_size, offset;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t s, std::int64_t e) const {
    y[s * out_size + offset + e] = x[s * in_size + e];
  }
};

/// Output row = (plane q, oy), col = ox.
struct Pad {
  cuxplain::detail::PadGeometry g;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t ox) const {
    const std::int64_t q = row / g.out_h, oy = row % g.out_h;
    const std::int64_t iy = cuxplain::detail::pad_source(g.mode, oy, g.pad_top, g.in_h);
    const std::int64_t ix = cuxplain::detail::pad_source(g.mode, ox, g.pad_left, g.in_w);
    y[row * g.out_w + ox] = iy < 0 || ix < 0 ? g.value : x[(q * g.in_h + iy) * g.in_w + ix];
  }
};

struct Transpose {
  cuxplain::detail::TransposeGeometry g;
  std::int64_t size;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t s, std::int64_t e) const {
    y[s * size + e] = x[s * size + g.source(e)];
  }
};

struct Softmax {
  std::int64_t k;
  const float* x;
  float* y;
  CUXPLAIN_HD void operator()(std::int64_t s) const {
    cuxplain::detail::softmax_row(x + s * k, k, y + s * k);
  }
};

struct SoftmaxBounds {
  std::int64_t k;
  bool sound;
  const float* l;
  const float* u;
  float* lo;
  float* hi;
  CUXPLAIN_HD void operator()(std::int64_t s) const {
    cuxplain::detail::softmax_interval_row(l + s * k, u + s * k, k, sound, lo + s * k, hi + s * k);
  }
};

}  // namespace nn_ops

void nn_im2col(const Context& ctx, const cuxplain::detail::ConvGeometry& g, const float* x,
               std::int64_t samples, float* cols) {
  for_each(ctx, Extent2{g.col_rows() * samples * g.out_h, g.out_w},
           nn_ops::Im2col{g, samples, x, cols});
}

void nn_im2col_bounds(const Context& ctx, const cuxplain::detail::ConvGeometry& g,
                      const float* l, const float* u, std::int64_t samples, float* centre_cols,
                      float* radius_cols) {
  for_each(ctx, Extent2{g.col_rows() * samples * g.out_h, g.out_w},
           nn_ops::Im2colBounds{g, samples, l, u, centre_cols, radius_cols});
}

void nn_conv_epilogue(const Context& ctx, const float* panel, const float* bias, bool relu,
                      std::int64_t out_c, std::int64_t plane, std::int64_t samples, float* y) {
  for_each(ctx, Extent2{samples * out_c, plane},
           nn_ops::ConvEpilogue{panel, bias, relu, out_c, plane, samples, y});
}

void nn_conv_bounds_epilogue(const Context& ctx, const float* centre_panel,
                             const float* radius_panel, const float* bias, bool relu,
                             std::int64_t out_c, std::int64_t plane, std::int64_t samples,
                             float* lo, float* hi) {
  for_each(ctx, Extent2{samples * out_c, plane},
           nn_ops::ConvBoundsEpilogue{centre_panel, radius_panel, bias, relu, out_c, plane,
                                      samples, lo, hi});
}

void nn_bias(const Context& ctx, float* y, const float* bias, bool relu, std::int64_t rows,
             std::int64_t outputs) {
  for_each(ctx, Extent2{rows, outputs}, nn_ops::Bias{y, bias, relu, outputs});
}

void nn_centre_radius(const Context& ctx, const float* l, const float* u, std::int64_t count,
                      float* centre, float* radius) {
  for_each(ctx, count, nn_ops::CentreRadius{l, u, centre, radius});
}

void nn_bounds_epilogue(const Context& ctx, float* lo, float* hi, const float* bias, bool relu,
                        std::int64_t rows, std::int64_t outputs) {
  for_each(ctx, Extent2{rows, outputs}, nn_ops::BoundsEpilogue{lo, hi, bias, relu, outputs});
}

void nn_channel_affine(const Context& ctx, std::int64_t channels, std::int64_t plane,
                       const float* scale, const float* shift, bool relu, const float* x,
                       std::int64_t n, float* y) {
  for_each(ctx, Extent2{n * channels, plane},
           nn_ops::ChannelAffine{scale, shift, relu, channels, plane, x, y});
}

void nn_channel_affine_bounds(const Context& ctx, std::int64_t channels, std::int64_t plane,
                              const float* scale, const float* shift, bool relu, bool sound,
                              const float* l, const float* u, std::int64_t n, float* lo,
                              float* hi) {
  using cuxplain::detail::Rounding;
  const Extent2 extent{n * channels, plane};
  if (sound) {
    for_each(ctx, extent,
             nn_ops::ChannelAffineBounds<Rounding::down, Rounding::up>{
                 scale, shift, relu, channels, plane, l, u, lo, hi});
  } else {
    for_each(ctx, extent,
             nn_ops::ChannelAffineBounds<Rounding::nearest, Rounding::nearest>{
                 scale, shift, relu, channels, plane, l, u, lo, hi});
  }
}

void nn_relu(const Context& ctx, const float* x, std::int64_t count, float* y) {
  for_each(ctx, count, nn_ops::Relu{x, y});
}

void nn_max_pool(const Context& ctx, const cuxplain::detail::PoolGeometry& g, const float* x,
                 std::int64_t n, float* y) {
  for_each(ctx, Extent2{n * g.channels * g.out_h, g.out_w}, nn_ops::MaxPool{g, x, y});
}

void nn_avg_pool(const Context& ctx, const cuxplain::detail::PoolGeometry& g,
                 cuxplain::detail::Rounding rounding, const float* x, std::int64_t n, float* y) {
  nn_ops::with_rounding(rounding, [&](auto r) {
    for_each(ctx, Extent2{n * g.channels * g.out_h, g.out_w},
             nn_ops::AvgPool<decltype(r)::value>{g, x, y});
  });
}

void nn_global_avg_pool(const Context& ctx, std::int64_t channels, std::int64_t plane,
                        cuxplain::detail::Rounding rounding, const float* x, std::int64_t n,
                        float* y) {
  nn_ops::with_rounding(rounding, [&](auto r) {
    for_each(ctx, n * channels, nn_ops::GlobalAvgPool<decltype(r)::value>{plane, x, y});
  });
}

void nn_add(const Context& ctx, const float* a, const float* b, std::int64_t count, bool relu,
            cuxplain::detail::Rounding rounding, float* y) {
  nn_ops::with_rounding(rounding, [&](auto r) {
    for_each(ctx, count, nn_ops::Add<decltype(r)::value>{a, b, relu, y});
  });
}

void nn_margins_from_bounds(const Context& ctx, std::int64_t outputs, bool sound,
                            const float* lo, const float* hi, std::int64_t n, const int* targets,
                            float* margins) {
  if (sound) {
    for_each(ctx, Extent2{n, outputs},
             nn_ops::MarginsFromBounds<true>{outputs, lo, hi, targets, margins});
  } else {
    for_each(ctx, Extent2{n, outputs},
             nn_ops::MarginsFromBounds<false>{outputs, lo, hi, targets, margins});
  }
}


void nn_activation(const Context& ctx, const cuxplain::detail::ActivationParams& a,
                   const float* x, std::int64_t count, float* y) {
  for_each(ctx, count, nn_ops::ActivationForward<cuxplain::detail::Rounding::nearest>{a, x, y});
}

void nn_activation_bounds(const Context& ctx, const cuxplain::detail::ActivationParams& a,
                          bool sound, const float* l, const float* u, std::int64_t count,
                          float* lo, float* hi) {
  using cuxplain::detail::Rounding;
  if (sound) {
    for_each(ctx, count, nn_ops::ActivationBounds<Rounding::down, Rounding::up>{a, l, u, lo, hi});
  } else {
    for_each(ctx, count,
             nn_ops::ActivationBounds<Rounding::nearest, Rounding::nearest>{a, l, u, lo, hi});
  }
}

void nn_binary(const Context& ctx, cuxplain::detail::BinaryOp op,
               const cuxplain::detail::Broadcast& b, std::int64_t channels, std::int64_t h,
               std::int64_t w, const float* x, const float* bx, std::int64_t n, float* y) {
  using cuxplain::detail::Rounding;
  for_each(ctx, Extent2{n * channels * h, w},
           nn_ops::BinaryWalk<Rounding::nearest, Rounding::nearest, false>{
               op, b, channels, h, w, x, nullptr, bx, nullptr, y, nullptr});
}

void nn_binary_bounds(const Context& ctx, cuxplain::detail::BinaryOp op,
                      const cuxplain::detail::Broadcast& b, std::int64_t channels, std::int64_t h,
                      std::int64_t w, bool sound, const float* al, const float* au,
                      const float* bl, const float* bu, std::int64_t n, float* lo, float* hi) {
  using cuxplain::detail::Rounding;
  const Extent2 extent{n * channels * h, w};
  if (sound) {
    for_each(ctx, extent,
             nn_ops::BinaryWalk<Rounding::down, Rounding::up, true>{op, b, channels, h, w, al, au,
                                                                    bl, bu, lo, hi});
  } else {
    for_each(ctx, extent,
             nn_ops::BinaryWalk<Rounding::nearest, Rounding::nearest, true>{
                 op, b, channels, h, w, al, au, bl, bu, lo, hi});
  }
}

void nn_copy_block(const Context& ctx, const float* x, std::int64_t n, std::int64_t in_size,
                   float* y, std::int64_t out_size, std::int64_t offset) {
  for_each(ctx, Extent2{n, in_size}, nn_ops::CopyBlock{x, in_size, out_size, offset, y});
}

void nn_pad(const Context& ctx, const cuxplain::detail::PadGeometry& g, const float* x,
            std::int64_t n, float* y) {
  for_each(ctx, Extent2{n * g.channels * g.out_h, g.out_w}, nn_ops::Pad{g, x, y});
}

void nn_transpose(const Context& ctx, const cuxplain::detail::TransposeGeometry& g,
                  const float* x, std::int64_t n, float* y) {
  const std::int64_t size = g.d0 * g.d1 * g.d2;
  for_each(ctx, Extent2{n, size}, nn_ops::Transpose{g, size, x, y});
}

void nn_softmax(const Context& ctx, std::int64_t k, const float* x, std::int64_t n, float* y) {
  for_each(ctx, n, nn_ops::Softmax{k, x, y});
}

void nn_softmax_bounds(const Context& ctx, std::int64_t k, bool sound, const float* l,
                       const float* u, std::int64_t n, float* lo, float* hi) {
  for_each(ctx, n, nn_ops::SoftmaxBounds{k, sound, l, u, lo, hi});
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
