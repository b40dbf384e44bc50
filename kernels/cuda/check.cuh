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

namespace cuxplain::kernels::cuda {

/// Blocks of `threads` threads covering `count` items, capped so that the grid
/// stays legal; kernels use grid-stride loops over 64-bit indices.
inline unsigned int grid_for(std::int64_t count, int threads) {
  const std::int64_t blocks = (count + threads - 1) / threads;
  const std::int64_t cap = 65535LL * 32;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > cap ? cap : blocks));
}

}  // namespace cuxplain::kernels::cuda
