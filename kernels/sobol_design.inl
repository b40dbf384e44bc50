// Rows of the stacked Sobol design, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by
// kernels/cpu/sobol_design.cpp and kernels/cuda/sobol_design.cu. Each entry
// reads its value straight from the sequence (detail/sobol_design.hpp).
#include <cuxplain/detail/sobol_design.hpp>

#include "sobol_design.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace sobol_design_ops {

struct DesignEntry {
  const float* sequence;
  std::int64_t nb_design, d;
  bool with_b;
  std::int64_t row_begin;
  float* masks;
  CUXPLAIN_HD void operator()(std::int64_t r, std::int64_t column) const {
    const cuxplain::detail::DesignRow row =
        cuxplain::detail::sobol_design_row(row_begin + r, nb_design, with_b);
    masks[r * d + column] = cuxplain::detail::sobol_design_value(sequence, row, column, d);
  }
};

// Below this many entries starting threads costs more than the copies.
constexpr std::int64_t kParallelMin = std::int64_t{1} << 16;

}  // namespace sobol_design_ops

void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks) {
  for_each(ctx, Extent2{rows, d},
           sobol_design_ops::DesignEntry{sequence, nb_design, d, with_b, row_begin, masks},
           Policy::parallel_from(rows * d, sobol_design_ops::kParallelMin));
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
