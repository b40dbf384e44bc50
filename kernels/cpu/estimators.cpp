// Sobol index estimators on the host: one sequential double sum per cell, so
// results are the same run to run whatever the number of threads.
#include "../estimators.hpp"

#include <cuxplain/detail/estimators.hpp>

namespace cuxplain::kernels::cpu {
namespace {

// Below this many points (N * d) starting threads costs more than the sums.
constexpr std::int64_t kParallelMinPoints = std::int64_t{1} << 15;

detail::OutputStats stats_of_a(const float* y_a, std::int64_t nb_design) {
  double sum = 0.0;
  for (std::int64_t j = 0; j < nb_design; ++j) sum += static_cast<double>(y_a[j]);
  const double f0 = sum / static_cast<double>(nb_design);
  double centred_squares = 0.0;
  for (std::int64_t j = 0; j < nb_design; ++j) {
    const double deviation = static_cast<double>(y_a[j]) - f0;
    centred_squares += deviation * deviation;
  }
  return detail::output_stats(sum, centred_squares, nb_design);
}

}  // namespace

void sobol_total_order(const Context&, Estimator estimator, const float* y_a, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* st) {
  const detail::OutputStats stats = stats_of_a(y_a, nb_design);
#pragma omp parallel for schedule(static) if (nb_design * d >= kParallelMinPoints)
  for (std::int64_t cell = 0; cell < d; ++cell) {
    const float* c = y_c + cell * nb_design;
    detail::TotalOrderSums sums{};
    for (std::int64_t j = 0; j < nb_design; ++j) detail::accumulate(sums, y_a[j], c[j], stats.f0);
    st[cell] = static_cast<float>(detail::total_order_index(estimator, sums, stats, nb_design));
  }
}

void sobol_first_order(const Context&, const float* y_a, const float* y_b, const float* y_c,
                       std::int64_t nb_design, std::int64_t d, float* s1) {
  const detail::OutputStats stats = stats_of_a(y_a, nb_design);
#pragma omp parallel for schedule(static) if (nb_design * d >= kParallelMinPoints)
  for (std::int64_t cell = 0; cell < d; ++cell) {
    const float* c = y_c + cell * nb_design;
    detail::FirstOrderSums sums{};
    for (std::int64_t j = 0; j < nb_design; ++j) {
      detail::accumulate(sums, y_a[j], y_b[j], c[j], stats.f0);
    }
    s1[cell] = static_cast<float>(detail::first_order_index(sums, stats, nb_design));
  }
}

}  // namespace cuxplain::kernels::cpu
