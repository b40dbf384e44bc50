// Network stack on the host: the same math as kernels/cuda/nn.cu
// (include/cuxplain/detail/nn.hpp), walked with OpenMP loops; GEMMs through
// kernels/cpu/gemm.hpp (OpenBLAS when found). Convolutions run as im2col +
// one GEMM per chunk of samples (detail::conv_chunk_samples), the GEMM's
// [out_c][chunk * plane] panel scattered back to NCHW by the epilogue.
#include "../nn.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/nn.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend.hpp"

namespace cuxplain::kernels::cpu {
namespace {

using detail::ConvGeometry;
using detail::PoolGeometry;
using detail::Rounding;

/// Walks the column matrix of `samples` samples, cols[k][s * plane + p]:
/// write(e, src) for each entry e with the input index src it reads (sample
/// offset included), or -1 for padding. The (c, ky, kx) and row arithmetic
/// of detail::im2col_source, hoisted out of the inner loop.
template <class Write>
void im2col_walk(const ConvGeometry& g, std::int64_t samples, Write write) {
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), in_size = g.in_size();
  const std::int64_t width = samples * plane;
#pragma omp parallel for schedule(static)
  for (std::int64_t k = 0; k < k_count; ++k) {
    const std::int64_t kx = k % g.kernel_w;
    const std::int64_t ky = (k / g.kernel_w) % g.kernel_h;
    const std::int64_t c = k / (g.kernel_w * g.kernel_h);
    for (std::int64_t s = 0; s < samples; ++s) {
      for (std::int64_t oy = 0; oy < g.out_h; ++oy) {
        const std::int64_t iy = oy * g.stride_h - g.pad_top + ky;
        const std::int64_t dst = k * width + s * plane + oy * g.out_w;
        if (iy < 0 || iy >= g.in_h) {
          for (std::int64_t ox = 0; ox < g.out_w; ++ox) write(dst + ox, std::int64_t{-1});
          continue;
        }
        const std::int64_t row = s * in_size + (c * g.in_h + iy) * g.in_w;
        for (std::int64_t ox = 0; ox < g.out_w; ++ox) {
          const std::int64_t ix = ox * g.stride_w - g.pad_left + kx;
          write(dst + ox, ix < 0 || ix >= g.in_w ? std::int64_t{-1} : row + ix);
        }
      }
    }
  }
}

/// Column matrix of `samples` samples: cols[k][s * plane + p].
void im2col(const ConvGeometry& g, const float* x, std::int64_t samples, float* cols) {
  im2col_walk(g, samples, [&](std::int64_t e, std::int64_t src) {
    cols[e] = src < 0 ? 0.0f : x[src];
  });
}

/// Centre and radius column matrices of the boxes [l, u].
void im2col_bounds(const ConvGeometry& g, const float* l, const float* u, std::int64_t samples,
                   float* centre_cols, float* radius_cols) {
  im2col_walk(g, samples, [&](std::int64_t e, std::int64_t src) {
    centre_cols[e] = src < 0 ? 0.0f : detail::interval_centre(l[src], u[src]);
    radius_cols[e] = src < 0 ? 0.0f : detail::interval_radius(l[src], u[src]);
  });
}

template <Rounding R>
void avg_pool_walk(const PoolGeometry& g, const float* x, std::int64_t n, float* y) {
  const std::int64_t planes = n * g.channels;
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    const float* src = x + q * in_plane;
    float* dst = y + q * out_plane;
    for (std::int64_t oy = 0; oy < g.out_h; ++oy) {
      for (std::int64_t ox = 0; ox < g.out_w; ++ox) {
        const detail::PoolWindow w = detail::pool_window(g, oy, ox);
        float sum = 0.0f;
        for (std::int64_t iy = w.y0; iy < w.y1; ++iy)
          for (std::int64_t ix = w.x0; ix < w.x1; ++ix)
            sum = detail::add_rounded<R>(sum, src[iy * g.in_w + ix]);
        dst[oy * g.out_w + ox] = detail::div_rounded<R>(sum, static_cast<float>(w.divisor));
      }
    }
  }
}

template <Rounding R>
void global_avg_pool_walk(std::int64_t planes, std::int64_t plane, const float* x, float* y) {
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    float sum = 0.0f;
    for (std::int64_t i = 0; i < plane; ++i) sum = detail::add_rounded<R>(sum, x[q * plane + i]);
    y[q] = detail::div_rounded<R>(sum, static_cast<float>(plane));
  }
}

template <Rounding R>
void add_walk(const float* a, const float* b, std::int64_t count, bool relu, float* y) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    const float sum = detail::add_rounded<R>(a[i], b[i]);
    y[i] = relu ? detail::relu_value(sum) : sum;
  }
}

template <Rounding R_lo, Rounding R_hi>
void channel_affine_bounds_walk(std::int64_t channels, std::int64_t plane, const float* scale,
                                const float* shift, bool relu, const float* l, const float* u,
                                std::int64_t n, float* lo, float* hi) {
  const std::int64_t planes = n * channels;
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    const std::int64_t c = q % channels;
    for (std::int64_t i = q * plane; i < (q + 1) * plane; ++i) {
      const detail::Interval out =
          detail::channel_affine_interval<R_lo, R_hi>(scale[c], shift[c], l[i], u[i], relu);
      lo[i] = out.lo;
      hi[i] = out.hi;
    }
  }
}

}  // namespace

void nn_conv_forward(const Context& ctx, const ConvGeometry& g, const float* weight,
                     const float* bias, bool relu, const float* x, std::int64_t n, float* y) {
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t chunk = detail::conv_chunk_samples(g, n);
  Buffer<float> cols(ctx, k_count * chunk * plane);
  Buffer<float> panel(ctx, out_c * chunk * plane);
  for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
    const std::int64_t samples = std::min(chunk, n - s0);
    const std::int64_t width = samples * plane;
    im2col(g, x + s0 * g.in_size(), samples, cols.data());
    gemm(ctx, false, false, out_c, width, k_count, 1.0f, weight, k_count, cols.data(), width, 0.0f,
          panel.data(), width);
    float* out = y + s0 * g.out_size();
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < samples; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        const float* src = panel.data() + o * width + s * plane;
        float* dst = out + (s * out_c + o) * plane;
        for (std::int64_t p = 0; p < plane; ++p) {
          const float v = src[p] + bias[o];
          dst[p] = relu ? detail::relu_value(v) : v;
        }
      }
    }
  }
}

void nn_conv_bounds(const Context& ctx, const ConvGeometry& g, const float* weight,
                    const float* abs_weight, const float* bias, bool relu, const float* l,
                    const float* u, std::int64_t n, float* lo, float* hi) {
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t chunk = detail::conv_chunk_samples(g, n);
  Buffer<float> centre_cols(ctx, k_count * chunk * plane);
  Buffer<float> radius_cols(ctx, k_count * chunk * plane);
  Buffer<float> centre_panel(ctx, out_c * chunk * plane);
  Buffer<float> radius_panel(ctx, out_c * chunk * plane);
  for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
    const std::int64_t samples = std::min(chunk, n - s0);
    const std::int64_t width = samples * plane;
    im2col_bounds(g, l + s0 * g.in_size(), u + s0 * g.in_size(), samples, centre_cols.data(),
                  radius_cols.data());
    gemm(ctx, false, false, out_c, width, k_count, 1.0f, weight, k_count, centre_cols.data(), width,
          0.0f, centre_panel.data(), width);
    gemm(ctx, false, false, out_c, width, k_count, 1.0f, abs_weight, k_count, radius_cols.data(),
          width, 0.0f, radius_panel.data(), width);
    float* out_lo = lo + s0 * g.out_size();
    float* out_hi = hi + s0 * g.out_size();
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < samples; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        const std::int64_t src = o * width + s * plane;
        const std::int64_t dst = (s * out_c + o) * plane;
        for (std::int64_t p = 0; p < plane; ++p) {
          const detail::Interval v = detail::affine_interval(
              centre_panel.data()[src + p], radius_panel.data()[src + p], bias[o], relu);
          out_lo[dst + p] = v.lo;
          out_hi[dst + p] = v.hi;
        }
      }
    }
  }
}

void nn_affine_bounds_sound(const Context&, const ConvGeometry& g, const float* weight,
                            const float* bias, bool relu, const float* l, const float* u,
                            std::int64_t n, float* lo, float* hi) {
  // Each output sums its K terms in order k = (c, ky, kx) = 0..K-1 starting
  // from the bias, padding reading 0: the order kernels/cuda/nn.cu uses too.
  // Loops: k outside, the output plane inside (one accumulator per output),
  // so the (c, ky, kx) and row arithmetic is done once per k and row.
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t in_size = g.in_size();
  const bool dense = g.in_h == 1 && g.in_w == 1 && g.kernel_h == 1 && g.kernel_w == 1 &&
                     g.out_h == 1 && g.out_w == 1 && g.pad_top == 0 && g.pad_left == 0;
  if (dense) {  // detail::dense_geometry: term k reads input k
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        const float* w = weight + o * k_count;
        const float* sl = l + s * in_size;
        const float* su = u + s * in_size;
        float a = bias[o], b = bias[o];
        for (std::int64_t k = 0; k < k_count; ++k) detail::sound_affine_step(w[k], sl[k], su[k], a, b);
        lo[s * out_c + o] = relu ? detail::relu_value(a) : a;
        hi[s * out_c + o] = relu ? detail::relu_value(b) : b;
      }
    }
    return;
  }
  // Plain locals: the loop bounds are not re-read through `g` after each store.
  const std::int64_t in_c = g.in_c, in_h = g.in_h, in_w = g.in_w, out_h = g.out_h, out_w = g.out_w;
  const std::int64_t kernel_h = g.kernel_h, kernel_w = g.kernel_w;
  const std::int64_t stride_h = g.stride_h, stride_w = g.stride_w;
  const std::int64_t pad_top = g.pad_top, pad_left = g.pad_left;
#pragma omp parallel
  {
    std::vector<float> acc_lo(static_cast<std::size_t>(plane)), acc_hi(acc_lo.size());
#pragma omp for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        float* const al = acc_lo.data();
        float* const ah = acc_hi.data();
        std::fill(al, al + plane, bias[o]);
        std::fill(ah, ah + plane, bias[o]);
        const float* sl = l + s * in_size;
        const float* su = u + s * in_size;
        const float* w = weight + o * k_count;
        for (std::int64_t c = 0, k = 0; c < in_c; ++c) {
          for (std::int64_t ky = 0; ky < kernel_h; ++ky) {
            for (std::int64_t kx = 0; kx < kernel_w; ++kx, ++k) {
              const float wk = w[k];
              for (std::int64_t oy = 0; oy < out_h; ++oy) {
                const std::int64_t iy = oy * stride_h - pad_top + ky;
                float* row_lo = al + oy * out_w;
                float* row_hi = ah + oy * out_w;
                const bool row_ok = iy >= 0 && iy < in_h;
                const float* rl = sl + (c * in_h + (row_ok ? iy : 0)) * in_w;
                const float* ru = su + (c * in_h + (row_ok ? iy : 0)) * in_w;
                for (std::int64_t ox = 0; ox < out_w; ++ox) {
                  const std::int64_t ix = ox * stride_w - pad_left + kx;
                  const bool ok = row_ok && ix >= 0 && ix < in_w;
                  float a = row_lo[ox], b = row_hi[ox];  // locals: no aliasing with the inputs
                  detail::sound_affine_step(wk, ok ? rl[ix] : 0.0f, ok ? ru[ix] : 0.0f, a, b);
                  row_lo[ox] = a;
                  row_hi[ox] = b;
                }
              }
            }
          }
        }
        float* out_lo = lo + (s * out_c + o) * plane;
        float* out_hi = hi + (s * out_c + o) * plane;
        for (std::int64_t p = 0; p < plane; ++p) {
          out_lo[p] = relu ? detail::relu_value(al[p]) : al[p];
          out_hi[p] = relu ? detail::relu_value(ah[p]) : ah[p];
        }
      }
    }
  }
}

void nn_dense_forward(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                      const float* weight, const float* bias, bool relu, const float* x,
                      std::int64_t n, float* y) {
  const std::int64_t chunk = detail::dense_chunk_rows(inputs, outputs, n);
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    gemm(ctx, false, true, rows, outputs, inputs, 1.0f, x + r0 * inputs, inputs, weight, inputs,
          0.0f, y + r0 * outputs, outputs);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t o = 0; o < outputs; ++o) {
      const float v = y[r * outputs + o] + bias[o];
      y[r * outputs + o] = relu ? detail::relu_value(v) : v;
    }
  }
}

void nn_dense_bounds(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                     const float* weight, const float* abs_weight, const float* bias, bool relu,
                     const float* l, const float* u, std::int64_t n, float* lo, float* hi) {
  const std::int64_t chunk = detail::dense_chunk_rows(inputs, outputs, n);
  Buffer<float> centre(ctx, chunk * inputs);
  Buffer<float> radius(ctx, chunk * inputs);
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    const std::int64_t count = rows * inputs;
    const float* sl = l + r0 * inputs;
    const float* su = u + r0 * inputs;
#pragma omp parallel for schedule(static)
    for (std::int64_t e = 0; e < count; ++e) {
      centre.data()[e] = detail::interval_centre(sl[e], su[e]);
      radius.data()[e] = detail::interval_radius(sl[e], su[e]);
    }
    // lo <- W mu, hi <- |W| r, then the epilogue in place.
    gemm(ctx, false, true, rows, outputs, inputs, 1.0f, centre.data(), inputs, weight, inputs, 0.0f,
          lo + r0 * outputs, outputs);
    gemm(ctx, false, true, rows, outputs, inputs, 1.0f, radius.data(), inputs, abs_weight, inputs,
          0.0f, hi + r0 * outputs, outputs);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t o = 0; o < outputs; ++o) {
      const std::int64_t e = r * outputs + o;
      const detail::Interval v = detail::affine_interval(lo[e], hi[e], bias[o], relu);
      lo[e] = v.lo;
      hi[e] = v.hi;
    }
  }
}

void nn_channel_affine(const Context&, std::int64_t channels, std::int64_t plane,
                       const float* scale, const float* shift, bool relu, const float* x,
                       std::int64_t n, float* y) {
  const std::int64_t planes = n * channels;
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    const std::int64_t c = q % channels;
    for (std::int64_t i = q * plane; i < (q + 1) * plane; ++i) {
      const float v = detail::fma_rounded<Rounding::nearest>(scale[c], x[i], shift[c]);
      y[i] = relu ? detail::relu_value(v) : v;
    }
  }
}

void nn_channel_affine_bounds(const Context&, std::int64_t channels, std::int64_t plane,
                              const float* scale, const float* shift, bool relu, bool sound,
                              const float* l, const float* u, std::int64_t n, float* lo,
                              float* hi) {
  if (sound) {
    channel_affine_bounds_walk<Rounding::down, Rounding::up>(channels, plane, scale, shift, relu,
                                                             l, u, n, lo, hi);
  } else {
    channel_affine_bounds_walk<Rounding::nearest, Rounding::nearest>(channels, plane, scale,
                                                                     shift, relu, l, u, n, lo, hi);
  }
}

void nn_relu(const Context&, const float* x, std::int64_t count, float* y) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < count; ++i) y[i] = detail::relu_value(x[i]);
}

void nn_max_pool(const Context&, const PoolGeometry& g, const float* x, std::int64_t n,
                 float* y) {
  const std::int64_t planes = n * g.channels;
  const std::int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    const float* src = x + q * in_plane;
    float* dst = y + q * out_plane;
    for (std::int64_t oy = 0; oy < g.out_h; ++oy) {
      for (std::int64_t ox = 0; ox < g.out_w; ++ox) {
        const detail::PoolWindow w = detail::pool_window(g, oy, ox);
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t iy = w.y0; iy < w.y1; ++iy)
          for (std::int64_t ix = w.x0; ix < w.x1; ++ix) best = std::max(best, src[iy * g.in_w + ix]);
        dst[oy * g.out_w + ox] = best;
      }
    }
  }
}

void nn_avg_pool(const Context&, const PoolGeometry& g, Rounding rounding, const float* x,
                 std::int64_t n, float* y) {
  switch (rounding) {
    case Rounding::down: return avg_pool_walk<Rounding::down>(g, x, n, y);
    case Rounding::up: return avg_pool_walk<Rounding::up>(g, x, n, y);
    default: return avg_pool_walk<Rounding::nearest>(g, x, n, y);
  }
}

void nn_global_avg_pool(const Context&, std::int64_t channels, std::int64_t plane,
                        Rounding rounding, const float* x, std::int64_t n, float* y) {
  switch (rounding) {
    case Rounding::down: return global_avg_pool_walk<Rounding::down>(n * channels, plane, x, y);
    case Rounding::up: return global_avg_pool_walk<Rounding::up>(n * channels, plane, x, y);
    default: return global_avg_pool_walk<Rounding::nearest>(n * channels, plane, x, y);
  }
}

void nn_add(const Context&, const float* a, const float* b, std::int64_t count, bool relu,
            Rounding rounding, float* y) {
  switch (rounding) {
    case Rounding::down: return add_walk<Rounding::down>(a, b, count, relu, y);
    case Rounding::up: return add_walk<Rounding::up>(a, b, count, relu, y);
    default: return add_walk<Rounding::nearest>(a, b, count, relu, y);
  }
}

void nn_margins_folded(const Context&, std::int64_t inputs, std::int64_t outputs,
                       const float* weight, const float* bias, bool sound, const float* l,
                       const float* u, std::int64_t n, const int* targets, float* margins) {
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t j = 0; j < outputs; ++j) {
      const std::int64_t t = targets[s];
      float acc = 0.0f;
      if (j != t) {
        const float* wj = weight + j * inputs;
        const float* wt = weight + t * inputs;
        const float* sl = l + s * inputs;
        const float* su = u + s * inputs;
        if (sound) {
          acc = detail::add_rounded<Rounding::up>(bias[j], -bias[t]);
          for (std::int64_t i = 0; i < inputs; ++i)
            acc = detail::sound_margin_step(wj[i], wt[i], sl[i], su[i], acc);
        } else {
          acc = bias[j] - bias[t];
          for (std::int64_t i = 0; i < inputs; ++i)
            acc = detail::margin_step(wj[i], wt[i], sl[i], su[i], acc);
        }
      }
      margins[s * outputs + j] = acc;
    }
  }
}

void nn_margins_from_bounds(const Context&, std::int64_t outputs, bool sound, const float* lo,
                            const float* hi, std::int64_t n, const int* targets,
                            float* margins) {
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < n; ++s) {
    const float target_lo = lo[s * outputs + targets[s]];
    for (std::int64_t j = 0; j < outputs; ++j) {
      const float upper = hi[s * outputs + j];
      margins[s * outputs + j] =
          j == targets[s] ? 0.0f
          : sound         ? detail::add_rounded<Rounding::up>(upper, -target_lo)
                          : upper - target_lo;
    }
  }
}

std::int64_t nn_first_inverted(const Context&, const float* l, const float* u,
                               std::int64_t count) {
  std::int64_t first = count;
#pragma omp parallel for reduction(min : first) schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    if (!(l[i] <= u[i] && std::isfinite(l[i]) && std::isfinite(u[i])) && i < first) first = i;
  }
  return first == count ? -1 : first;
}

}  // namespace cuxplain::kernels::cpu
