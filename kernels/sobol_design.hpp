#pragma once
// Rows of the stacked Sobol design, one implementation per backend (arguments
// already validated by host/explain/sobol_design.cpp).
#include <cstdint>

#include <cuxplain/core/context.hpp>

namespace cuxplain::kernels::cpu {
void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks);
}  // namespace cuxplain::kernels::cuda
