#pragma once
// Sobol index estimators over model outputs on the stacked design.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Total-order indices ST_i, i < d, for one image (DESIGN.md formulas).
/// y_a: outputs on A (nb_design floats); y_c: outputs on C_1..C_d (d blocks
/// of nb_design, i-major); st: d floats. All on ctx's device. Sums are
/// accumulated in double; variances clamped to >= 1e-12.
void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a,
                       const float* y_c, std::int64_t nb_design, std::int64_t d, float* st);

/// First-order indices S_i = mean(b * (c_i - a)) / V (Saltelli 2010).
void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1);

}  // namespace cuxplain
