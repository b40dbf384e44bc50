// NMF on the host backend: planted factorizations, monotone loss, the
// multiplicative updates and NNDSVD against plain double-precision code
// (tests/reference/nmf_reference.hpp), the stopping rule and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <cuxplain/nmf.hpp>

#include "common/nmf_cases.hpp"
#include "common/test_utils.hpp"
#include "reference/nmf_reference.hpp"

namespace cuxplain {
namespace {

namespace ref = reference::nmf;

double max_abs(const std::vector<double>& values) {
  double m = 0.0;
  for (double v : values) m = std::max(m, std::fabs(v));
  return m;
}

/// Every entry of `actual` within relative * max|expected| of `expected`.
void expect_close(const std::vector<float>& actual, const std::vector<double>& expected,
                  double relative, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  const double tolerance = relative * max_abs(expected);
  for (std::size_t e = 0; e < actual.size(); ++e) {
    ASSERT_NEAR(actual[e], expected[e], tolerance) << what << " entry " << e;
  }
}

ref::Penalties penalties_of(const nmf::Options& options) {
  return {options.l1_u, options.l2_u, options.l1_w, options.l2_w};
}

struct Factors {
  std::vector<float> u, w;
};

Factors poisoned_factors(const test::PlantedNmf& problem, std::int64_t r) {
  return {std::vector<float>(static_cast<std::size_t>(problem.n * r), test::poison()),
          std::vector<float>(static_cast<std::size_t>(r * problem.p), test::poison())};
}

// ---- planted factorizations ----

class NmfPlanted : public ::testing::TestWithParam<nmf::Init> {};

TEST_P(NmfPlanted, RelativeErrorReachesTheNoiseLevel) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(100, 80, 4, 0.05, 3);
  nmf::Options options;
  options.rank = 4;
  options.init = GetParam();
  options.tol = 1e-5;
  options.max_iter = 2000;
  Factors f = poisoned_factors(problem, options.rank);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  // U* W* fits A to the noise level; a rank-r fit can absorb only the part
  // of the noise in an r (n + p - r)-dimensional tangent space (here 9%).
  EXPECT_LE(result.relative_error, problem.noise_level);
  EXPECT_GE(result.relative_error, 0.9 * problem.noise_level);
  EXPECT_TRUE(result.converged);
  EXPECT_LT(result.iterations, options.max_iter);
  EXPECT_EQ(result.iterations % options.check_every, 0);
  for (float v : f.u) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
  for (float v : f.w) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
  // The reported error and loss are those of the returned factors.
  const ref::Matrix a = ref::to_double(problem.a), u = ref::to_double(f.u), w = ref::to_double(f.w);
  double norm_a2 = 0.0;
  for (double v : a) norm_a2 += v * v;
  const double direct = std::sqrt(ref::residual(a, u, w, problem.n, problem.p, options.rank) / norm_a2);
  EXPECT_NEAR(result.relative_error, direct, 1e-3 * direct);
  EXPECT_NEAR(result.loss, ref::objective(a, u, w, problem.n, problem.p, options.rank, {}),
              1e-7 * norm_a2);
}

INSTANTIATE_TEST_SUITE_P(Inits, NmfPlanted, ::testing::Values(nmf::Init::nndsvda, nmf::Init::random),
                         [](const auto& info) { return std::string(nmf::to_string(info.param)); });

TEST(NmfPlanted, NoiselessProductIsRecovered) {
  const Context ctx = Context::host();
  test::PlantedNmf problem = test::planted_nmf(60, 50, 3, 0.0, 8);
  nmf::Options options;
  options.rank = 3;
  options.init = nmf::Init::random;
  options.tol = 0.0;
  options.max_iter = 3000;
  Factors f = poisoned_factors(problem, 3);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  EXPECT_LT(result.relative_error, 5e-3);  // multiplicative updates converge sublinearly
  EXPECT_EQ(result.iterations, 3000);
  EXPECT_FALSE(result.converged);
}

// ---- the loss ----

class NmfLoss : public ::testing::TestWithParam<int> {};

TEST_P(NmfLoss, NeverIncreasesAcrossIterations) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(90, 70, 5, 0.1, 11);
  nmf::Options options;
  options.rank = 5;
  options.init = GetParam() == 0 ? nmf::Init::nndsvda : nmf::Init::random;
  options.seed = 4;
  options.tol = 0.0;
  options.max_iter = 300;
  options.loss_history = true;
  if (GetParam() == 2) {
    options.l1_u = 0.05f, options.l2_u = 0.5f, options.l1_w = 0.02f, options.l2_w = 0.3f;
  }
  Factors f = poisoned_factors(problem, options.rank);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  ASSERT_EQ(result.loss_history.size(), 301u);
  EXPECT_EQ(result.loss_history.back(), result.loss);
  double norm_a2 = 0.0;
  for (float v : problem.a) norm_a2 += static_cast<double>(v) * v;
  // The Gram-form loss carries the float GEMMs' rounding, amplified by
  // ||A||^2 / ||A - U W||^2: allow 1e-7 ||A||^2 (about 1e-4 of the loss here).
  for (std::size_t k = 1; k < result.loss_history.size(); ++k) {
    EXPECT_LE(result.loss_history[k], result.loss_history[k - 1] + 1e-7 * norm_a2) << "iteration " << k;
  }
  EXPECT_LT(result.loss_history.back(), 0.5 * result.loss_history.front());
  EXPECT_NEAR(result.loss, ref::objective(ref::to_double(problem.a), ref::to_double(f.u),
                                          ref::to_double(f.w), problem.n, problem.p, options.rank,
                                          penalties_of(options)),
              1e-7 * norm_a2);
}

INSTANTIATE_TEST_SUITE_P(InitsAndPenalties, NmfLoss, ::testing::Values(0, 1, 2));

// ---- the updates against the reference ----

struct UpdateCase {
  int iterations;
  bool penalties;
};

class NmfUpdates : public ::testing::TestWithParam<UpdateCase> {};

TEST_P(NmfUpdates, MatchPlainReferenceFromTheSameStart) {
  const UpdateCase param = GetParam();
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(40, 30, 4, 0.1, 21);
  const std::int64_t r = 4;
  nmf::Options options;
  options.rank = r;
  options.init = nmf::Init::custom;
  options.tol = 0.0;
  options.max_iter = param.iterations;
  options.loss_history = true;
  if (param.penalties) options.l1_u = 0.1f, options.l2_u = 0.4f, options.l1_w = 0.05f, options.l2_w = 0.2f;
  // A start away from the planted factors, with one exact zero in each.
  Factors f{test::random_uniform(static_cast<std::size_t>(problem.n * r), 5, 0.1f, 1.0f),
            test::random_uniform(static_cast<std::size_t>(r * problem.p), 6, 0.1f, 1.0f)};
  f.u[7] = 0.0f;
  f.w[3] = 0.0f;
  ref::Matrix u = ref::to_double(f.u), w = ref::to_double(f.w);
  std::vector<double> history;
  ref::run(ref::to_double(problem.a), u, w, problem.n, problem.p, r, param.iterations,
           penalties_of(options), &history);

  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  EXPECT_EQ(result.iterations, param.iterations);
  expect_close(f.u, u, 2e-5 * param.iterations, "U");
  expect_close(f.w, w, 2e-5 * param.iterations, "W");
  EXPECT_EQ(f.u[7], 0.0f);  // multiplicative updates keep zeros
  EXPECT_EQ(f.w[3], 0.0f);
  ASSERT_EQ(result.loss_history.size(), history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_NEAR(result.loss_history[k], history[k], 1e-5 * history[0]) << "iteration " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(IterationsAndPenalties, NmfUpdates,
                         ::testing::Values(UpdateCase{1, false}, UpdateCase{1, true},
                                           UpdateCase{5, false}, UpdateCase{20, true}));

TEST(NmfUpdates, ZeroDenominatorUsesEpsilon) {
  // A zero column of W makes U's denominator (U W W^T)_i0 zero where U W W^T
  // has no other term: U's update divides by float32's epsilon, not by 0.
  const Context ctx = Context::host();
  const std::int64_t n = 3, p = 4, r = 2;
  std::vector<float> a = {1, 2, 0, 1, 0, 1, 3, 1, 2, 2, 1, 0};
  std::vector<float> u = {0.5f, 0.0f, 0.2f, 0.0f, 0.3f, 0.0f};
  std::vector<float> w = {0.3f, 0.4f, 0.2f, 0.1f, 0.0f, 0.0f, 0.0f, 0.0f};
  ref::Matrix ru = ref::to_double(u), rw = ref::to_double(w);
  ref::run(ref::to_double(a), ru, rw, n, p, r, 2, {});
  nmf::Options options;
  options.rank = r;
  options.init = nmf::Init::custom;
  options.max_iter = 2;
  nmf::fit(ctx, a.data(), n, p, options, u.data(), w.data());
  for (float v : u) EXPECT_TRUE(std::isfinite(v));
  for (float v : w) EXPECT_TRUE(std::isfinite(v));
  expect_close(u, ru, 1e-5, "U");
  expect_close(w, rw, 1e-5, "W");
}

// ---- stopping ----

TEST(NmfStopping, RelativeErrorChangeTestedEveryCheckEvery) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(80, 60, 4, 0.05, 13);
  for (std::int64_t every : {10, 7}) {
    nmf::Options options;
    options.rank = 4;
    options.init = nmf::Init::random;
    options.tol = 1e-3;
    options.max_iter = 2000;
    options.check_every = every;
    options.loss_history = true;
    Factors f = poisoned_factors(problem, 4);
    const nmf::Result result =
        nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
    ASSERT_TRUE(result.converged) << result.iterations;
    ASSERT_EQ(result.iterations % every, 0);
    EXPECT_GT(result.iterations, 2 * every);
    ASSERT_EQ(result.loss_history.size(), static_cast<std::size_t>(result.iterations + 1));
    // Without penalties the objective is e^2 / 2: replay scikit-learn's rule.
    const auto error = [&](std::int64_t k) { return std::sqrt(2.0 * result.loss_history[k]); };
    double previous = error(0);
    for (std::int64_t k = every; k <= result.iterations; k += every) {
      const bool stop = previous - error(k) <= options.tol * error(0);
      EXPECT_EQ(stop, k == result.iterations) << "every " << every << " test at " << k;
      previous = error(k);
    }
  }
}

TEST(NmfStopping, ZeroTolRunsMaxIter) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(30, 20, 2, 0.05, 2);
  nmf::Options options;
  options.rank = 2;
  options.tol = 0.0;
  options.max_iter = 37;
  Factors f = poisoned_factors(problem, 2);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  EXPECT_EQ(result.iterations, 37);
  EXPECT_FALSE(result.converged);
  EXPECT_TRUE(result.loss_history.empty());
  EXPECT_GT(result.relative_error, 0.0);
}

TEST(NmfStopping, ZeroMatrixGivesZeroFactorsAndError) {
  const Context ctx = Context::host();
  const std::vector<float> a(12 * 9, 0.0f);
  for (nmf::Init init : {nmf::Init::nndsvd, nmf::Init::nndsvda, nmf::Init::random}) {
    nmf::Options options;
    options.rank = 3;
    options.init = init;
    std::vector<float> u(12 * 3, test::poison()), w(3 * 9, test::poison());
    const nmf::Result result = nmf::fit(ctx, a.data(), 12, 9, options, u.data(), w.data());
    EXPECT_EQ(result.relative_error, 0.0) << nmf::to_string(init);
    EXPECT_EQ(result.loss, 0.0);
    EXPECT_TRUE(result.converged);  // no improvement on an exact fit: the first test stops
    EXPECT_EQ(result.iterations, options.check_every);
    for (float v : u) EXPECT_EQ(v, 0.0f);
    for (float v : w) EXPECT_EQ(v, 0.0f);
  }
}

// ---- initialization ----

TEST(NmfInit, NndsvdMatchesScikitLearnsRuleOnTheExactSvd) {
  const Context ctx = Context::host();
  for (std::uint32_t seed : {1u, 2u}) {
    // Wide and tall; rank 6 of a 7-component product (distinct singular values).
    const bool wide = seed == 2;
    const test::PlantedNmf problem = test::planted_nmf(wide ? 50 : 90, wide ? 80 : 60, 7, 0.01, seed);
    for (nmf::Init init : {nmf::Init::nndsvd, nmf::Init::nndsvda}) {
      nmf::Options options;
      options.rank = 6;
      options.init = init;
      std::vector<float> u(static_cast<std::size_t>(problem.n * 6), test::poison());
      std::vector<float> w(static_cast<std::size_t>(6 * problem.p), test::poison());
      nmf::initialize(ctx, problem.a.data(), problem.n, problem.p, options, u.data(), w.data());
      ref::Matrix ru, rw;
      ref::nndsvd(ref::to_double(problem.a), problem.n, problem.p, 6, init == nmf::Init::nndsvda, ru, rw);
      const std::string what = std::string(nmf::to_string(init)) + " seed " + std::to_string(seed);
      expect_close(u, ru, 1e-4, what + " U");
      expect_close(w, rw, 1e-4, what + " W");
      const auto zeros = std::count(u.begin(), u.end(), 0.0f) + std::count(w.begin(), w.end(), 0.0f);
      if (init == nmf::Init::nndsvd) {
        EXPECT_GT(zeros, 0) << what;
      } else {
        EXPECT_EQ(zeros, 0) << what;
      }
    }
  }
}

TEST(NmfInit, NndsvdWithoutPowerIterationsOrOversamplesStillSpansTheTopComponents) {
  // Rank-3 data with rank = 3 = k: the sketch spans A's range exactly.
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(40, 30, 3, 0.0, 4);
  nmf::Options options;
  options.rank = 3;
  options.init = nmf::Init::nndsvd;
  options.svd_oversamples = 0;
  options.svd_power_iterations = 0;
  std::vector<float> u(40 * 3, test::poison()), w(3 * 30, test::poison());
  nmf::initialize(ctx, problem.a.data(), 40, 30, options, u.data(), w.data());
  ref::Matrix ru, rw;
  ref::nndsvd(ref::to_double(problem.a), 40, 30, 3, false, ru, rw);
  expect_close(u, ru, 1e-3, "U");
  expect_close(w, rw, 1e-3, "W");
}

TEST(NmfInit, RandomIsSeededNonNegativeAndScaled) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(200, 150, 5, 0.05, 6);
  nmf::Options options;
  options.rank = 5;
  options.init = nmf::Init::random;
  options.seed = 9;
  const auto draw = [&](std::uint64_t seed) {
    options.seed = seed;
    Factors f = poisoned_factors(problem, 5);
    nmf::initialize(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
    return f;
  };
  const Factors first = draw(9), again = draw(9), other = draw(10);
  EXPECT_EQ(first.u, again.u);
  EXPECT_EQ(first.w, again.w);
  EXPECT_NE(first.u, other.u);
  double mean_a = 0.0;
  for (float v : problem.a) mean_a += v;
  mean_a /= static_cast<double>(problem.a.size());
  // E|N(0, 1)| = sqrt(2 / pi).
  const double expected = std::sqrt(mean_a / 5.0) * std::sqrt(2.0 / 3.141592653589793);
  for (const std::vector<float>* factor : {&first.u, &first.w}) {
    double mean = 0.0, mean_sq = 0.0;
    for (float v : *factor) {
      ASSERT_GE(v, 0.0f);
      mean += v;
      mean_sq += static_cast<double>(v) * v;
    }
    mean /= static_cast<double>(factor->size());
    mean_sq /= static_cast<double>(factor->size());
    EXPECT_NEAR(mean, expected, 0.05 * expected);
    EXPECT_NEAR(mean_sq, mean_a / 5.0, 0.08 * mean_a / 5.0);  // E N^2 = 1
  }
}

// ---- transform ----

TEST(NmfTransform, RecoversPlantedCoefficientsForFixedW) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(70, 50, 4, 0.0, 17);
  nmf::Options options;
  options.rank = 4;
  options.tol = 0.0;
  options.max_iter = 2000;
  std::vector<float> u(70 * 4, test::poison());
  const nmf::Result result =
      nmf::transform(ctx, problem.a.data(), 70, 50, problem.w.data(), options, u.data());
  EXPECT_LT(result.relative_error, 1e-3);
  expect_close(u, ref::to_double(problem.u), 1e-2, "U");
}

TEST(NmfTransform, MatchesReferenceUUpdatesWithWFrozen) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(40, 30, 3, 0.1, 19);
  const std::vector<float> w = test::random_uniform(3 * 30, 8, 0.0f, 1.0f);
  nmf::Options options;
  options.rank = 3;
  options.tol = 0.0;
  options.max_iter = 10;
  options.l1_u = 0.2f, options.l2_u = 0.5f;
  options.l1_w = 100.0f;  // W is fixed: its penalty plays no part
  options.loss_history = true;
  std::vector<float> u(40 * 3, test::poison());
  const nmf::Result result = nmf::transform(ctx, problem.a.data(), 40, 30, w.data(), options, u.data());

  double mean_a = 0.0;
  for (float v : problem.a) mean_a += v;
  mean_a /= static_cast<double>(problem.a.size());
  const ref::Matrix a = ref::to_double(problem.a), rw = ref::to_double(w);
  ref::Matrix ru(40 * 3, static_cast<double>(static_cast<float>(std::sqrt(mean_a / 3.0))));
  const ref::Penalties pen{0.2, 0.5, 0.0, 0.0};
  std::vector<double> history{ref::objective(a, ru, rw, 40, 30, 3, pen, false)};
  for (int it = 0; it < 10; ++it) {
    ref::update_u(a, ru, rw, 40, 30, 3, pen.l1_u, pen.l2_u);
    history.push_back(ref::objective(a, ru, rw, 40, 30, 3, pen, false));
  }
  expect_close(u, ru, 1e-4, "U");
  ASSERT_EQ(result.loss_history.size(), history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_NEAR(result.loss_history[k], history[k], 1e-5 * history[0]) << k;
  }
  // Init::custom starts from U's content: one more iteration from the
  // result continues the same sequence.
  options.init = nmf::Init::custom;
  options.max_iter = 1;
  options.loss_history = false;
  nmf::transform(ctx, problem.a.data(), 40, 30, w.data(), options, u.data());
  ref::update_u(a, ru, rw, 40, 30, 3, pen.l1_u, pen.l2_u);
  expect_close(u, ru, 1e-4, "U after one more");
}

// ---- errors ----

struct Problem {
  std::vector<float> a = test::random_uniform(8 * 6, 1);
  std::vector<float> u = std::vector<float>(8 * 6, 0.5f);
  std::vector<float> w = std::vector<float>(6 * 6, 0.5f);
};

TEST(NmfErrors, InvalidEntriesOfANameTheirPosition) {
  const Context ctx = Context::host();
  nmf::Options options;
  options.rank = 2;
  Problem pr;
  pr.a[3 * 6 + 4] = -0.5f;
  pr.a[5 * 6 + 1] = -2.0f;
  const auto fit = [&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.w.data()); };
  test::expect_error(fit, "A has a negative entry -0.5 at (3, 4)");
  pr.a[3 * 6 + 4] = 0.25f;
  pr.a[5 * 6 + 1] = 0.5f;
  pr.a[2 * 6 + 5] = std::numeric_limits<float>::quiet_NaN();
  test::expect_error(fit, "A has a non-finite entry nan at (2, 5)");
  pr.a[2 * 6 + 5] = std::numeric_limits<float>::infinity();
  test::expect_error(fit, "A has a non-finite entry inf at (2, 5)");
  pr.a[2 * 6 + 5] = -0.0f;  // -0 is >= 0
  EXPECT_NO_THROW(fit());
  pr.a[0] = -1.0f;
  test::expect_error([&] { nmf::transform(ctx, pr.a.data(), 8, 6, pr.w.data(), options, pr.u.data()); },
                     "nmf::transform: A has a negative entry -1 at (0, 0)");
  test::expect_error([&] { nmf::initialize(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.w.data()); },
                     "nmf::initialize: A has a negative entry");
}

TEST(NmfErrors, InvalidStartingPointsAndFixedW) {
  const Context ctx = Context::host();
  nmf::Options options;
  options.rank = 2;
  options.init = nmf::Init::custom;
  Problem pr;
  pr.u[2 * 2 + 1] = -1.0f;
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.w.data()); },
                     "U (the starting point of Init::custom) has a negative entry -1 at (2, 1)");
  pr.u[2 * 2 + 1] = 1.0f;
  pr.w[1 * 6 + 3] = std::numeric_limits<float>::quiet_NaN();
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.w.data()); },
                     "W (the starting point of Init::custom) has a non-finite entry nan at (1, 3)");
  options.init = nmf::Init::nndsvda;
  test::expect_error([&] { nmf::transform(ctx, pr.a.data(), 8, 6, pr.w.data(), options, pr.u.data()); },
                     "nmf::transform: W has a non-finite entry nan at (1, 3)");
  test::expect_error([&] {
    nmf::Options custom = options;
    custom.init = nmf::Init::custom;
    nmf::initialize(ctx, pr.a.data(), 8, 6, custom, pr.u.data(), pr.w.data());
  }, "options.init must be nndsvd, nndsvda or random, got custom");
}

TEST(NmfErrors, SizesOptionsAndPointers) {
  const Context ctx = Context::host();
  Problem pr;
  const auto fit_with = [&](const nmf::Options& options, std::int64_t n = 8, std::int64_t p = 6) {
    return [&, options, n, p] { nmf::fit(ctx, pr.a.data(), n, p, options, pr.u.data(), pr.w.data()); };
  };
  nmf::Options options;
  options.rank = 7;
  test::expect_error(fit_with(options), "options.rank must be in [1, min(n, p)] = [1, 6], got 7");
  options.rank = 0;
  test::expect_error(fit_with(options), "got 0");
  options.rank = 2;
  test::expect_error(fit_with(options, 0), "n must be in [1, 2^31 - 1], got 0");
  test::expect_error(fit_with(options, 8, -1), "p must be in [1, 2^31 - 1], got -1");
  nmf::Options bad = options;
  bad.max_iter = 0;
  test::expect_error(fit_with(bad), "options.max_iter must be >= 1, got 0");
  bad = options;
  bad.tol = -1e-4;
  test::expect_error(fit_with(bad), "options.tol must be finite and >= 0, got -0.0001");
  bad = options;
  bad.tol = std::numeric_limits<double>::quiet_NaN();
  test::expect_error(fit_with(bad), "options.tol must be finite");
  bad = options;
  bad.check_every = 0;
  test::expect_error(fit_with(bad), "options.check_every must be >= 1, got 0");
  bad = options;
  bad.l2_w = -0.5f;
  test::expect_error(fit_with(bad), "options.l2_w must be finite and >= 0, got -0.5");
  bad = options;
  bad.l1_u = std::numeric_limits<float>::infinity();
  test::expect_error(fit_with(bad), "options.l1_u must be finite and >= 0, got inf");
  bad = options;
  bad.init = static_cast<nmf::Init>(9);
  test::expect_error(fit_with(bad), "options.init has an unknown value 9");
  bad = options;
  bad.svd_oversamples = -1;
  test::expect_error(fit_with(bad), "options.svd_oversamples must be >= 0, got -1");

  test::expect_error([&] { nmf::fit(ctx, nullptr, 8, 6, options, pr.u.data(), pr.w.data()); },
                     "nmf::fit: A is null");
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, nullptr, pr.w.data()); },
                     "nmf::fit: U is null");
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), nullptr); },
                     "nmf::fit: W is null");
  test::expect_error([&] { nmf::transform(ctx, pr.a.data(), 8, 6, nullptr, options, pr.u.data()); },
                     "nmf::transform: W is null");
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.u.data() + 4); },
                     "U and W overlap");
  test::expect_error([&] { nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.a.data(), pr.w.data()); },
                     "A and U overlap");
}

TEST(NmfErrors, FailedCallLeavesFactorsUntouched) {
  const Context ctx = Context::host();
  Problem pr;
  pr.a.back() = -3.0f;
  const std::vector<float> u0 = pr.u, w0 = pr.w;
  nmf::Options options;
  options.rank = 2;
  EXPECT_THROW(nmf::fit(ctx, pr.a.data(), 8, 6, options, pr.u.data(), pr.w.data()), Error);
  EXPECT_EQ(pr.u, u0);
  EXPECT_EQ(pr.w, w0);
}

}  // namespace
}  // namespace cuxplain
