// Network stack on CUDA: the same math as kernels/cpu/nn.cpp
// (include/cuxplain/detail/nn.hpp). Convolutions and dense layers run as
// im2col + cuBLAS SGEMM (the Context's handle) per chunk of samples, with a
// fused bias / relu / interval epilogue; sound mode uses a tiled kernel of
// directed-rounding fmas instead of cuBLAS. Every launch is on ctx.stream().
#include "../nn.hpp"
#include "backend.cuh"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nn.hpp>

#include <algorithm>

namespace cuxplain::kernels::cuda {
namespace {

using detail::ConvGeometry;
using detail::PoolGeometry;
using detail::Rounding;

constexpr int kThreads = 256;

#define CUXPLAIN_GRID_STRIDE(i, count)                                                    \
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; \
       i < (count); i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

/// cols[k][s * plane + p] for `samples` samples starting at x.
__global__ void im2col_kernel(ConvGeometry g, const float* x, std::int64_t samples,
                              float* cols) {
  const std::int64_t plane = g.out_plane(), width = samples * plane, in_size = g.in_size();
  CUXPLAIN_GRID_STRIDE(e, g.patch() * width) {
    const std::int64_t k = e / width, col = e % width;
    const std::int64_t s = col / plane, p = col % plane;
    const std::int64_t src = detail::im2col_source(g, k, p);
    cols[e] = src < 0 ? 0.0f : x[s * in_size + src];
  }
}

/// Centre and radius column matrices of the boxes [l, u].
__global__ void im2col_bounds_kernel(ConvGeometry g, const float* l, const float* u,
                                     std::int64_t samples, float* centre_cols,
                                     float* radius_cols) {
  const std::int64_t plane = g.out_plane(), width = samples * plane, in_size = g.in_size();
  CUXPLAIN_GRID_STRIDE(e, g.patch() * width) {
    const std::int64_t k = e / width, col = e % width;
    const std::int64_t s = col / plane, p = col % plane;
    const std::int64_t src = detail::im2col_source(g, k, p);
    if (src < 0) {
      centre_cols[e] = 0.0f;
      radius_cols[e] = 0.0f;
    } else {
      const float lo = l[s * in_size + src], hi = u[s * in_size + src];
      centre_cols[e] = detail::interval_centre(lo, hi);
      radius_cols[e] = detail::interval_radius(lo, hi);
    }
  }
}

/// y[s][o][p] = act(panel[o][s * plane + p] + bias[o]) (NCHW from the GEMM panel).
__global__ void conv_epilogue_kernel(const float* panel, const float* bias, bool relu,
                                     std::int64_t out_c, std::int64_t plane,
                                     std::int64_t samples, float* y) {
  const std::int64_t width = samples * plane, per_sample = out_c * plane;
  CUXPLAIN_GRID_STRIDE(e, samples * per_sample) {
    const std::int64_t s = e / per_sample, rest = e % per_sample;
    const std::int64_t o = rest / plane, p = rest % plane;
    const float v = panel[o * width + s * plane + p] + bias[o];
    y[e] = relu ? detail::relu_value(v) : v;
  }
}

__global__ void conv_bounds_epilogue_kernel(const float* centre_panel, const float* radius_panel,
                                            const float* bias, bool relu, std::int64_t out_c,
                                            std::int64_t plane, std::int64_t samples, float* lo,
                                            float* hi) {
  const std::int64_t width = samples * plane, per_sample = out_c * plane;
  CUXPLAIN_GRID_STRIDE(e, samples * per_sample) {
    const std::int64_t s = e / per_sample, rest = e % per_sample;
    const std::int64_t o = rest / plane, p = rest % plane;
    const std::int64_t src = o * width + s * plane + p;
    const detail::Interval v =
        detail::affine_interval(centre_panel[src], radius_panel[src], bias[o], relu);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
}

// Sound affine layer: a 16 x 16 tile of (output channel, column) per block,
// column = s * plane + p; each thread sums its output's K terms in order
// k = 0..K-1 from the bias (as the host loop does), reading the weights and
// the implicit im2col of (l, u) through shared memory.
constexpr int kSoundTile = 16;

__global__ void sound_affine_kernel(ConvGeometry g, const float* weight, const float* bias,
                                    bool relu, const float* l, const float* u,
                                    std::int64_t columns, float* lo, float* hi) {
  __shared__ float w_tile[kSoundTile][kSoundTile + 1];  // [channel][k]
  __shared__ float l_tile[kSoundTile][kSoundTile + 1];  // [k][column]
  __shared__ float u_tile[kSoundTile][kSoundTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), in_size = g.in_size();
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kSoundTile + tx;
  const std::int64_t m = static_cast<std::int64_t>(blockIdx.y) * kSoundTile + ty;
  const bool col_ok = col < columns;
  const std::int64_t s = col_ok ? col / plane : 0, p = col_ok ? col % plane : 0;
  float acc_lo = 0.0f, acc_hi = 0.0f;
  if (m < g.out_c) acc_lo = acc_hi = bias[m];
  for (std::int64_t k0 = 0; k0 < k_count; k0 += kSoundTile) {
    const std::int64_t wk = k0 + tx;
    w_tile[ty][tx] = (m < g.out_c && wk < k_count) ? weight[m * k_count + wk] : 0.0f;
    const std::int64_t ik = k0 + ty;
    float vl = 0.0f, vu = 0.0f;
    if (col_ok && ik < k_count) {
      const std::int64_t src = detail::im2col_source(g, ik, p);
      if (src >= 0) {
        vl = l[s * in_size + src];
        vu = u[s * in_size + src];
      }
    }
    l_tile[ty][tx] = vl;
    u_tile[ty][tx] = vu;
    __syncthreads();
    const std::int64_t remaining = k_count - k0;
    const int steps = remaining < kSoundTile ? static_cast<int>(remaining) : kSoundTile;
    for (int kk = 0; kk < steps; ++kk) {
      detail::sound_affine_step(w_tile[ty][kk], l_tile[kk][tx], u_tile[kk][tx], acc_lo, acc_hi);
    }
    __syncthreads();
  }
  if (m < g.out_c && col_ok) {
    const std::int64_t e = (s * g.out_c + m) * plane + p;
    lo[e] = relu ? detail::relu_value(acc_lo) : acc_lo;
    hi[e] = relu ? detail::relu_value(acc_hi) : acc_hi;
  }
}

/// y[r][o] = act(y[r][o] + bias[o]) in place.
__global__ void bias_kernel(float* y, const float* bias, bool relu, std::int64_t rows,
                            std::int64_t outputs) {
  CUXPLAIN_GRID_STRIDE(e, rows * outputs) {
    const float v = y[e] + bias[e % outputs];
    y[e] = relu ? detail::relu_value(v) : v;
  }
}

__global__ void centre_radius_kernel(const float* l, const float* u, std::int64_t count,
                                     float* centre, float* radius) {
  CUXPLAIN_GRID_STRIDE(e, count) {
    centre[e] = detail::interval_centre(l[e], u[e]);
    radius[e] = detail::interval_radius(l[e], u[e]);
  }
}

/// lo holds W mu, hi holds |W| r: the interval epilogue in place.
__global__ void dense_bounds_epilogue_kernel(float* lo, float* hi, const float* bias, bool relu,
                                             std::int64_t rows, std::int64_t outputs) {
  CUXPLAIN_GRID_STRIDE(e, rows * outputs) {
    const detail::Interval v = detail::affine_interval(lo[e], hi[e], bias[e % outputs], relu);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
}

__global__ void channel_affine_kernel(const float* scale, const float* shift, bool relu,
                                      std::int64_t channels, std::int64_t plane,
                                      const float* x, std::int64_t count, float* y) {
  CUXPLAIN_GRID_STRIDE(e, count) {
    const std::int64_t c = (e / plane) % channels;
    const float v = detail::fma_rounded<Rounding::nearest>(scale[c], x[e], shift[c]);
    y[e] = relu ? detail::relu_value(v) : v;
  }
}

template <Rounding R_lo, Rounding R_hi>
__global__ void channel_affine_bounds_kernel(const float* scale, const float* shift, bool relu,
                                             std::int64_t channels, std::int64_t plane,
                                             const float* l, const float* u, std::int64_t count,
                                             float* lo, float* hi) {
  CUXPLAIN_GRID_STRIDE(e, count) {
    const std::int64_t c = (e / plane) % channels;
    const detail::Interval v =
        detail::channel_affine_interval<R_lo, R_hi>(scale[c], shift[c], l[e], u[e], relu);
    lo[e] = v.lo;
    hi[e] = v.hi;
  }
}

__global__ void relu_kernel(const float* x, std::int64_t count, float* y) {
  CUXPLAIN_GRID_STRIDE(e, count) { y[e] = detail::relu_value(x[e]); }
}

__global__ void max_pool_kernel(PoolGeometry g, const float* x, std::int64_t count, float* y) {
  const std::int64_t out_plane = g.out_h * g.out_w, in_plane = g.in_h * g.in_w;
  CUXPLAIN_GRID_STRIDE(e, count) {
    const std::int64_t q = e / out_plane, rest = e % out_plane;
    const detail::PoolWindow w = detail::pool_window(g, rest / g.out_w, rest % g.out_w);
    const float* src = x + q * in_plane;
    float best = -INFINITY;
    for (std::int64_t iy = w.y0; iy < w.y1; ++iy)
      for (std::int64_t ix = w.x0; ix < w.x1; ++ix) best = fmaxf(best, src[iy * g.in_w + ix]);
    y[e] = best;
  }
}

template <Rounding R>
__global__ void avg_pool_kernel(PoolGeometry g, const float* x, std::int64_t count, float* y) {
  const std::int64_t out_plane = g.out_h * g.out_w, in_plane = g.in_h * g.in_w;
  CUXPLAIN_GRID_STRIDE(e, count) {
    const std::int64_t q = e / out_plane, rest = e % out_plane;
    const detail::PoolWindow w = detail::pool_window(g, rest / g.out_w, rest % g.out_w);
    const float* src = x + q * in_plane;
    float sum = 0.0f;
    for (std::int64_t iy = w.y0; iy < w.y1; ++iy)
      for (std::int64_t ix = w.x0; ix < w.x1; ++ix)
        sum = detail::add_rounded<R>(sum, src[iy * g.in_w + ix]);
    y[e] = detail::div_rounded<R>(sum, static_cast<float>(w.divisor));
  }
}

/// One thread per channel plane, summing in the host's order.
template <Rounding R>
__global__ void global_avg_pool_kernel(const float* x, std::int64_t planes, std::int64_t plane,
                                       float* y) {
  CUXPLAIN_GRID_STRIDE(q, planes) {
    float sum = 0.0f;
    for (std::int64_t i = 0; i < plane; ++i) sum = detail::add_rounded<R>(sum, x[q * plane + i]);
    y[q] = detail::div_rounded<R>(sum, static_cast<float>(plane));
  }
}

template <Rounding R>
__global__ void add_kernel(const float* a, const float* b, std::int64_t count, bool relu,
                           float* y) {
  CUXPLAIN_GRID_STRIDE(e, count) {
    const float v = detail::add_rounded<R>(a[e], b[e]);
    y[e] = relu ? detail::relu_value(v) : v;
  }
}

// Folded margins: a block per (box s, tile of kMarginClasses classes j);
// chunks of kMarginChunk inputs of W's rows, W_t's row and the box go
// through shared memory; each thread sums its class's terms in input order
// (the host's order).
constexpr int kMarginClasses = 128;
constexpr int kMarginChunk = 32;

template <bool Sound>
__global__ void margins_folded_kernel(std::int64_t inputs, std::int64_t outputs,
                                      const float* weight, const float* bias, const float* l,
                                      const float* u, const int* targets, float* margins) {
  __shared__ float w_tile[kMarginClasses][kMarginChunk + 1];
  __shared__ float wt[kMarginChunk], sl[kMarginChunk], su[kMarginChunk];
  const std::int64_t s = blockIdx.x;
  const std::int64_t j0 = static_cast<std::int64_t>(blockIdx.y) * kMarginClasses;
  const std::int64_t j = j0 + threadIdx.x;
  const std::int64_t t = targets[s];
  const bool active = j < outputs && j != t;
  float acc = 0.0f;
  if (active) {
    acc = Sound ? detail::add_rounded<Rounding::up>(bias[j], -bias[t]) : bias[j] - bias[t];
  }
  for (std::int64_t i0 = 0; i0 < inputs; i0 += kMarginChunk) {
    for (int e = threadIdx.x; e < kMarginClasses * kMarginChunk; e += blockDim.x) {
      const int r = e / kMarginChunk, c = e % kMarginChunk;
      const std::int64_t gj = j0 + r, gi = i0 + c;
      w_tile[r][c] = (gj < outputs && gi < inputs) ? weight[gj * inputs + gi] : 0.0f;
    }
    if (threadIdx.x < kMarginChunk) {
      const std::int64_t gi = i0 + threadIdx.x;
      const bool ok = gi < inputs;
      wt[threadIdx.x] = ok ? weight[t * inputs + gi] : 0.0f;
      sl[threadIdx.x] = ok ? l[s * inputs + gi] : 0.0f;
      su[threadIdx.x] = ok ? u[s * inputs + gi] : 0.0f;
    }
    __syncthreads();
    if (active) {
      const std::int64_t remaining = inputs - i0;
      const int steps = remaining < kMarginChunk ? static_cast<int>(remaining) : kMarginChunk;
      for (int c = 0; c < steps; ++c) {
        if constexpr (Sound) {
          acc = detail::sound_margin_step(w_tile[threadIdx.x][c], wt[c], sl[c], su[c], acc);
        } else {
          acc = detail::margin_step(w_tile[threadIdx.x][c], wt[c], sl[c], su[c], acc);
        }
      }
    }
    __syncthreads();
  }
  if (j < outputs) margins[s * outputs + j] = active ? acc : 0.0f;
}

template <bool Sound>
__global__ void margins_from_bounds_kernel(std::int64_t outputs, const float* lo, const float* hi,
                                           std::int64_t n, const int* targets, float* margins) {
  CUXPLAIN_GRID_STRIDE(e, n * outputs) {
    const std::int64_t s = e / outputs, j = e % outputs, t = targets[s];
    const float target_lo = lo[s * outputs + t];
    margins[e] = j == t  ? 0.0f
                 : Sound ? detail::add_rounded<Rounding::up>(hi[e], -target_lo)
                         : hi[e] - target_lo;
  }
}

__global__ void first_inverted_kernel(const float* l, const float* u, std::int64_t count,
                                      unsigned long long* first) {
  CUXPLAIN_GRID_STRIDE(e, count) {
    if (!(l[e] <= u[e] && isfinite(l[e]) && isfinite(u[e]))) {
      atomicMin(first, static_cast<unsigned long long>(e));
    }
  }
}

#undef CUXPLAIN_GRID_STRIDE

/// Row-major C (m x n) = A (m x k) * B (k x n), leading dimensions k, n, n.
void gemm_nn(const Context& ctx, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
             const float* b, float* c) {
  gemm(ctx, false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

/// Row-major Y (rows x outputs) = X (rows x inputs) * W^T, W outputs x inputs.
void gemm_xwt(const Context& ctx, std::int64_t rows, std::int64_t outputs, std::int64_t inputs,
              const float* x, const float* w, float* y) {
  gemm(ctx, false, true, rows, outputs, inputs, 1.0f, x, inputs, w, inputs, 0.0f, y, outputs);
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
    im2col_kernel<<<blocks_for(k_count * width, kThreads), kThreads, 0, ctx.stream()>>>(
        g, x + s0 * g.in_size(), samples, cols.data());
    CUXPLAIN_CHECK_LAUNCH();
    gemm_nn(ctx, out_c, width, k_count, weight, cols.data(), panel.data());
    conv_epilogue_kernel<<<blocks_for(samples * g.out_size(), kThreads), kThreads, 0,
                           ctx.stream()>>>(panel.data(), bias, relu, out_c, plane, samples,
                                           y + s0 * g.out_size());
    CUXPLAIN_CHECK_LAUNCH();
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
    im2col_bounds_kernel<<<blocks_for(k_count * width, kThreads), kThreads, 0, ctx.stream()>>>(
        g, l + s0 * g.in_size(), u + s0 * g.in_size(), samples, centre_cols.data(),
        radius_cols.data());
    CUXPLAIN_CHECK_LAUNCH();
    gemm_nn(ctx, out_c, width, k_count, weight, centre_cols.data(), centre_panel.data());
    gemm_nn(ctx, out_c, width, k_count, abs_weight, radius_cols.data(), radius_panel.data());
    conv_bounds_epilogue_kernel<<<blocks_for(samples * g.out_size(), kThreads), kThreads, 0,
                                  ctx.stream()>>>(centre_panel.data(), radius_panel.data(), bias,
                                                  relu, out_c, plane, samples,
                                                  lo + s0 * g.out_size(), hi + s0 * g.out_size());
    CUXPLAIN_CHECK_LAUNCH();
  }
}

void nn_affine_bounds_sound(const Context& ctx, const ConvGeometry& g, const float* weight,
                            const float* bias, bool relu, const float* l, const float* u,
                            std::int64_t n, float* lo, float* hi) {
  const std::int64_t columns = n * g.out_plane();
  const std::int64_t column_tiles = (columns + kSoundTile - 1) / kSoundTile;
  const std::int64_t channel_tiles = (g.out_c + kSoundTile - 1) / kSoundTile;
  CUXPLAIN_EXPECTS(channel_tiles <= 65535 && column_tiles <= 0x7fffffff,
                   "sound bounds: ", g.out_c, " output channels x ", columns,
                   " columns exceed the CUDA grid");
  const dim3 grid(static_cast<unsigned>(column_tiles), static_cast<unsigned>(channel_tiles));
  const dim3 block(kSoundTile, kSoundTile);
  sound_affine_kernel<<<grid, block, 0, ctx.stream()>>>(g, weight, bias, relu, l, u, columns, lo,
                                                         hi);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_dense_forward(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                      const float* weight, const float* bias, bool relu, const float* x,
                      std::int64_t n, float* y) {
  const std::int64_t chunk = detail::dense_chunk_rows(inputs, outputs, n);
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    gemm_xwt(ctx, rows, outputs, inputs, x + r0 * inputs, weight, y + r0 * outputs);
  }
  bias_kernel<<<blocks_for(n * outputs, kThreads), kThreads, 0, ctx.stream()>>>(y, bias, relu, n,
                                                                              outputs);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_dense_bounds(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                     const float* weight, const float* abs_weight, const float* bias, bool relu,
                     const float* l, const float* u, std::int64_t n, float* lo, float* hi) {
  const std::int64_t chunk = detail::dense_chunk_rows(inputs, outputs, n);
  Buffer<float> centre(ctx, chunk * inputs);
  Buffer<float> radius(ctx, chunk * inputs);
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    centre_radius_kernel<<<blocks_for(rows * inputs, kThreads), kThreads, 0, ctx.stream()>>>(
        l + r0 * inputs, u + r0 * inputs, rows * inputs, centre.data(), radius.data());
    CUXPLAIN_CHECK_LAUNCH();
    gemm_xwt(ctx, rows, outputs, inputs, centre.data(), weight, lo + r0 * outputs);
    gemm_xwt(ctx, rows, outputs, inputs, radius.data(), abs_weight, hi + r0 * outputs);
  }
  dense_bounds_epilogue_kernel<<<blocks_for(n * outputs, kThreads), kThreads, 0, ctx.stream()>>>(
      lo, hi, bias, relu, n, outputs);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_channel_affine(const Context& ctx, std::int64_t channels, std::int64_t plane,
                       const float* scale, const float* shift, bool relu, const float* x,
                       std::int64_t n, float* y) {
  const std::int64_t count = n * channels * plane;
  channel_affine_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(
      scale, shift, relu, channels, plane, x, count, y);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_channel_affine_bounds(const Context& ctx, std::int64_t channels, std::int64_t plane,
                              const float* scale, const float* shift, bool relu, bool sound,
                              const float* l, const float* u, std::int64_t n, float* lo,
                              float* hi) {
  const std::int64_t count = n * channels * plane;
  if (sound) {
    channel_affine_bounds_kernel<Rounding::down, Rounding::up>
        <<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(scale, shift, relu, channels,
                                                                    plane, l, u, count, lo, hi);
  } else {
    channel_affine_bounds_kernel<Rounding::nearest, Rounding::nearest>
        <<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(scale, shift, relu, channels,
                                                                    plane, l, u, count, lo, hi);
  }
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_relu(const Context& ctx, const float* x, std::int64_t count, float* y) {
  relu_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(x, count, y);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_max_pool(const Context& ctx, const PoolGeometry& g, const float* x, std::int64_t n,
                 float* y) {
  const std::int64_t count = n * g.out_size();
  max_pool_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(g, x, count, y);
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_avg_pool(const Context& ctx, const PoolGeometry& g, Rounding rounding, const float* x,
                 std::int64_t n, float* y) {
  const std::int64_t count = n * g.out_size();
  const unsigned blocks = blocks_for(count, kThreads);
  switch (rounding) {
    case Rounding::down:
      avg_pool_kernel<Rounding::down><<<blocks, kThreads, 0, ctx.stream()>>>(g, x, count, y);
      break;
    case Rounding::up:
      avg_pool_kernel<Rounding::up><<<blocks, kThreads, 0, ctx.stream()>>>(g, x, count, y);
      break;
    default:
      avg_pool_kernel<Rounding::nearest><<<blocks, kThreads, 0, ctx.stream()>>>(g, x, count, y);
      break;
  }
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_global_avg_pool(const Context& ctx, std::int64_t channels, std::int64_t plane,
                        Rounding rounding, const float* x, std::int64_t n, float* y) {
  const std::int64_t planes = n * channels;
  const unsigned blocks = blocks_for(planes, kThreads);
  switch (rounding) {
    case Rounding::down:
      global_avg_pool_kernel<Rounding::down>
          <<<blocks, kThreads, 0, ctx.stream()>>>(x, planes, plane, y);
      break;
    case Rounding::up:
      global_avg_pool_kernel<Rounding::up>
          <<<blocks, kThreads, 0, ctx.stream()>>>(x, planes, plane, y);
      break;
    default:
      global_avg_pool_kernel<Rounding::nearest>
          <<<blocks, kThreads, 0, ctx.stream()>>>(x, planes, plane, y);
      break;
  }
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_add(const Context& ctx, const float* a, const float* b, std::int64_t count, bool relu,
            Rounding rounding, float* y) {
  const unsigned blocks = blocks_for(count, kThreads);
  switch (rounding) {
    case Rounding::down:
      add_kernel<Rounding::down><<<blocks, kThreads, 0, ctx.stream()>>>(a, b, count, relu, y);
      break;
    case Rounding::up:
      add_kernel<Rounding::up><<<blocks, kThreads, 0, ctx.stream()>>>(a, b, count, relu, y);
      break;
    default:
      add_kernel<Rounding::nearest><<<blocks, kThreads, 0, ctx.stream()>>>(a, b, count, relu, y);
      break;
  }
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_margins_folded(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                       const float* weight, const float* bias, bool sound, const float* l,
                       const float* u, std::int64_t n, const int* targets, float* margins) {
  const std::int64_t class_tiles = (outputs + kMarginClasses - 1) / kMarginClasses;
  CUXPLAIN_EXPECTS(class_tiles <= 65535 && n <= 0x7fffffff, "margin_upper_bounds: ", n,
                   " boxes x ", outputs, " classes exceed the CUDA grid");
  const dim3 grid(static_cast<unsigned>(n), static_cast<unsigned>(class_tiles));
  if (sound) {
    margins_folded_kernel<true><<<grid, kMarginClasses, 0, ctx.stream()>>>(
        inputs, outputs, weight, bias, l, u, targets, margins);
  } else {
    margins_folded_kernel<false><<<grid, kMarginClasses, 0, ctx.stream()>>>(
        inputs, outputs, weight, bias, l, u, targets, margins);
  }
  CUXPLAIN_CHECK_LAUNCH();
}

void nn_margins_from_bounds(const Context& ctx, std::int64_t outputs, bool sound, const float* lo,
                            const float* hi, std::int64_t n, const int* targets,
                            float* margins) {
  const unsigned blocks = blocks_for(n * outputs, kThreads);
  if (sound) {
    margins_from_bounds_kernel<true>
        <<<blocks, kThreads, 0, ctx.stream()>>>(outputs, lo, hi, n, targets, margins);
  } else {
    margins_from_bounds_kernel<false>
        <<<blocks, kThreads, 0, ctx.stream()>>>(outputs, lo, hi, n, targets, margins);
  }
  CUXPLAIN_CHECK_LAUNCH();
}

std::int64_t nn_first_inverted(const Context& ctx, const float* l, const float* u,
                               std::int64_t count) {
  Buffer<unsigned long long> first(ctx, 1);
  CUXPLAIN_CUDA_TRY(cudaMemsetAsync(first.data(), 0xFF, first.bytes(), ctx.stream()));
  first_inverted_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(l, u, count,
                                                                                  first.data());
  CUXPLAIN_CHECK_LAUNCH();
  unsigned long long host = 0;
  cuda::copy_to_host(ctx, &host, first.data(), sizeof host);  // waits for the stream
  return host == ~0ULL ? -1 : static_cast<std::int64_t>(host);
}

}  // namespace cuxplain::kernels::cuda
