#include "../model_outputs.hpp"
#include "backend.cuh"

#include <cuxplain/detail/model_outputs.hpp>

namespace cuxplain::kernels::cuda {
namespace {

__global__ void select_target_outputs_kernel(const float* outputs, std::int64_t rows,
                                             std::int64_t num_outputs, std::int64_t target,
                                             float* selected, int* nonfinite_rows) {
  for (std::int64_t row = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       row < rows; row += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float value = detail::target_output(outputs, row, num_outputs, target);
    selected[row] = value;
    if (!detail::is_finite_bits(value)) atomicAdd(nonfinite_rows, 1);
  }
}

}  // namespace

void select_target_outputs(const Context& ctx, const float* outputs, std::int64_t rows,
                           std::int64_t num_outputs, std::int64_t target, float* selected,
                           int* nonfinite_rows) {
  if (rows <= 0) return;
  constexpr int kThreads = 256;
  select_target_outputs_kernel<<<blocks_for(rows, kThreads), kThreads, 0, ctx.stream()>>>(
      outputs, rows, num_outputs, target, selected, nonfinite_rows);
  CUXPLAIN_CHECK_LAUNCH();
}

}  // namespace cuxplain::kernels::cuda
