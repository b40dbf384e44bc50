#include "gemm.hpp"

#include <algorithm>
#include <vector>

#if CUXPLAIN_HAVE_CBLAS
#include <cblas.h>
#endif

namespace cuxplain::kernels::host {

void sgemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
           float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
           float beta, float* c, std::int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if CUXPLAIN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
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

}  // namespace cuxplain::kernels::host
