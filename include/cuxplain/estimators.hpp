#pragma once
// Sobol index estimators over model outputs on the stacked design.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Total-order indices ST_i, i < d, for one image (DESIGN.md, "Sobol estimators").
///
/// y_a: outputs on A (nb_design floats); y_c: outputs on C_1..C_d (d blocks
/// of nb_design, i-major, as the stacked design orders them); st: d floats.
/// All on ctx's device. With f0 = mean(a) and V = sum((a - f0)^2) / (N - 1):
///   jansen    sum((a - c_i)^2) / (2 N V)
///   homma     (V - mean(a c_i) + f0^2) / V
///   saltelli  1 - (mean(a c_i) - f0^2) / V
///   janon     1 - (mean(a c_i) - mu_i^2) / V_i, mu_i = (mean(a) + mean(c_i)) / 2,
///             V_i = sum(a^2 + c_i^2) / (2 (N - 1)) - mu_i^2
///   glen      1 - cov(a, c_i) / sqrt(var(a) var(c_i)), all with ddof 1
/// Sums are accumulated in double over outputs centred by f0, which gives the
/// same values as the formulas above without their cancellation when outputs
/// sit far from zero; every variance is clamped to >= 1e-12, so constant
/// outputs give finite indices. Results are bitwise repeatable run to run on
/// a given backend; the host and CUDA backends agree to float rounding.
///
/// CUDA: enqueued on ctx.stream() without synchronizing; 16 bytes of
/// temporary memory come from ctx's allocator, plus d * ceil(N / 8192)
/// partial sums of 48 bytes when N > 8192. Throws cuxplain::Error on a null pointer, memory on the
/// wrong device, nb_design < 2, d < 1 or an unknown estimator.
void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a,
                       const float* y_c, std::int64_t nb_design, std::int64_t d, float* st);

/// First-order indices S_i = mean(b (c_i - a)) / V (Saltelli 2010), i < d.
///
/// y_b: outputs on B (nb_design floats); the other arguments, the numerics
/// and the errors are those of sobol_total_order.
void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1);

}  // namespace cuxplain
