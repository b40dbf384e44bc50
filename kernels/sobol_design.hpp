#pragma once
// Rows of the stacked Sobol design, declared for both backends; written once
// in kernels/sobol_design.inl. Arguments are validated by the public entry
// (host/explain/sobol_design.cpp) or by the explainer that calls it.
#include <cstdint>

#include <cuxplain/core/context.hpp>

#define CUXPLAIN_DECLARE_SOBOL_DESIGN_OPS                                                       \
  void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design, \
                          std::int64_t d, bool with_b, std::int64_t row_begin,               \
                          std::int64_t rows, float* masks);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_SOBOL_DESIGN_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_SOBOL_DESIGN_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_SOBOL_DESIGN_OPS
