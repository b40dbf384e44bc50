// The CUDA backend's GEMM, sums, fills and copies (kernels/backend.hpp). The
// one cuBLAS call of the library is here: row-major GEMMs through cuBLAS's
// column-major view, the int range checked once.
#include "backend.cuh"

#include <cublas_v2.h>

#include <cuxplain/detail/hd.hpp>

#include "../context_state.hpp"

#define CUXPLAIN_CUBLAS_TRY(call)                                                           \
  do {                                                                                      \
    const cublasStatus_t cuxplain_blas_status_ = (call);                                    \
    if (cuxplain_blas_status_ != CUBLAS_STATUS_SUCCESS) {                                   \
      ::cuxplain::detail::throw_error(                                                      \
          __FILE__, __LINE__,                                                               \
          ::cuxplain::detail::concat("cuBLAS call `", #call, "` failed: ",                 \
                                     cublasGetStatusName(cuxplain_blas_status_), " (",      \
                                     cublasGetStatusString(cuxplain_blas_status_), ")"));   \
    }                                                                                       \
  } while (0)

namespace cuxplain::kernels::cuda {
namespace {

/// ctx's cuBLAS handle, created on first use (thread-safe), with ctx.stream() set.
cublasHandle_t cublas_handle(const Context& ctx) {
  cuxplain::detail::ContextState& state = cuxplain::detail::state_of(ctx);
  std::lock_guard<std::mutex> lock(state.blas_mutex);
  if (!state.blas_handle) {
    cublasHandle_t handle = nullptr;
    CUXPLAIN_CUBLAS_TRY(cublasCreate(&handle));
    state.blas_handle = std::shared_ptr<void>(
        handle, [](void* h) { (void)cublasDestroy(static_cast<cublasHandle_t>(h)); });
  }
  auto handle = static_cast<cublasHandle_t>(state.blas_handle.get());
  CUXPLAIN_CUBLAS_TRY(cublasSetStream(handle, ctx.stream()));
  return handle;
}

struct FillOp {
  float* dst;
  float value;
  CUXPLAIN_HD void operator()(std::int64_t i) const { dst[i] = value; }
};

struct FloatValue {
  const float* values;
  std::int64_t size;
  CUXPLAIN_HD double operator()(std::int64_t s, std::int64_t i) const {
    return values[s * size + i];
  }
};

}  // namespace

void gemm(const Context& ctx, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
          std::int64_t k, float alpha, const float* a, std::int64_t lda, const float* b,
          std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  check_gemm_sizes(m, n, k, lda, ldb, ldc);
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a
  // row-major matrix is its transpose in column-major order.
  CUXPLAIN_CUBLAS_TRY(cublasSgemm(cublas_handle(ctx), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                  static_cast<int>(m), static_cast<int>(k), &alpha, b,
                                  static_cast<int>(ldb), a, static_cast<int>(lda), &beta, c,
                                  static_cast<int>(ldc)));
}

void segmented_sum(const Context& ctx, const float* values, std::int64_t segments,
                   std::int64_t size, double* sums) {
  segmented_sum(ctx, segments, size, FloatValue{values, size}, sums);
}

void fill(const Context& ctx, float* dst, std::int64_t count, float value) {
  for_each(ctx, count, FillOp{dst, value});
}

void zero(const Context& ctx, void* dst, std::size_t bytes) {
  if (bytes == 0) return;
  CUXPLAIN_CUDA_TRY(cudaMemsetAsync(dst, 0, bytes, ctx.stream()));
}

void copy_to_device(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  CUXPLAIN_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx.stream()));
}

void copy_to_host(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  CUXPLAIN_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx.stream()));
  CUXPLAIN_CUDA_TRY(cudaStreamSynchronize(ctx.stream()));
}

void copy_on_device(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  CUXPLAIN_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
}

}  // namespace cuxplain::kernels::cuda
