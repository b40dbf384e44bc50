#pragma once
// Copies the target column of a model's output batch into the explainer's
// output vector and counts the rows whose value is not finite. Declared for
// both backends; written once in kernels/model_outputs.inl.
#include <cstdint>

#include <cuxplain/core/context.hpp>

#define CUXPLAIN_DECLARE_MODEL_OUTPUTS_OPS                                                     \
  void select_target_outputs(const Context& ctx, const float* outputs, std::int64_t rows,    \
                             std::int64_t num_outputs, std::int64_t target, float* selected, \
                             int* nonfinite_rows);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_MODEL_OUTPUTS_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_MODEL_OUTPUTS_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_MODEL_OUTPUTS_OPS
