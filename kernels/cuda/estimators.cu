// Sobol index estimators on CUDA.
//
// Three steps, all on ctx.stream():
//  1. one block reduces y_a to f0 and V (every cell needs them);
//  2. each cell's sums are reduced over its N points, by one warp when N is
//     small (the default N = 32 would leave most of a block idle) or by
//     blocks of kThreads threads, each taking a chunk of at most
//     kPointsPerBlock points so that few cells with many points still fill
//     the GPU;
//  3. when a cell was split over several blocks, its partial sums are added
//     in chunk order.
// Every reduction has a fixed shape (CUB's warp and block reductions, fixed
// per-thread strides, fixed chunking), so results are bitwise identical run
// to run. All sums are in double (see include/cuxplain/detail/estimators.hpp).
#include "../estimators.hpp"
#include "backend.cuh"

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/estimators.hpp>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = kBlockThreads;
constexpr int kWarpSize = 32;
constexpr int kWarpsPerBlock = kThreads / kWarpSize;
// Cells of at most this many points are reduced by one warp each.
constexpr std::int64_t kWarpMaxPoints = 1024;
// Larger cells are split into chunks of at most this many points, one block each.
constexpr std::int64_t kPointsPerBlock = 8192;

struct Plus {
  template <class T>
  __device__ T operator()(const T& x, const T& y) const {
    return x + y;
  }
};

/// Sums and index of the total-order estimators.
struct TotalOrderTerms {
  using Sums = detail::TotalOrderSums;
  Estimator estimator;
  const float* y_a;
  const float* y_c;

  __device__ void add(Sums& sums, std::int64_t cell, std::int64_t j, std::int64_t nb_design,
                      double f0) const {
    detail::accumulate(sums, y_a[j], y_c[cell * nb_design + j], f0);
  }
  __device__ float index(const Sums& sums, detail::OutputStats stats,
                         std::int64_t nb_design) const {
    return static_cast<float>(detail::total_order_index(estimator, sums, stats, nb_design));
  }
};

/// Sums and index of the first-order estimator.
struct FirstOrderTerms {
  using Sums = detail::FirstOrderSums;
  const float* y_a;
  const float* y_b;
  const float* y_c;

  __device__ void add(Sums& sums, std::int64_t cell, std::int64_t j, std::int64_t nb_design,
                      double f0) const {
    detail::accumulate(sums, y_a[j], y_b[j], y_c[cell * nb_design + j], f0);
  }
  __device__ float index(const Sums& sums, detail::OutputStats stats,
                         std::int64_t nb_design) const {
    return static_cast<float>(detail::first_order_index(sums, stats, nb_design));
  }
};

/// f0 and V of y_a, by a single block (two passes: V is centred on f0).
__global__ void __launch_bounds__(kThreads)
    output_stats_kernel(const float* y_a, std::int64_t nb_design, detail::OutputStats* stats) {
  using BlockReduce = cub::BlockReduce<double, kThreads>;
  __shared__ typename BlockReduce::TempStorage storage;
  __shared__ double total;

  double sum = 0.0;
  for (std::int64_t j = threadIdx.x; j < nb_design; j += kThreads) {
    sum += static_cast<double>(y_a[j]);
  }
  sum = BlockReduce(storage).Sum(sum);  // valid in thread 0
  if (threadIdx.x == 0) total = sum;
  __syncthreads();  // publishes `total` and frees `storage` for the second pass

  const double f0 = total / static_cast<double>(nb_design);
  double squares = 0.0;
  for (std::int64_t j = threadIdx.x; j < nb_design; j += kThreads) {
    const double deviation = static_cast<double>(y_a[j]) - f0;
    squares += deviation * deviation;
  }
  squares = BlockReduce(storage).Sum(squares);
  if (threadIdx.x == 0) *stats = detail::output_stats(total, squares, nb_design);
}

/// One warp per cell: lane l sums points l, l + 32, ...; then a warp reduction.
template <class Terms>
__global__ void __launch_bounds__(kThreads)
    cells_by_warp_kernel(Terms terms, std::int64_t nb_design, std::int64_t d,
                         const detail::OutputStats* stats_in, float* out) {
  using Sums = typename Terms::Sums;
  using WarpReduce = cub::WarpReduce<Sums>;
  __shared__ typename WarpReduce::TempStorage storage[kWarpsPerBlock];

  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const detail::OutputStats stats = *stats_in;
  // `cell` is the same for all lanes of a warp, so whole warps enter or leave.
  for (std::int64_t cell = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + warp; cell < d;
       cell += static_cast<std::int64_t>(gridDim.x) * kWarpsPerBlock) {
    Sums sums{};
    for (std::int64_t j = lane; j < nb_design; j += kWarpSize) {
      terms.add(sums, cell, j, nb_design, stats.f0);
    }
    sums = WarpReduce(storage[warp]).Reduce(sums, Plus{});  // valid in lane 0
    if (lane == 0) out[cell] = terms.index(sums, stats, nb_design);
    __syncwarp();  // storage[warp] is reused by the warp's next cell
  }
}

/// One block per (cell, chunk) task. With one chunk per cell the block writes
/// the index; otherwise it writes the chunk's sums to partials[task].
template <class Terms>
__global__ void __launch_bounds__(kThreads)
    cells_by_block_kernel(Terms terms, std::int64_t nb_design, std::int64_t d, std::int64_t chunks,
                          std::int64_t chunk_points, const detail::OutputStats* stats_in,
                          float* out, typename Terms::Sums* partials) {
  using Sums = typename Terms::Sums;
  using BlockReduce = cub::BlockReduce<Sums, kThreads>;
  __shared__ typename BlockReduce::TempStorage storage;

  const detail::OutputStats stats = *stats_in;
  const std::int64_t tasks = d * chunks;
  // `task` is the same for the whole block, so the barriers below are uniform.
  for (std::int64_t task = blockIdx.x; task < tasks; task += gridDim.x) {
    const std::int64_t cell = task / chunks;
    const std::int64_t begin = (task % chunks) * chunk_points;
    const std::int64_t end = begin + chunk_points < nb_design ? begin + chunk_points : nb_design;
    Sums sums{};
    for (std::int64_t j = begin + threadIdx.x; j < end; j += kThreads) {
      terms.add(sums, cell, j, nb_design, stats.f0);
    }
    sums = BlockReduce(storage).Reduce(sums, Plus{});  // valid in thread 0
    if (threadIdx.x == 0) {
      if (chunks == 1) {
        out[cell] = terms.index(sums, stats, nb_design);
      } else {
        partials[task] = sums;
      }
    }
    __syncthreads();  // storage is reused by the block's next task
  }
}

/// Adds each cell's chunk sums in chunk order and writes its index.
template <class Terms>
__global__ void __launch_bounds__(kThreads)
    combine_chunks_kernel(Terms terms, const typename Terms::Sums* partials, std::int64_t nb_design,
                          std::int64_t d, std::int64_t chunks, const detail::OutputStats* stats_in,
                          float* out) {
  using Sums = typename Terms::Sums;
  const detail::OutputStats stats = *stats_in;
  for (const std::int64_t cell : grid_stride(d)) {
    Sums sums{};
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk)
      sums = sums + partials[cell * chunks + chunk];
    out[cell] = terms.index(sums, stats, nb_design);
  }
}

template <class Terms>
void estimate(const Context& ctx, const Terms& terms, const float* y_a, std::int64_t nb_design,
              std::int64_t d, float* out) {
  using Sums = typename Terms::Sums;
  Buffer<detail::OutputStats> stats(ctx, 1);
  launch(ctx, 1, kThreads, output_stats_kernel, y_a, nb_design, stats.data());

  if (nb_design <= kWarpMaxPoints) {
    launch(ctx, blocks_for(d, kWarpsPerBlock), kThreads, cells_by_warp_kernel<Terms>, terms,
           nb_design, d, stats.data(), out);
    return;
  }

  // Equal chunks (the last one may be shorter) of at most kPointsPerBlock points.
  const std::int64_t chunks = (nb_design + kPointsPerBlock - 1) / kPointsPerBlock;
  const std::int64_t chunk_points = (nb_design + chunks - 1) / chunks;
  Buffer<Sums> partials(ctx, chunks > 1 ? d * chunks : 0);
  launch(ctx, blocks_for(d * chunks, 1), kThreads, cells_by_block_kernel<Terms>, terms, nb_design,
         d, chunks, chunk_points, stats.data(), out, partials.data());
  if (chunks > 1) {
    launch(ctx, blocks_for(d), kThreads, combine_chunks_kernel<Terms>, terms, partials.data(),
           nb_design, d, chunks, stats.data(), out);
  }
}

}  // namespace

void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* st) {
  estimate(ctx, TotalOrderTerms{estimator, y_a, y_c}, y_a, nb_design, d, st);
}

void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1) {
  estimate(ctx, FirstOrderTerms{y_a, y_b, y_c}, y_a, nb_design, d, s1);
}

}  // namespace cuxplain::kernels::cuda
