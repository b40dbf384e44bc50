#pragma once
// Row-major single-precision GEMM for the host backend: a CBLAS (OpenBLAS on
// Debian) when cuxplain found one, blocked loops otherwise.
#include <cstdint>

namespace cuxplain::kernels::host {

/// C (m x n) = alpha * op(A) * op(B) + beta * C, all row-major with leading
/// dimensions lda, ldb, ldc; op(X) = X or X^T.
void sgemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
           float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
           float beta, float* c, std::int64_t ldc);

}  // namespace cuxplain::kernels::host
