#pragma once
// Sobol index estimators, one implementation per backend (arguments already
// validated by host/explain/estimators.cpp).
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

namespace cuxplain::kernels::cpu {
void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* st);
void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* st);
void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1);
}  // namespace cuxplain::kernels::cuda
