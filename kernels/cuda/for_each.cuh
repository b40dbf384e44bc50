#pragma once
// CUDA executor of the for_each contract (kernels/for_each.hpp): one
// cub::DeviceFor::Bulk launch on the context's stream, checked. Needs nvcc's
// --extended-lambda for the walks' __host__ __device__ lambdas (set on the
// files that use it in cmake/cuxplainSources.cmake).
#include <cub/device/device_for.cuh>

#include <cstdint>

#include "../for_each.hpp"
#include "check.cuh"

namespace cuxplain::kernels::cuda {

struct CudaExec {
  cudaStream_t stream;

  template <class Body>
  void operator()(std::int64_t count, Body body) const {
    if (count <= 0) return;
    CUXPLAIN_CUDA_TRY(cub::DeviceFor::Bulk(count, body, stream));
    CUXPLAIN_CHECK_LAUNCH();
  }
};

}  // namespace cuxplain::kernels::cuda
