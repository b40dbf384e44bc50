#pragma once
// Checked CUDA calls and launches: every failure becomes a cuxplain::Error that
// names the call, the CUDA error and the file and line.
#include <cuda_runtime.h>

#include <cuxplain/core/error.hpp>

#define CUXPLAIN_CUDA_TRY(call)                                                            \
  do {                                                                                     \
    const cudaError_t cuxplain_status_ = (call);                                           \
    if (cuxplain_status_ != cudaSuccess) {                                                 \
      ::cuxplain::detail::throw_error(__FILE__, __LINE__,                                  \
                                      ::cuxplain::detail::concat(                          \
                                          "CUDA call `", #call, "` failed: ",              \
                                          cudaGetErrorName(cuxplain_status_), " (",        \
                                          cudaGetErrorString(cuxplain_status_), ")"));     \
    }                                                                                      \
  } while (0)

/// Checks the launch that precedes it (configuration errors and sticky faults).
#define CUXPLAIN_CHECK_LAUNCH() CUXPLAIN_CUDA_TRY(cudaGetLastError())
