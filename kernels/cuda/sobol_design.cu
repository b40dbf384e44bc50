// Rows of the stacked Sobol design on CUDA: one thread per design entry, each
// reading its value straight from the sequence (rows are contiguous, so
// neighbouring threads write neighbouring floats).
#include "../sobol_design.hpp"
#include "backend.cuh"

#include <cuxplain/detail/sobol_design.hpp>

namespace cuxplain::kernels::cuda {
namespace {

__global__ void sobol_design_kernel(const float* sequence, std::int64_t nb_design, std::int64_t d,
                                    bool with_b, std::int64_t row_begin, std::int64_t rows,
                                    float* masks) {
  const std::int64_t count = rows * d;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / d;
    const std::int64_t column = i - r * d;
    const detail::DesignRow row = detail::sobol_design_row(row_begin + r, nb_design, with_b);
    masks[i] = detail::sobol_design_value(sequence, row, column, d);
  }
}

}  // namespace

void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks) {
  constexpr int kThreads = 256;
  sobol_design_kernel<<<blocks_for(rows * d, kThreads), kThreads, 0, ctx.stream()>>>(
      sequence, nb_design, d, with_b, row_begin, rows, masks);
  CUXPLAIN_CHECK_LAUNCH();
}

}  // namespace cuxplain::kernels::cuda
