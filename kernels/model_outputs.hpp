#pragma once
// Copies the target column of a model's output batch into the explainer's
// output vector and counts the rows whose value is not finite.
#include <cstdint>

#include <cuxplain/core/context.hpp>

namespace cuxplain::kernels::cpu {
void select_target_outputs(const Context& ctx, const float* outputs, std::int64_t rows,
                           std::int64_t num_outputs, std::int64_t target, float* selected,
                           int* nonfinite_rows);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void select_target_outputs(const Context& ctx, const float* outputs, std::int64_t rows,
                           std::int64_t num_outputs, std::int64_t target, float* selected,
                           int* nonfinite_rows);
}  // namespace cuxplain::kernels::cuda
