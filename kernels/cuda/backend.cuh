#pragma once
// The CUDA backend of the execution contract (kernels/backend.hpp): walks are
// cub::DeviceFor::Bulk launches and segmented sums CUB's segmented reduce,
// all on ctx.stream(). The launch configuration of the hand-written kernels
// (the GPU-shaped ones: tiles, block reductions) is here too: one block size,
// one grid size rule, one grid-stride loop, one checked launch.
#include <cstddef>
#include <cstdint>
#include <utility>

#include <cub/device/device_for.cuh>
#include <cub/device/device_segmented_reduce.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include <cuxplain/core/buffer.hpp>

#include "../backend.hpp"
#include "check.cuh"

// kernels/<family>.inl files compiled in this translation unit define their
// ops in kernels::cuda.
#define CUXPLAIN_KERNELS_BACKEND cuda

namespace cuxplain::kernels::cuda {

/// Threads per block of the hand-written kernels.
constexpr int kBlockThreads = 256;

/// Blocks of `threads` threads covering `count` items, capped so that the
/// grid stays legal; kernels cover the rest with grid_stride.
inline unsigned int blocks_for(std::int64_t count, int threads = kBlockThreads) {
  const std::int64_t blocks = (count + threads - 1) / threads;
  const std::int64_t cap = 65535LL * 32;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

/// Launches a hand-written kernel on ctx.stream() and checks the launch.
template <class... Params, class... Args>
void launch(const Context& ctx, dim3 grid, dim3 block, void (*kernel)(Params...),
            Args&&... args) {
  kernel<<<grid, block, 0, ctx.stream()>>>(std::forward<Args>(args)...);
  CUXPLAIN_CHECK_LAUNCH();
}

/// The 64-bit grid-stride loop of the hand-written kernels:
/// `for (const std::int64_t i : grid_stride(count))` visits this thread's
/// indices of [0, count) along x.
class GridStride {
 public:
  class Iterator {
   public:
    __device__ Iterator(std::int64_t at, std::int64_t step) : at_(at), step_(step) {}
    __device__ std::int64_t operator*() const { return at_; }
    __device__ Iterator& operator++() {
      at_ += step_;
      return *this;
    }
    // The loop ends once `at` passes the end, not only when it equals it.
    __device__ bool operator!=(const Iterator& end) const { return at_ < end.at_; }

   private:
    std::int64_t at_, step_;
  };
  __device__ explicit GridStride(std::int64_t count) : count_(count) {}
  __device__ Iterator begin() const {
    return {blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x,
            static_cast<std::int64_t>(gridDim.x) * blockDim.x};
  }
  __device__ Iterator end() const { return {count_, 0}; }

 private:
  std::int64_t count_;
};

__device__ inline GridStride grid_stride(std::int64_t count) { return GridStride(count); }

template <class F>
void for_each(const Context& ctx, std::int64_t n, const F& f, Policy = {}) {
  if (n <= 0) return;
  CUXPLAIN_CUDA_TRY(cub::DeviceFor::Bulk(n, f, ctx.stream()));
}

namespace walk {

template <class F>
struct RowsCols {
  F f;
  std::int64_t cols;
  __device__ void operator()(std::int64_t i) const { f(i / cols, i % cols); }
};

template <class F>
struct SegmentValue {
  F f;
  std::int64_t size;
  __host__ __device__ double operator()(std::int64_t e) const { return f(e / size, e % size); }
};

struct SegmentOffset {
  std::int64_t size;
  __host__ __device__ std::int64_t operator()(std::int64_t s) const { return s * size; }
};

}  // namespace walk

template <class F>
void for_each(const Context& ctx, Extent2 extent, const F& f, Policy = {}) {
  if (extent.rows <= 0 || extent.cols <= 0) return;
  for_each(ctx, extent.rows * extent.cols, walk::RowsCols<F>{f, extent.cols});
}

template <class F>
void segmented_sum(const Context& ctx, std::int64_t segments, std::int64_t size, const F& f,
                   double* sums, Policy = {}) {
  if (segments <= 0) return;
  const thrust::counting_iterator<std::int64_t> index(0);
  const auto values = thrust::make_transform_iterator(index, walk::SegmentValue<F>{f, size});
  const auto begins = thrust::make_transform_iterator(index, walk::SegmentOffset{size});
  std::size_t bytes = 0;
  CUXPLAIN_CUDA_TRY(cub::DeviceSegmentedReduce::Sum(nullptr, bytes, values, sums, segments,
                                                    begins, begins + 1, ctx.stream()));
  // Never null: CUB reads a null temporary as a size query.
  Buffer<unsigned char> temporary(ctx, static_cast<std::int64_t>(bytes > 0 ? bytes : 1),
                                  "the temporary of a segmented sum");
  CUXPLAIN_CUDA_TRY(cub::DeviceSegmentedReduce::Sum(temporary.data(), bytes, values, sums,
                                                    segments, begins, begins + 1, ctx.stream()));
}

}  // namespace cuxplain::kernels::cuda
