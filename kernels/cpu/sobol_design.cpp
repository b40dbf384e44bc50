// Rows of the stacked Sobol design on the host: one design row per iteration.
#include "../sobol_design.hpp"

#include <cuxplain/detail/sobol_design.hpp>

namespace cuxplain::kernels::cpu {
namespace {
// Below this many entries starting threads costs more than the copies.
constexpr std::int64_t kParallelMinEntries = std::int64_t{1} << 16;
}  // namespace

void sobol_design_masks(const Context&, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks) {
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMinEntries)
  for (std::int64_t r = 0; r < rows; ++r) {
    const detail::DesignRow row = detail::sobol_design_row(row_begin + r, nb_design, with_b);
    float* out = masks + r * d;
    for (std::int64_t column = 0; column < d; ++column) {
      out[column] = detail::sobol_design_value(sequence, row, column, d);
    }
  }
}

}  // namespace cuxplain::kernels::cpu
