// The CPU backend's GEMM, sums, fills and copies (kernels/backend.hpp).
#include "backend.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <cuxplain/core/error.hpp>

#if CUXPLAIN_HAVE_CBLAS
#include <cblas.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace cuxplain::kernels {

void check_gemm_sizes(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t lda,
                              std::int64_t ldb, std::int64_t ldc) {
  constexpr std::int64_t kMax = std::numeric_limits<int>::max();
  CUXPLAIN_EXPECTS(m <= kMax && n <= kMax && k <= kMax && lda <= kMax && ldb <= kMax &&
                       ldc <= kMax,
                   "gemm: sizes m = ", m, ", n = ", n, ", k = ", k, ", lda = ", lda, ", ldb = ",
                   ldb, ", ldc = ", ldc, " must fit the int arguments of BLAS (< 2^31)");
}

namespace cpu {

#if CUXPLAIN_HAVE_CBLAS
namespace {

void cblas_gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
                std::int64_t k, float alpha, const float* a, std::int64_t lda, const float* b,
                std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

/// Slab boundaries fall on multiples of the widest register tile of
/// OpenBLAS's sgemm kernels, so no slab adds edge tiles inside the product.
constexpr std::int64_t kSplitAlign = 16;

/// Runs the product split by hand across the OpenMP team and returns true,
/// or returns false to leave it to the BLAS. OpenBLAS 0.3.21 (Debian 12)
/// threads skinny products poorly: NMF's pair X W^T (2000 x 25 x 2048) and
/// U^T X (25 x 2048 x 2000) took 4.84 ms on 2 threads against 6.66 ms on 1
/// (1.37x; numpy's OpenBLAS 0.3.31: 3.92 ms), and 3.43 ms (1.94x) with each
/// thread running the BLAS (sequential inside a parallel region) on its own
/// slab of rows or columns of C. The k sums are not split, so every element
/// of C is the same sum as in one call.
bool split_gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
                std::int64_t k, float alpha, const float* a, std::int64_t lda, const float* b,
                std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
#if CUXPLAIN_CBLAS_ON_OPENMP && defined(_OPENMP)
  constexpr double kMinFlops = 1 << 23;  // below, starting threads costs more
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (omp_in_parallel() || flops < kMinFlops) return false;
  // Slabs of the longer side of C, in whole multiples of kSplitAlign.
  const bool rows = m >= n;
  const std::int64_t extent = rows ? m : n, blocks = extent / kSplitAlign;
  const int threads = static_cast<int>(std::min<std::int64_t>(blocks, omp_get_max_threads()));
  if (threads < 2) return false;
#pragma omp parallel num_threads(threads)
  {
    // The team may be smaller than asked for (OMP_THREAD_LIMIT, OMP_DYNAMIC).
    const std::int64_t t = omp_get_thread_num(), team = omp_get_num_threads();
    const std::int64_t begin = blocks * t / team * kSplitAlign;
    const std::int64_t end = t + 1 == team ? extent : blocks * (t + 1) / team * kSplitAlign;
    if (rows) {
      cblas_gemm(transpose_a, transpose_b, end - begin, n, k, alpha,
                 a + (transpose_a ? begin : begin * lda), lda, b, ldb, beta, c + begin * ldc, ldc);
    } else {
      cblas_gemm(transpose_a, transpose_b, m, end - begin, k, alpha, a, lda,
                 b + (transpose_b ? begin * ldb : begin), ldb, beta, c + begin, ldc);
    }
  }
  return true;
#else
  (void)transpose_a, (void)transpose_b, (void)m, (void)n, (void)k, (void)alpha, (void)a,
      (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
  return false;
#endif
}

}  // namespace
#endif

void gemm(const Context&, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
          std::int64_t k, float alpha, const float* a, std::int64_t lda, const float* b,
          std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  check_gemm_sizes(m, n, k, lda, ldb, ldc);
#if CUXPLAIN_HAVE_CBLAS
  if (!split_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
    cblas_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
#else
  // Blocked i-p-j loops: the inner loop streams rows of B and C.
  const auto at = [&](std::int64_t i, std::int64_t p) {
    return transpose_a ? a[p * lda + i] : a[i * lda + p];
  };
  const auto bt = [&](std::int64_t p, std::int64_t j) {
    return transpose_b ? b[j * ldb + p] : b[p * ldb + j];
  };
  constexpr std::int64_t kBlock = 64;
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (std::int64_t j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    for (std::int64_t p0 = 0; p0 < k; p0 += kBlock) {
      const std::int64_t p1 = std::min(k, p0 + kBlock);
      for (std::int64_t p = p0; p < p1; ++p) {
        const float scaled = alpha * at(i, p);
        for (std::int64_t j = 0; j < n; ++j) row[j] += scaled * bt(p, j);
      }
    }
  }
#endif
}

void segmented_sum(const Context& ctx, const float* values, std::int64_t segments,
                   std::int64_t size, double* sums) {
  segmented_sum(
      ctx, segments, size,
      [values, size](std::int64_t s, std::int64_t i) -> double { return values[s * size + i]; },
      sums);
}

void fill(const Context&, float* dst, std::int64_t count, float value) {
  if (count > 0) std::fill(dst, dst + count, value);
}

void zero(const Context&, void* dst, std::size_t bytes) {
  if (bytes > 0) std::memset(dst, 0, bytes);
}

void copy_to_device(const Context&, void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void copy_to_host(const Context&, void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, bytes);
}

void copy_on_device(const Context&, void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) std::memmove(dst, src, bytes);
}

}  // namespace cpu
}  // namespace cuxplain::kernels
