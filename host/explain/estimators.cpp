// Public entry of the Sobol index estimators: argument checks, then the backend.
#include <cuxplain/core/error.hpp>
#include <cuxplain/detail/estimators.hpp>
#include <cuxplain/estimators.hpp>

#include "../../kernels/estimators.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace {

void validate_sizes(std::int64_t nb_design, std::int64_t d, const char* op) {
  CUXPLAIN_EXPECTS(nb_design >= 2, op,
                   ": nb_design must be >= 2 (a variance needs two points), got ", nb_design);
  CUXPLAIN_EXPECTS(d >= 1, op, ": d must be >= 1, got ", d);
}

}  // namespace

void sobol_total_order(const Context& ctx, Estimator estimator, const float* y_a, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* st) {
  CUXPLAIN_EXPECTS(detail::is_known_estimator(estimator),
                   "sobol_total_order: estimator has no known value (", static_cast<int>(estimator),
                   ")");
  detail::expect_on_device(ctx, y_a, "sobol_total_order: y_a");
  detail::expect_on_device(ctx, y_c, "sobol_total_order: y_c");
  detail::expect_on_device(ctx, st, "sobol_total_order: st");
  validate_sizes(nb_design, d, "sobol_total_order");
  CUXPLAIN_DISPATCH(ctx, sobol_total_order, estimator, y_a, y_c, nb_design, d, st);
}

void sobol_first_order(const Context& ctx, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1) {
  detail::expect_on_device(ctx, y_a, "sobol_first_order: y_a");
  detail::expect_on_device(ctx, y_b, "sobol_first_order: y_b");
  detail::expect_on_device(ctx, y_c, "sobol_first_order: y_c");
  detail::expect_on_device(ctx, s1, "sobol_first_order: s1");
  validate_sizes(nb_design, d, "sobol_first_order");
  CUXPLAIN_DISPATCH(ctx, sobol_first_order, y_a, y_b, y_c, nb_design, d, s1);
}

}  // namespace cuxplain
