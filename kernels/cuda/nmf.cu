// The CUDA backend of kernels/nmf.inl, and NMF's reductions on CUDA: the
// same math as kernels/cpu/nmf.cpp (include/cuxplain/detail/nmf.hpp), fused
// elementwise updates with their reductions, CUB block sums. Every launch is
// on ctx.stream(); nothing here synchronizes.
#include "backend.cuh"

#include "../nmf.inl"

#include <cub/block/block_reduce.cuh>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = kBlockThreads;
using BlockSum = cub::BlockReduce<double, kThreads>;

/// Block sums of three per-thread values, written by thread 0 to out[0..2].
__device__ void block_sum3(double a, double b, double c, double* out) {
  __shared__ typename BlockSum::TempStorage storage;
  const double sa = BlockSum(storage).Sum(a);
  __syncthreads();
  const double sb = BlockSum(storage).Sum(b);
  __syncthreads();
  const double sc = BlockSum(storage).Sum(c);
  if (threadIdx.x == 0) {
    out[0] = sa;
    out[1] = sb;
    out[2] = sc;
  }
}

__global__ void scan_kernel(const float* x, std::int64_t count, double* partials,
                            detail::NmfScan* scan) {
  double sum = 0.0, squares = 0.0;
  for (const std::int64_t i : grid_stride(count)) {
    const float v = x[i];
    if (!detail::nmf_valid_entry(v)) {
      // A thread's indices increase: its first invalid entry is its smallest.
      atomicMin(reinterpret_cast<long long*>(&scan->first_invalid), static_cast<long long>(i));
      break;
    }
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  double block[3];
  block_sum3(sum, squares, 0.0, block);
  if (threadIdx.x == 0) {
    partials[blockIdx.x * 2] = block[0];
    partials[blockIdx.x * 2 + 1] = block[1];
  }
}

/// One block: the partials in a fixed order; first_invalid back to -1 when
/// no entry lowered it.
__global__ void scan_finish_kernel(const double* partials, std::int64_t blocks, std::int64_t count,
                                   detail::NmfScan* scan) {
  double sum = 0.0, squares = 0.0;
  for (std::int64_t b = threadIdx.x; b < blocks; b += kThreads) {
    sum += partials[b * 2];
    squares += partials[b * 2 + 1];
  }
  double total[3];
  block_sum3(sum, squares, 0.0, total);
  if (threadIdx.x == 0) {
    scan->sum = total[0];
    scan->sum_squares = total[1];
    if (scan->first_invalid >= count) scan->first_invalid = -1;
  }
}

/// The fused multiplicative update of one factor; each block also sums
/// N o x', x' and x'^2 into partials[3 * block + 0..2].
__global__ void update_terms_kernel(float* x, const float* numerator, const float* denominator,
                                    std::int64_t count, float l1, float l2, double* partials) {
  double cross = 0.0, sum = 0.0, squares = 0.0;
  for (const std::int64_t i : grid_stride(count)) {
    const float num = numerator[i];
    const float v = detail::nmf_update_value(x[i], num, denominator[i], l1, l2);
    x[i] = v;
    cross += static_cast<double>(num) * v;
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  block_sum3(cross, sum, squares, partials + blockIdx.x * detail::kNmfTerms);
}

/// One thread per row (grid-stride), components in order within the row:
/// rows are independent, so this is scikit-learn's sequential sweep. Each
/// block writes its rows' violation to partials[blockIdx.x].
__global__ void __launch_bounds__(detail::kNmfCdThreads)
    cd_sweep_kernel(float* x, std::int64_t rows, std::int64_t r, std::int64_t row_stride,
                    std::int64_t stride, const float* cross, const float* gram, float l1,
                    float l2, const detail::NmfCdState* state, double* partials) {
  using CdSum = cub::BlockReduce<double, detail::kNmfCdThreads>;
  __shared__ typename CdSum::TempStorage storage;
  if (state->stopped_at != 0) {  // the same for every thread: no one reaches the block sum
    if (threadIdx.x == 0) partials[blockIdx.x] = 0.0;
    return;
  }
  double violation = 0.0;
  for (const std::int64_t i : grid_stride(rows)) {
    violation += detail::nmf_cd_row(x + i * row_stride, stride, cross + i * row_stride, gram, r,
                                    l1, l2);
  }
  const double total = CdSum(storage).Sum(violation);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

/// One block: the iteration's violation from the sweeps' partials (each
/// summed in a fixed order), then the stopping rule.
__global__ void cd_stop_kernel(const double* partials_a, std::int64_t count_a,
                               const double* partials_b, std::int64_t count_b,
                               std::int64_t iteration, double tol, detail::NmfCdState* state) {
  double a = 0.0, b = 0.0;
  for (std::int64_t c = threadIdx.x; c < count_a; c += kThreads) a += partials_a[c];
  for (std::int64_t c = threadIdx.x; partials_b != nullptr && c < count_b; c += kThreads) {
    b += partials_b[c];
  }
  double total[3];
  block_sum3(a, b, 0.0, total);
  if (threadIdx.x == 0) detail::nmf_cd_record(state, total[0] + total[1], iteration, tol);
}

__global__ void terms_kernel(const float* x, const float* other, std::int64_t count,
                             double* partials) {
  double cross = 0.0, sum = 0.0, squares = 0.0;
  for (const std::int64_t i : grid_stride(count)) {
    const float v = x[i];
    if (other != nullptr) cross += static_cast<double>(other[i]) * v;
    sum += v;
    squares += static_cast<double>(v) * v;
  }
  block_sum3(cross, sum, squares, partials + blockIdx.x * detail::kNmfTerms);
}

/// One block: terms = the partials of `blocks` blocks, summed in a fixed order.
__global__ void sum_terms_kernel(const double* partials, std::int64_t blocks, double* terms) {
  double cross = 0.0, sum = 0.0, squares = 0.0;
  for (std::int64_t b = threadIdx.x; b < blocks; b += kThreads) {
    cross += partials[b * detail::kNmfTerms];
    sum += partials[b * detail::kNmfTerms + 1];
    squares += partials[b * detail::kNmfTerms + 2];
  }
  block_sum3(cross, sum, squares, terms);
}

/// One block: <gram_a, gram_b> and the objective.
__global__ void objective_kernel(double norm_a2, const double* cross_terms, const double* u_terms,
                                 const double* w_terms, const float* gram_a, const float* gram_b,
                                 std::int64_t entries, detail::NmfPenalties penalties,
                                 double* out) {
  __shared__ typename BlockSum::TempStorage storage;
  double dot = 0.0;
  for (std::int64_t e = threadIdx.x; e < entries; e += kThreads) {
    dot += static_cast<double>(gram_a[e]) * gram_b[e];
  }
  const double total = BlockSum(storage).Sum(dot);
  if (threadIdx.x == 0) {
    detail::nmf_objective(norm_a2, cross_terms, u_terms, w_terms, total, penalties, out);
  }
}

/// One block per column j of x (rows x cols).
__global__ void column_part_norms_kernel(const float* x, std::int64_t rows, std::int64_t cols,
                                         double* norms) {
  const std::int64_t j = blockIdx.x;
  double positive = 0.0, negative = 0.0;
  for (std::int64_t i = threadIdx.x; i < rows; i += kThreads) {
    const double v = x[i * cols + j];
    if (v > 0.0) positive += v * v;
    if (v < 0.0) negative += v * v;
  }
  double total[3];
  block_sum3(positive, negative, 0.0, total);
  if (threadIdx.x == 0) {
    norms[2 * j] = total[0];
    norms[2 * j + 1] = total[1];
  }
}

unsigned reduce_grid(std::int64_t count) {
  return static_cast<unsigned>(detail::nmf_reduce_blocks(count));
}

}  // namespace

void nmf_scan(const Context& ctx, const float* x, std::int64_t count, double* partials,
              detail::NmfScan* scan) {
  // first_invalid starts at 0x7f7f7f7f7f7f7f7f, above any index; atomicMin lowers it.
  CUXPLAIN_CUDA_TRY(cudaMemsetAsync(&scan->first_invalid, 0x7f, sizeof(scan->first_invalid),
                                    ctx.stream()));
  const unsigned blocks = reduce_grid(count);
  launch(ctx, blocks, kThreads, scan_kernel, x, count, partials, scan);
  launch(ctx, 1, kThreads, scan_finish_kernel, partials, blocks, count, scan);
}

void nmf_update_terms(const Context& ctx, float* x, const float* numerator,
                      const float* denominator, std::int64_t count, float l1, float l2,
                      double* partials, double* terms) {
  const unsigned blocks = reduce_grid(count);
  launch(ctx, blocks, kThreads, update_terms_kernel, x, numerator, denominator, count, l1, l2,
         partials);
  launch(ctx, 1, kThreads, sum_terms_kernel, partials, blocks, terms);
}

void nmf_cd_sweep(const Context& ctx, float* x, std::int64_t rows, std::int64_t r,
                  std::int64_t row_stride, std::int64_t stride, const float* cross,
                  const float* gram, float l1, float l2, const detail::NmfCdState* state,
                  double* partials) {
  const auto blocks = static_cast<unsigned>(detail::nmf_cd_blocks(rows));
  launch(ctx, blocks, detail::kNmfCdThreads, cd_sweep_kernel, x, rows, r, row_stride, stride, cross,
         gram, l1, l2, state, partials);
}

void nmf_cd_stop(const Context& ctx, const double* partials_a, std::int64_t count_a,
                 const double* partials_b, std::int64_t count_b, std::int64_t iteration,
                 double tol, detail::NmfCdState* state) {
  launch(ctx, 1, kThreads, cd_stop_kernel, partials_a, count_a, partials_b, count_b, iteration, tol,
         state);
}

void nmf_terms(const Context& ctx, const float* x, const float* other, std::int64_t count,
               double* partials, double* terms) {
  const unsigned blocks = reduce_grid(count);
  launch(ctx, blocks, kThreads, terms_kernel, x, other, count, partials);
  launch(ctx, 1, kThreads, sum_terms_kernel, partials, blocks, terms);
}

void nmf_objective(const Context& ctx, double norm_a2, const double* cross_terms,
                   const double* u_terms, const double* w_terms, const float* gram_a,
                   const float* gram_b, std::int64_t r, detail::NmfPenalties penalties,
                   double* out) {
  launch(ctx, 1, kThreads, objective_kernel, norm_a2, cross_terms, u_terms, w_terms, gram_a, gram_b,
         r * r, penalties, out);
}

void nmf_column_part_norms(const Context& ctx, const float* x, std::int64_t rows,
                           std::int64_t cols, double* norms) {
  launch(ctx, static_cast<unsigned>(cols), kThreads, column_part_norms_kernel, x, rows, cols,
         norms);
}

}  // namespace cuxplain::kernels::cuda
