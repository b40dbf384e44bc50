// Reading a model's output batch, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by
// kernels/cpu/model_outputs.cpp and kernels/cuda/model_outputs.cu.
#include <cuxplain/detail/model_outputs.hpp>

#include "model_outputs.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace model_outputs_ops {

struct SelectTarget {
  const float* outputs;
  std::int64_t num_outputs, target;
  float* selected;
  int* nonfinite_rows;
  CUXPLAIN_HD void operator()(std::int64_t row) const {
    const float value = cuxplain::detail::target_output(outputs, row, num_outputs, target);
    selected[row] = value;
    if (!cuxplain::detail::is_finite_bits(value)) atomic_add(nonfinite_rows, 1);
  }
};

}  // namespace model_outputs_ops

void select_target_outputs(const Context& ctx, const float* outputs, std::int64_t rows,
                           std::int64_t num_outputs, std::int64_t target, float* selected,
                           int* nonfinite_rows) {
  // A batch's rows are few: one thread on the CPU.
  for_each(ctx, rows,
           model_outputs_ops::SelectTarget{outputs, num_outputs, target, selected, nonfinite_rows},
           Policy::serial());
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
