// Sobol index estimators on the host backend against the plainly written
// double-precision reference (tests/reference/estimators.hpp), plus known
// answers, the variance clamp, repeatability and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/estimator_cases.hpp"
#include "common/test_utils.hpp"
#include "reference/estimators.hpp"

namespace cuxplain {
namespace {

using test::error_message;
using test::EstimatorCase;
using test::expect_mentions;
using test::host_first_order;
using test::host_total_order;
using test::kEstimators;
using test::make_outputs;
using test::Outputs;

/// |got - want| <= tolerance * max(1, |want|) for every cell (NaN fails).
void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tolerance,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tolerance * std::max(1.0, std::fabs(want[i])))
        << what << ", cell " << i;
  }
}

class EstimatorCases : public ::testing::TestWithParam<EstimatorCase> {};

TEST_P(EstimatorCases, EveryTotalOrderEstimatorMatchesReference) {
  const auto [nb_design, d, offset] = GetParam();
  const Outputs y = make_outputs(nb_design, d, offset, 7);
  double norm = 0.0;  // over all estimators: Glen is exactly 0 or 2 when N = 2
  for (Estimator estimator : kEstimators) {
    const std::vector<float> st = host_total_order(estimator, y, nb_design, d);
    const std::vector<double> want =
        reference::total_order(estimator, y.a, y.c, static_cast<std::size_t>(d));
    expect_close(st, want, 1e-5, to_string(estimator));
    norm += test::l2_norm(st);
  }
  EXPECT_GT(norm, 0.0);
}

TEST_P(EstimatorCases, FirstOrderMatchesReference) {
  const auto [nb_design, d, offset] = GetParam();
  const Outputs y = make_outputs(nb_design, d, offset, 8);
  const std::vector<float> s1 = host_first_order(y, nb_design, d);
  expect_close(s1, reference::first_order(y.a, y.b, y.c, static_cast<std::size_t>(d)), 1e-5,
               "first order");
  EXPECT_GT(test::l2_norm(s1), 0.0);
}

TEST_P(EstimatorCases, RepeatableBitForBit) {
  const auto [nb_design, d, offset] = GetParam();
  const Outputs y = make_outputs(nb_design, d, offset, 9);
  for (Estimator estimator : kEstimators) {
    const std::vector<float> first = host_total_order(estimator, y, nb_design, d);
    const std::vector<float> second = host_total_order(estimator, y, nb_design, d);
    EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)), 0)
        << to_string(estimator);
  }
}

// N a power of two or not, both sides of the CUDA backend's warp/block
// threshold (1024) and its chunk size (8192).
INSTANTIATE_TEST_SUITE_P(
    Estimators, EstimatorCases,
    ::testing::Values(EstimatorCase{2, 1, 0.0f}, EstimatorCase{5, 3, 0.0f},
                      EstimatorCase{32, 64, 0.0f}, EstimatorCase{32, 64, 100.0f},
                      EstimatorCase{33, 7, 20.0f}, EstimatorCase{1000, 5, 0.0f},
                      EstimatorCase{1025, 4, -30.0f}, EstimatorCase{1 << 14, 3, 0.0f},
                      EstimatorCase{20000, 2, 1000.0f}));

TEST(Estimators, ConstantOutputsGiveFiniteIndices) {
  constexpr std::int64_t nb_design = 32, d = 4;
  const Outputs y = test::constant_outputs(nb_design, d, 0.7f);
  for (Estimator estimator : kEstimators) {
    for (float v : host_total_order(estimator, y, nb_design, d)) {
      EXPECT_TRUE(std::isfinite(v)) << to_string(estimator);
    }
  }
  for (float v : host_first_order(y, nb_design, d)) EXPECT_TRUE(std::isfinite(v));
}

/// y = x_0 on random A and B: Jansen's numerator and the first-order index
/// are exactly zero for cells 1..; cell 0 carries all the variance (ST_0 and
/// S_0 near 1).
TEST(Estimators, UnusedInputsScoreExactlyZero) {
  constexpr std::int64_t nb_design = 4096, d = 4;
  const Outputs y = test::first_input_outputs(nb_design, d);
  const std::vector<float> jansen = host_total_order(Estimator::jansen, y, nb_design, d);
  EXPECT_NEAR(jansen[0], 1.0, 0.1);
  for (std::int64_t i = 1; i < d; ++i) EXPECT_EQ(jansen[i], 0.0f) << "cell " << i;

  const std::vector<float> glen = host_total_order(Estimator::glen, y, nb_design, d);
  EXPECT_NEAR(glen[0], 1.0, 0.1);
  for (std::int64_t i = 1; i < d; ++i) EXPECT_NEAR(glen[i], 0.0, 1e-6) << "cell " << i;

  const std::vector<float> s1 = host_first_order(y, nb_design, d);
  EXPECT_NEAR(s1[0], 1.0, 0.1);
  for (std::int64_t i = 1; i < d; ++i) EXPECT_EQ(s1[i], 0.0f) << "cell " << i;
}

/// Ishigami (a = 7, b = 0.1) on plain Monte Carlo inputs: first-order indices
/// 0.3139, 0.4424, 0 and total-order 0.5576, 0.4424, 0.2437.
TEST(Estimators, IshigamiKnownIndices) {
  constexpr std::int64_t nb_design = 1 << 16, d = 3;
  const double pi = std::acos(-1.0);
  const auto ishigami = [](const double* x) {
    return std::sin(x[0]) + 7.0 * std::sin(x[1]) * std::sin(x[1]) +
           0.1 * std::pow(x[2], 4) * std::sin(x[0]);
  };
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> uniform(-pi, pi);
  Outputs y;
  y.a.resize(nb_design);
  y.b.resize(nb_design);
  y.c.resize(nb_design * d);
  for (std::int64_t j = 0; j < nb_design; ++j) {
    double a[d], b[d];
    for (auto& v : a) v = uniform(gen);
    for (auto& v : b) v = uniform(gen);
    y.a[j] = static_cast<float>(ishigami(a));
    y.b[j] = static_cast<float>(ishigami(b));
    for (std::int64_t i = 0; i < d; ++i) {
      double c[d] = {a[0], a[1], a[2]};
      c[i] = b[i];
      y.c[i * nb_design + j] = static_cast<float>(ishigami(c));
    }
  }
  const std::vector<float> st = host_total_order(Estimator::jansen, y, nb_design, d);
  EXPECT_NEAR(st[0], 0.5576, 0.02);
  EXPECT_NEAR(st[1], 0.4424, 0.02);
  EXPECT_NEAR(st[2], 0.2437, 0.02);
  const std::vector<float> s1 = host_first_order(y, nb_design, d);
  EXPECT_NEAR(s1[0], 0.3139, 0.03);
  EXPECT_NEAR(s1[1], 0.4424, 0.03);
  EXPECT_NEAR(s1[2], 0.0, 0.03);
}

TEST(Estimators, BadArgumentsThrowNamingTheArgument) {
  const Context ctx = Context::host();
  const std::vector<float> a(8, 1.0f), b(8, 2.0f), c(16, 3.0f);
  std::vector<float> out(2);
  const auto total = [&](Estimator e, const float* pa, const float* pc, std::int64_t n,
                         std::int64_t d, float* po) {
    return error_message([&] { sobol_total_order(ctx, e, pa, pc, n, d, po); });
  };
  const auto first = [&](const float* pa, const float* pb, const float* pc, std::int64_t n,
                         std::int64_t d, float* po) {
    return error_message([&] { sobol_first_order(ctx, pa, pb, pc, n, d, po); });
  };
  expect_mentions(total(Estimator::jansen, nullptr, c.data(), 8, 2, out.data()), "y_a is null");
  expect_mentions(total(Estimator::jansen, a.data(), nullptr, 8, 2, out.data()), "y_c is null");
  expect_mentions(total(Estimator::jansen, a.data(), c.data(), 8, 2, nullptr), "st is null");
  expect_mentions(total(Estimator::jansen, a.data(), c.data(), 1, 2, out.data()),
                  "nb_design must be >= 2 (a variance needs two points), got 1");
  expect_mentions(total(Estimator::jansen, a.data(), c.data(), 8, 0, out.data()),
                  "d must be >= 1, got 0");
  expect_mentions(total(static_cast<Estimator>(99), a.data(), c.data(), 8, 2, out.data()),
                  "estimator has no known value (99)");
  expect_mentions(first(a.data(), nullptr, c.data(), 8, 2, out.data()), "y_b is null");
  expect_mentions(first(nullptr, b.data(), c.data(), 8, 2, out.data()), "y_a is null");
  expect_mentions(first(a.data(), b.data(), nullptr, 8, 2, out.data()), "y_c is null");
  expect_mentions(first(a.data(), b.data(), c.data(), 8, 2, nullptr), "s1 is null");
  expect_mentions(first(a.data(), b.data(), c.data(), 0, 2, out.data()), "got 0");
  expect_mentions(first(a.data(), b.data(), c.data(), 8, -1, out.data()), "d must be >= 1, got -1");
}

}  // namespace
}  // namespace cuxplain
