// Samplers on CUDA: one thread per output value over the row-major n x dims
// block (grid-stride, 64-bit indices), so that a warp writes consecutive
// floats. Sobol first expands the direction vectors of the needed dimensions
// into a bit-major temporary (a small kernel, no host copies), then evaluates
// each value directly from its point index.
#include "../qmc.hpp"
#include "backend.cuh"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/qmc.hpp>

namespace cuxplain::kernels::cuda {
namespace {

// Not `const`: nvcc would then also keep an initialized host copy of each
// table (1.6 MB) in the object. Only read.
__device__ std::uint32_t kSobolTable[] = {
#include "../sobol_joe_kuo_table.inc"
};

__device__ std::uint32_t kHaltonPrimes[] = {
#include "../halton_primes.inc"
};

constexpr int kThreads = kBlockThreads;

/// This thread's first position in the row-major n x dims output, striding
/// over the whole grid.
__device__ detail::RowMajorCursor grid_stride_cursor(std::int64_t dims) {
  return detail::RowMajorCursor(blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x,
                                static_cast<std::int64_t>(gridDim.x) * blockDim.x, dims);
}

__global__ void sobol_directions_kernel(std::int64_t dims, int bits, std::uint32_t* directions) {
  for (const std::int64_t d : grid_stride(dims)) {
    detail::sobol_direction_vectors(kSobolTable, d, bits, directions + d, dims);
  }
}

template <bool kScrambled>
__global__ void sobol_points_kernel(const std::uint32_t* __restrict__ directions, std::int64_t n,
                                    std::int64_t dims, std::int64_t skip, std::uint64_t seed,
                                    float* __restrict__ out) {
  const std::int64_t count = n * dims;
  for (auto at = grid_stride_cursor(dims); at.index < count; at.advance()) {
    // skip + n <= 2^32 (validated): the point index fits 32 bits.
    const auto j = static_cast<std::uint32_t>(skip + at.row);
    std::uint32_t x = detail::sobol_fraction(directions, dims, at.col, j);
    if constexpr (kScrambled) {
      x = detail::owen_scramble(x, detail::owen_dimension_seed(seed, at.col));
    }
    out[at.index] = detail::fraction_to_float(x);
  }
}

__global__ void halton_kernel(std::int64_t n, std::int64_t dims, std::int64_t skip,
                              float* __restrict__ out) {
  const std::int64_t count = n * dims;
  for (auto at = grid_stride_cursor(dims); at.index < count; at.advance()) {
    const auto index = static_cast<std::uint32_t>(skip + at.row);
    out[at.index] = detail::halton_value(index, kHaltonPrimes[at.col]);
  }
}

__global__ void lhs_kernel(std::int64_t n, std::int64_t dims, std::uint64_t seed,
                           float* __restrict__ out) {
  const std::int64_t count = n * dims;
  for (auto at = grid_stride_cursor(dims); at.index < count; at.advance()) {
    out[at.index] = detail::lhs_value(detail::lhs_permutation_seed(seed, at.col),
                                      detail::lhs_jitter_key(seed, at.col), at.row, n);
  }
}

__global__ void monte_carlo_kernel(std::int64_t n, std::int64_t dims, std::int64_t skip,
                                   std::uint64_t seed, float* __restrict__ out) {
  const std::int64_t count = n * dims;
  for (auto at = grid_stride_cursor(dims); at.index < count; at.advance()) {
    const auto index = static_cast<std::uint64_t>(skip + at.row);
    out[at.index] = detail::monte_carlo_value(detail::monte_carlo_key(seed, at.col), index);
  }
}

void sobol(const Context& ctx, std::int64_t n, std::int64_t dims, float* out, std::int64_t skip,
           bool scrambled, std::uint64_t seed) {
  // Bit-major direction vectors, directions[b * dims + d], as many as the
  // largest point index uses.
  const int bits = detail::sobol_bits_needed(skip + n);
  Buffer<std::uint32_t> directions(ctx, bits * dims);
  constexpr int kDirectionThreads = 128;
  launch(ctx, blocks_for(dims, kDirectionThreads), kDirectionThreads, sobol_directions_kernel,
         dims, bits, directions.data());
  launch(ctx, blocks_for(n * dims), kThreads,
         scrambled ? sobol_points_kernel<true> : sobol_points_kernel<false>, directions.data(), n,
         dims, skip, seed, out);
  // `directions` is released on ctx.stream(), ordered after the points kernel.
}

}  // namespace

void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip, std::uint64_t seed) {
  const unsigned int blocks = blocks_for(n * dims);
  switch (sampler) {
    case Sampler::sobol: return sobol(ctx, n, dims, out, skip, false, seed);
    case Sampler::sobol_owen: return sobol(ctx, n, dims, out, skip, true, seed);
    case Sampler::halton: return launch(ctx, blocks, kThreads, halton_kernel, n, dims, skip, out);
    case Sampler::lhs: return launch(ctx, blocks, kThreads, lhs_kernel, n, dims, seed, out);
    case Sampler::monte_carlo:
      return launch(ctx, blocks, kThreads, monte_carlo_kernel, n, dims, skip, seed, out);
  }
}

}  // namespace cuxplain::kernels::cuda
