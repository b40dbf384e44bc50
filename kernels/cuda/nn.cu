// The CUDA backend of kernels/nn.inl, and the ops it walks its own way: the
// sound affine bounds and the folded margins in shared-memory tiles (each
// thread sums its output's terms in the CPU loops' order), and the box check
// as an atomic minimum read back once. Every launch is on ctx.stream().
#include "backend.cuh"

#include "../nn.inl"

namespace cuxplain::kernels::cuda {
namespace {

using detail::ConvGeometry;
using detail::Rounding;

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

// Sound grouped convolution (groups > 1, where a tile's channels would read
// different input channels): a thread per output, summing its K terms in
// order k = 0..K-1 from the bias, as the host loop does.
__global__ void sound_grouped_kernel(ConvGeometry g, const float* weight, const float* bias,
                                     bool relu, const float* l, const float* u,
                                     std::int64_t outputs, float* lo, float* hi) {
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), in_size = g.in_size();
  const std::int64_t group_out = g.out_c / g.groups;
  for (const std::int64_t e : grid_stride(outputs)) {
    const std::int64_t p = e % plane, so = e / plane;
    const std::int64_t m = so % g.out_c, s = so / g.out_c;
    const std::int64_t row0 = m / group_out * k_count;
    float acc_lo = bias[m], acc_hi = bias[m];
    for (std::int64_t k = 0; k < k_count; ++k) {
      const std::int64_t src = detail::im2col_source(g, row0 + k, p);
      const float vl = src >= 0 ? l[s * in_size + src] : 0.0f;
      const float vu = src >= 0 ? u[s * in_size + src] : 0.0f;
      detail::sound_affine_step(weight[m * k_count + k], vl, vu, acc_lo, acc_hi);
    }
    lo[e] = relu ? detail::relu_value(acc_lo) : acc_lo;
    hi[e] = relu ? detail::relu_value(acc_hi) : acc_hi;
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

__global__ void first_inverted_kernel(const float* l, const float* u, std::int64_t count,
                                      unsigned long long* first) {
  for (const std::int64_t e : grid_stride(count)) {
    if (!(l[e] <= u[e] && isfinite(l[e]) && isfinite(u[e]))) {
      atomicMin(first, static_cast<unsigned long long>(e));
    }
  }
}

}  // namespace

void nn_affine_bounds_sound(const Context& ctx, const ConvGeometry& g, const float* weight,
                            const float* bias, bool relu, const float* l, const float* u,
                            std::int64_t n, float* lo, float* hi) {
  if (g.groups > 1) {
    const std::int64_t outputs = n * g.out_size();
    launch(ctx, blocks_for(outputs), kBlockThreads, sound_grouped_kernel, g, weight, bias, relu,
           l, u, outputs, lo, hi);
    return;
  }
  const std::int64_t columns = n * g.out_plane();
  const std::int64_t column_tiles = (columns + kSoundTile - 1) / kSoundTile;
  const std::int64_t channel_tiles = (g.out_c + kSoundTile - 1) / kSoundTile;
  CUXPLAIN_EXPECTS(channel_tiles <= 65535 && column_tiles <= 0x7fffffff,
                   "sound bounds: ", g.out_c, " output channels x ", columns,
                   " columns exceed the CUDA grid");
  const dim3 grid(static_cast<unsigned>(column_tiles), static_cast<unsigned>(channel_tiles));
  launch(ctx, grid, dim3(kSoundTile, kSoundTile), sound_affine_kernel, g, weight, bias, relu, l,
         u, columns, lo, hi);
}

void nn_margins_folded(const Context& ctx, std::int64_t inputs, std::int64_t outputs,
                       const float* weight, const float* bias, bool sound, const float* l,
                       const float* u, std::int64_t n, const int* targets, float* margins) {
  const std::int64_t class_tiles = (outputs + kMarginClasses - 1) / kMarginClasses;
  CUXPLAIN_EXPECTS(class_tiles <= 65535 && n <= 0x7fffffff, "margin_upper_bounds: ", n,
                   " boxes x ", outputs, " classes exceed the CUDA grid");
  const dim3 grid(static_cast<unsigned>(n), static_cast<unsigned>(class_tiles));
  launch(ctx, grid, kMarginClasses,
         sound ? margins_folded_kernel<true> : margins_folded_kernel<false>, inputs, outputs,
         weight, bias, l, u, targets, margins);
}

std::int64_t nn_first_inverted(const Context& ctx, const float* l, const float* u,
                               std::int64_t count) {
  Buffer<unsigned long long> first(ctx, 1);
  CUXPLAIN_CUDA_TRY(cudaMemsetAsync(first.data(), 0xFF, first.bytes(), ctx.stream()));
  launch(ctx, blocks_for(count), kBlockThreads, first_inverted_kernel, l, u, count, first.data());
  unsigned long long host = 0;
  cuda::copy_to_host(ctx, &host, first.data(), sizeof host);  // waits for the stream
  return host == ~0ULL ? -1 : static_cast<std::int64_t>(host);
}

}  // namespace cuxplain::kernels::cuda
