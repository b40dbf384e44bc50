#include "../model_outputs.hpp"

#include <cuxplain/detail/model_outputs.hpp>

namespace cuxplain::kernels::cpu {

void select_target_outputs(const Context&, const float* outputs, std::int64_t rows,
                           std::int64_t num_outputs, std::int64_t target, float* selected,
                           int* nonfinite_rows) {
  int nonfinite = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    const float value = detail::target_output(outputs, row, num_outputs, target);
    selected[row] = value;
    nonfinite += detail::is_finite_bits(value) ? 0 : 1;
  }
  *nonfinite_rows += nonfinite;
}

}  // namespace cuxplain::kernels::cpu
