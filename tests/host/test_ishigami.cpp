// Known answer for the whole Sobol chain (sequence -> design -> estimator):
// the Ishigami function, a = 7, b = 0.1, has total indices 0.5576, 0.4424,
// 0.2437 (Saltelli et al., "Global Sensitivity Analysis: The Primer").
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

double ishigami(double x1, double x2, double x3) {
  const double a = 7.0, b = 0.1;
  return std::sin(x1) + a * std::sin(x2) * std::sin(x2) +
         b * std::pow(x3, 4) * std::sin(x1);
}

std::vector<float> ishigami_total_indices(const Context& ctx, Estimator estimator,
                                          std::int64_t nb_design) {
  constexpr std::int64_t d = 3;
  const double pi = std::acos(-1.0);
  Buffer<float> sequence(ctx, nb_design * 2 * d);
  generate_samples(ctx, Sampler::sobol, nb_design, 2 * d, sequence.data(), /*skip=*/1);
  const std::int64_t rows = sobol_design_rows(nb_design, d, false);
  Buffer<float> design(ctx, rows * d);
  sobol_design_masks(ctx, sequence.data(), nb_design, d, false, 0, rows, design.data());
  const std::vector<float> x = test::download(ctx, design);
  std::vector<float> y(static_cast<std::size_t>(rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto u = [&](int k) { return -pi + 2.0 * pi * x[static_cast<std::size_t>(r * d + k)]; };
    y[static_cast<std::size_t>(r)] = static_cast<float>(ishigami(u(0), u(1), u(2)));
  }
  const Buffer<float> outputs = test::upload(ctx, y);
  Buffer<float> st = test::poisoned(ctx, d);
  sobol_total_order(ctx, estimator, outputs.data(), outputs.data() + nb_design, nb_design, d,
                    st.data());
  return test::download(ctx, st);
}

TEST(Ishigami, JansenTotalIndicesWithinOneHundredth) {
  const auto st = ishigami_total_indices(Context::host(), Estimator::jansen, 1 << 14);
  EXPECT_NEAR(st[0], 0.5576, 0.01);
  EXPECT_NEAR(st[1], 0.4424, 0.01);
  EXPECT_NEAR(st[2], 0.2437, 0.01);
}

TEST(Ishigami, EveryEstimatorConverges) {
  for (Estimator estimator : {Estimator::homma, Estimator::janon, Estimator::glen,
                              Estimator::saltelli}) {
    const auto st = ishigami_total_indices(Context::host(), estimator, 1 << 14);
    EXPECT_NEAR(st[0], 0.5576, 0.01) << to_string(estimator);
    EXPECT_NEAR(st[1], 0.4424, 0.01) << to_string(estimator);
    EXPECT_NEAR(st[2], 0.2437, 0.01) << to_string(estimator);
  }
}

}  // namespace
}  // namespace cuxplain
