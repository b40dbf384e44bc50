#pragma once
// The backend execution contract: what every op family is written against.
//
// Each backend implements it in its own namespace, with the same names:
// kernels::cpu (cpu/backend.hpp, g++: OpenMP loops, CBLAS) and kernels::cuda
// (cuda/backend.cuh, nvcc: CUB, cuBLAS). An op family written once
// (kernels/<family>.inl) calls only these, as CUTLASS's reference
// tensor_foreach and RAFT's linalg::map are written over their backends:
//
//   for_each(ctx, n, f[, policy])             f(i) for every i in [0, n)
//   for_each(ctx, Extent2{rows, cols}, f[, policy])
//                                             f(row, col), col fastest
//   segmented_sum(ctx, segments, size, f, sums)
//                                             sums[s] = sum over i < size of
//                                             f(s, i), a double
//   atomic_add(counter, value)                inside f, for counts
//
// f is a functor whose call operator is CUXPLAIN_HD (detail/hd.hpp), so that
// g++ and nvcc compile the same body, or a lambda marked CUXPLAIN_LAMBDA
// (the .cu file that compiles it then needs nvcc's --extended-lambda,
// cmake/cuxplainSources.cmake); on CUDA it runs on ctx.stream(). Every
// index is 64-bit. The non-template part below (GEMM, fills, copies) is
// declared for both backends and dispatched from host/ (kernels/dispatch.hpp).
#include <cstddef>
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/hd.hpp>

#if defined(__CUDACC__)
#define CUXPLAIN_LAMBDA __host__ __device__
#else
#define CUXPLAIN_LAMBDA
#endif

namespace cuxplain::kernels {

/// How the CPU backend runs a walk; the CUDA backend ignores it.
struct Policy {
  /// An OpenMP team (static schedule), or the calling thread alone.
  bool parallel = true;

  /// The calling thread alone: for passes too small to pay for starting a
  /// team, and for passes that alternate with BLAS calls, where a team
  /// spinning after the pass competes with OpenBLAS's threads for the cores
  /// (CRAFT's data movement and NMF's updates, 3-10x slower on 2 cores).
  static constexpr Policy serial() { return Policy{false}; }
  /// A team once `work` (elements touched, terms summed) reaches `threshold`.
  static constexpr Policy parallel_from(std::int64_t work, std::int64_t threshold) {
    return Policy{work >= threshold};
  }
};

/// *counter += value, safe when several indices of a walk count at once.
CUXPLAIN_HD void atomic_add(int* counter, int value) {
#if defined(__CUDA_ARCH__)
  atomicAdd(counter, value);
#elif defined(_OPENMP)
#pragma omp atomic
  *counter += value;
#else
  *counter += value;
#endif
}

/// A rows x cols index space. The CPU backend walks each row's columns in an
/// inner loop, so that what f computes from the row alone is hoisted out of
/// it; CUDA flattens it (one element per index).
struct Extent2 {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

}  // namespace cuxplain::kernels

// The contract's non-template operations, the same for both backends.
#define CUXPLAIN_DECLARE_BACKEND_OPS                                                              \
  /* Row-major C (m x n) = alpha op(A) op(B) + beta C, op(X) = X or X^T, leading dimensions   */ \
  /* lda, ldb, ldc (CBLAS / cuBLAS). Every size must fit an int: a cuxplain::Error otherwise. */ \
  void gemm(const Context& ctx, bool transpose_a, bool transpose_b, std::int64_t m,             \
            std::int64_t n, std::int64_t k, float alpha, const float* a, std::int64_t lda,       \
            const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);           \
  /* sums[s] = the sum of values[s * size, (s + 1) * size) in double (in order on the CPU). */  \
  void segmented_sum(const Context& ctx, const float* values, std::int64_t segments,            \
                     std::int64_t size, double* sums);                                           \
  void fill(const Context& ctx, float* dst, std::int64_t count, float value);                   \
  void zero(const Context& ctx, void* dst, std::size_t bytes);                                   \
  void copy_to_device(const Context& ctx, void* dst, const void* src, std::size_t bytes);       \
  /* Waits for the copy (a stream synchronization on CUDA). */                                  \
  void copy_to_host(const Context& ctx, void* dst, const void* src, std::size_t bytes);         \
  void copy_on_device(const Context& ctx, void* dst, const void* src, std::size_t bytes);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_BACKEND_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_BACKEND_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_BACKEND_OPS

namespace cuxplain::kernels {

/// Throws unless every GEMM size fits the int arguments of CBLAS and cuBLAS.
void check_gemm_sizes(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t lda,
                      std::int64_t ldb, std::int64_t ldc);

}  // namespace cuxplain::kernels
