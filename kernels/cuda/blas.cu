#include "blas.cuh"

#include "../context_state.hpp"

namespace cuxplain::kernels::cuda {

cublasHandle_t cublas_handle(const Context& ctx) {
  detail::ContextState& state = detail::state_of(ctx);
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

}  // namespace cuxplain::kernels::cuda
