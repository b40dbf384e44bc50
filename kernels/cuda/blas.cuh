#pragma once
// The Context's cuBLAS handle, created on first use and bound to its stream.
#include <cublas_v2.h>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>

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

/// ctx's cuBLAS handle with ctx.stream() set. Thread-safe creation.
cublasHandle_t cublas_handle(const Context& ctx);

}  // namespace cuxplain::kernels::cuda
