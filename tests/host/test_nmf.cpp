// NMF on the host backend: planted factorizations, monotone loss, the
// multiplicative updates, coordinate descent and NNDSVD against plain
// double-precision code (tests/reference/nmf_reference.hpp), coordinate
// descent and transform (both solvers) against scikit-learn's float32 runs
// (tests/data/nmf_sklearn.txt), the stopping rules and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/detail/nmf.hpp>
#include <cuxplain/nmf.hpp>

#include "common/nmf_cases.hpp"
#include "common/nmf_sklearn_fixture.hpp"
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

// ---- coordinate descent against scikit-learn ----

/// max |actual - expected| / max |expected| (infinite when an entry is NaN);
/// a test failure when the sizes differ or expected is all zero.
double relative_deviation(const std::vector<float>& actual, const std::vector<float>& expected,
                          const std::string& what) {
  EXPECT_EQ(actual.size(), expected.size()) << what;
  double scale = 0.0, worst = 0.0;
  for (float v : expected) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  EXPECT_GT(scale, 0.0) << what;
  for (std::size_t e = 0; e < std::min(actual.size(), expected.size()); ++e) {
    const double d = std::fabs(static_cast<double>(actual[e]) - expected[e]);
    worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(worst, d);
  }
  return scale > 0.0 ? worst / scale : worst;
}

/// How far cuxplain's float32 run may be from scikit-learn's after k
/// iterations from the same start, relative to the largest entry. The
/// update arithmetic is the same; the GEMMs behind the Grams and A H^T are
/// another BLAS build, which may sum in another order. With Debian's
/// OpenBLAS on its SkylakeX kernels the factors here are bit-identical to
/// scikit-learn 1.9.1's (numpy's OpenBLAS); forced to its Prescott or
/// Haswell kernels they differ by up to 3.5e-7, 1.5e-6 and 7.6e-6 after
/// 1, 5 and 50 iterations.
double sklearn_tolerance(std::int64_t iterations) {
  return 2e-6 * std::sqrt(static_cast<double>(iterations));
}

std::vector<std::string> fit_case_names() {
  std::vector<std::string> names;
  for (const char* matrix : {"tall", "wide"})
    for (const char* penalty : {"plain", "l2", "mixed"})
      for (int k : {1, 5, 50})
        names.push_back(std::string("fit_") + matrix + "_" + penalty + "_it" + std::to_string(k));
  return names;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

/// fit from the case's start (U0, W0) with its options; the Result, and
/// the factors in u, w.
nmf::Result fit_case(const test::SklearnNmfCase& c, const nmf::Options& options,
                     std::vector<float>& u, std::vector<float>& w) {
  const std::vector<float> a = c.floats("A");
  u = c.floats("U0");
  w = c.floats("W0");
  nmf::Options custom = options;
  custom.init = nmf::Init::custom;
  return nmf::fit(Context::host(), a.data(), c.integer("n"), c.integer("p"), custom, u.data(),
                  w.data());
}

class NmfCdScikitLearn : public ::testing::TestWithParam<std::string> {};

TEST_P(NmfCdScikitLearn, FactorsFromTheSameStart) {
  const test::SklearnNmfCase& c = test::sklearn_nmf_case(GetParam());
  ASSERT_FALSE(c.name.empty());
  const nmf::Options options = c.options();
  ASSERT_EQ(options.solver, nmf::Solver::cd);
  ASSERT_EQ(options.tol, 0.0);
  std::vector<float> u, w;
  const nmf::Result result = fit_case(c, options, u, w);
  const std::int64_t k = c.integer("n_iter");
  EXPECT_EQ(result.iterations, k);
  EXPECT_FALSE(result.converged);  // tol 0 stops only on a zero violation, not reached here
  const std::vector<float> su = c.floats("U"), sw = c.floats("W");
  EXPECT_LE(relative_deviation(u, su, "U"), sklearn_tolerance(k));
  EXPECT_LE(relative_deviation(w, sw, "W"), sklearn_tolerance(k));
  // The start is far from the result: the comparison is not trivially met.
  EXPECT_GT(relative_deviation(c.floats("U0"), su, "U0"), 0.5);
  // Exact zeros are where scikit-learn's are (max(., 0) clips the same steps).
  for (std::size_t e = 0; e < su.size(); ++e) EXPECT_EQ(u[e] == 0.0f, su[e] == 0.0f) << "U " << e;
  for (std::size_t e = 0; e < sw.size(); ++e) EXPECT_EQ(w[e] == 0.0f, sw[e] == 0.0f) << "W " << e;
  // The reported loss is the objective of the returned factors.
  const std::int64_t n = c.integer("n"), p = c.integer("p");
  const ref::Matrix a = ref::to_double(c.floats("A"));
  double norm_a2 = 0.0;
  for (double v : a) norm_a2 += v * v;
  EXPECT_NEAR(result.loss,
              ref::objective(a, ref::to_double(u), ref::to_double(w), n, p, options.rank,
                             penalties_of(options)),
              1e-7 * norm_a2);
}

INSTANTIATE_TEST_SUITE_P(Cases, NmfCdScikitLearn, ::testing::ValuesIn(fit_case_names()), param_name);

class NmfCdScikitLearnStop : public ::testing::TestWithParam<std::string> {};

TEST_P(NmfCdScikitLearnStop, StopsAtScikitLearnsIteration) {
  // tol lies between the violation ratio of the stop and every earlier one,
  // at least 2.5% from each (make_nmf_cd_fixtures.py checks it).
  const test::SklearnNmfCase& c = test::sklearn_nmf_case(GetParam());
  ASSERT_FALSE(c.name.empty());
  const std::int64_t k = c.integer("n_iter");
  const std::vector<double> ratios = c.doubles("ratios");
  ASSERT_EQ(ratios.size(), static_cast<std::size_t>(k + 1));
  const nmf::Options options = c.options();
  ASSERT_GT(options.tol, 0.0);
  for (std::int64_t j = 0; j + 1 < k; ++j) ASSERT_GT(ratios[j], options.tol);
  ASSERT_LE(ratios[k - 1], options.tol);
  // check_every does not change cd's test (every iteration, scikit-learn's).
  for (std::int64_t every : {10, 1, 7}) {
    nmf::Options o = options;
    o.check_every = every;
    std::vector<float> u, w;
    const nmf::Result result = fit_case(c, o, u, w);
    EXPECT_EQ(result.iterations, k) << "check_every " << every;
    EXPECT_TRUE(result.converged);
    EXPECT_LE(relative_deviation(u, c.floats("U"), "U"), sklearn_tolerance(k));
    EXPECT_LE(relative_deviation(w, c.floats("W"), "W"), sklearn_tolerance(k));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, NmfCdScikitLearnStop, ::testing::Values("stop_tall", "stop_wide"),
                         param_name);

class NmfTransformScikitLearn : public ::testing::TestWithParam<std::string> {};

TEST_P(NmfTransformScikitLearn, MatchesTransformOfTheFittedModel) {
  // scikit-learn fitted a model with alpha_W, l1_ratio, max_iter and tol,
  // then transformed another matrix with its components_ (W) from its own
  // start: transform with the same Options and the default init.
  const test::SklearnNmfCase& c = test::sklearn_nmf_case(GetParam());
  ASSERT_FALSE(c.name.empty());
  const std::int64_t n = c.integer("n"), p = c.integer("p");
  const nmf::Options options = c.options();
  ASSERT_GT(options.tol, 0.0);
  const std::vector<float> a = c.floats("A"), w = c.floats("W"), expected = c.floats("U");
  std::vector<float> u(expected.size(), test::poison());
  const nmf::Result result =
      nmf::transform(Context::host(), a.data(), n, p, w.data(), options, u.data());
  EXPECT_EQ(result.iterations, c.integer("n_iter"));
  EXPECT_TRUE(result.converged);
  EXPECT_GT(test::l2_norm(u), 0.0);
  EXPECT_LE(relative_deviation(u, expected, "U"), sklearn_tolerance(result.iterations));
}

INSTANTIATE_TEST_SUITE_P(Cases, NmfTransformScikitLearn,
                         ::testing::Values("transform_mu_plain", "transform_mu_l2",
                                           "transform_mu_mixed", "transform_cd_plain",
                                           "transform_cd_l2", "transform_cd_mixed"),
                         param_name);

// ---- coordinate descent against the plain reference ----

struct CdCase {
  int iterations;
  bool penalties;
};

class NmfCdUpdates : public ::testing::TestWithParam<CdCase> {};

TEST_P(NmfCdUpdates, MatchPlainReferenceFromTheSameStart) {
  const CdCase param = GetParam();
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(40, 30, 4, 0.1, 21);
  const std::int64_t r = 4;
  nmf::Options options;
  options.rank = r;
  options.solver = nmf::Solver::cd;
  options.init = nmf::Init::custom;
  options.tol = 0.0;
  options.max_iter = param.iterations;
  options.loss_history = true;
  if (param.penalties) options.l1_u = 0.1f, options.l2_u = 0.4f, options.l1_w = 0.05f, options.l2_w = 0.2f;
  Factors f{test::random_uniform(static_cast<std::size_t>(problem.n * r), 5, 0.1f, 1.0f),
            test::random_uniform(static_cast<std::size_t>(r * problem.p), 6, 0.1f, 1.0f)};
  f.u[7] = 0.0f;
  f.w[3] = 0.0f;
  ref::Matrix u = ref::to_double(f.u), w = ref::to_double(f.w);
  std::vector<double> history;
  ref::cd_run(ref::to_double(problem.a), u, w, problem.n, problem.p, r, param.iterations,
              penalties_of(options), &history);

  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  EXPECT_EQ(result.iterations, param.iterations);
  expect_close(f.u, u, 2e-5 * param.iterations, "U");
  expect_close(f.w, w, 2e-5 * param.iterations, "W");
  ASSERT_EQ(result.loss_history.size(), history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_NEAR(result.loss_history[k], history[k], 1e-5 * history[0]) << "iteration " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(IterationsAndPenalties, NmfCdUpdates,
                         ::testing::Values(CdCase{1, false}, CdCase{1, true}, CdCase{5, false},
                                           CdCase{20, true}));

class NmfCdLoss : public ::testing::TestWithParam<int> {};

TEST_P(NmfCdLoss, NeverIncreasesAcrossIterations) {
  // Each coordinate step minimizes the objective exactly in its coordinate.
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(90, 70, 5, 0.1, 11);
  nmf::Options options;
  options.rank = 5;
  options.solver = nmf::Solver::cd;
  options.init = GetParam() == 0 ? nmf::Init::nndsvda : nmf::Init::random;
  options.seed = 4;
  options.tol = 0.0;
  options.max_iter = 150;
  options.loss_history = true;
  if (GetParam() == 2) {
    options.l1_u = 0.05f, options.l2_u = 0.5f, options.l1_w = 0.02f, options.l2_w = 0.3f;
  }
  Factors f = poisoned_factors(problem, options.rank);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  ASSERT_EQ(result.loss_history.size(), 151u);
  EXPECT_EQ(result.loss_history.back(), result.loss);
  double norm_a2 = 0.0;
  for (float v : problem.a) norm_a2 += static_cast<double>(v) * v;
  // As for mu: the Gram-form loss carries the float GEMMs' rounding.
  for (std::size_t k = 1; k < result.loss_history.size(); ++k) {
    EXPECT_LE(result.loss_history[k], result.loss_history[k - 1] + 1e-7 * norm_a2) << "iteration " << k;
  }
  EXPECT_LT(result.loss_history.back(), 0.5 * result.loss_history.front());
  EXPECT_NEAR(result.loss, ref::objective(ref::to_double(problem.a), ref::to_double(f.u),
                                          ref::to_double(f.w), problem.n, problem.p, options.rank,
                                          penalties_of(options)),
              1e-7 * norm_a2);
  for (float v : f.u) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
  for (float v : f.w) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(InitsAndPenalties, NmfCdLoss, ::testing::Values(0, 1, 2));

TEST(NmfCdPlanted, ReachesTheNoiseLevelInFewerIterationsThanMu) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(100, 80, 4, 0.05, 3);
  const auto iterations_to = [&](nmf::Solver solver, double target, nmf::Result& result) {
    nmf::Options options;
    options.rank = 4;
    options.solver = solver;
    options.tol = 0.0;
    options.max_iter = 1000;
    options.loss_history = true;
    Factors f = poisoned_factors(problem, 4);
    result = nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
    double norm_a2 = 0.0;
    for (float v : problem.a) norm_a2 += static_cast<double>(v) * v;
    for (std::size_t k = 0; k < result.loss_history.size(); ++k) {
      if (std::sqrt(2.0 * result.loss_history[k] / norm_a2) <= target) return static_cast<std::int64_t>(k);
    }
    return std::int64_t{-1};
  };
  const double target = 1.02 * problem.noise_level;
  nmf::Result cd, mu;
  const std::int64_t k_cd = iterations_to(nmf::Solver::cd, target, cd);
  const std::int64_t k_mu = iterations_to(nmf::Solver::mu, target, mu);
  ASSERT_GT(k_cd, 0);
  ASSERT_GT(k_mu, 0);
  EXPECT_LT(2 * k_cd, k_mu) << "cd " << k_cd << ", mu " << k_mu;
  // Both end at the noise level (a rank-r fit absorbs a little noise).
  EXPECT_LE(cd.relative_error, problem.noise_level);
  EXPECT_GE(cd.relative_error, 0.9 * problem.noise_level);
}

TEST(NmfCdStopping, ViolationRatioOfThePlainReference) {
  // The iteration fit stops at is the first whose violation ratio, replayed
  // in double by the reference from the same start, is <= tol.
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(50, 35, 4, 0.05, 23);
  const std::int64_t r = 4;
  const std::vector<float> u0 = test::random_uniform(static_cast<std::size_t>(problem.n * r), 15, 0.1f, 1.0f);
  const std::vector<float> w0 = test::random_uniform(static_cast<std::size_t>(r * problem.p), 16, 0.1f, 1.0f);
  ref::Matrix ru = ref::to_double(u0), rw = ref::to_double(w0);
  std::vector<double> violations;
  ref::cd_run(ref::to_double(problem.a), ru, rw, problem.n, problem.p, r, 300, {}, nullptr, &violations);
  for (double tol : {1e-1, 1e-2, 1e-3}) {
    nmf::Options options;
    options.rank = r;
    options.solver = nmf::Solver::cd;
    options.init = nmf::Init::custom;
    options.tol = tol;
    options.max_iter = 300;
    Factors f{u0, w0};
    const nmf::Result result =
        nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
    ASSERT_TRUE(result.converged) << tol;
    const std::int64_t k = result.iterations;
    ASSERT_GE(k, 2);  // the ratio is 1 at iteration 1
    // float against double: the ratios agree to ~1e-6; none is that close to tol here.
    EXPECT_LE(violations[k - 1] / violations[0], tol) << "tol " << tol << " stop " << k;
    for (std::int64_t j = 0; j + 1 < k; ++j) {
      EXPECT_GT(violations[j] / violations[0], tol) << "tol " << tol << " iteration " << j + 1;
    }
  }
}

TEST(NmfCdStopping, ZeroTolRunsMaxIter) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(30, 20, 2, 0.05, 2);
  nmf::Options options;
  options.rank = 2;
  options.solver = nmf::Solver::cd;
  options.tol = 0.0;
  options.max_iter = 37;
  Factors f = poisoned_factors(problem, 2);
  const nmf::Result result =
      nmf::fit(ctx, problem.a.data(), problem.n, problem.p, options, f.u.data(), f.w.data());
  EXPECT_EQ(result.iterations, 37);
  EXPECT_FALSE(result.converged);
  EXPECT_GT(result.relative_error, 0.0);
  EXPECT_GT(test::l2_norm(f.u), 0.0);
  EXPECT_GT(test::l2_norm(f.w), 0.0);
}

TEST(NmfCdStopping, ZeroMatrixStopsAtTheFirstIteration) {
  // Zero factors of a zero A: every gradient and curvature is 0, so the
  // first violation is 0 and scikit-learn's rule stops at once.
  const Context ctx = Context::host();
  const std::vector<float> a(12 * 9, 0.0f);
  nmf::Options options;
  options.rank = 3;
  options.solver = nmf::Solver::cd;
  std::vector<float> u(12 * 3, test::poison()), w(3 * 9, test::poison());
  const nmf::Result result = nmf::fit(ctx, a.data(), 12, 9, options, u.data(), w.data());
  EXPECT_EQ(result.iterations, 1);
  EXPECT_TRUE(result.converged);
  EXPECT_EQ(result.relative_error, 0.0);
  for (float v : u) EXPECT_EQ(v, 0.0f);
  for (float v : w) EXPECT_EQ(v, 0.0f);
}

TEST(NmfCdTransform, StartsAtZerosAndMatchesReferenceSweeps) {
  const Context ctx = Context::host();
  const test::PlantedNmf problem = test::planted_nmf(40, 30, 3, 0.1, 19);
  const std::vector<float> w = test::random_uniform(3 * 30, 8, 0.0f, 1.0f);
  nmf::Options options;
  options.rank = 3;
  options.solver = nmf::Solver::cd;
  options.tol = 0.0;
  options.max_iter = 10;
  options.l1_u = 0.2f, options.l2_u = 0.5f;
  options.l1_w = 100.0f;  // W is fixed: its penalty plays no part
  options.loss_history = true;
  std::vector<float> u(40 * 3, test::poison());
  const nmf::Result result = nmf::transform(ctx, problem.a.data(), 40, 30, w.data(), options, u.data());

  const ref::Matrix a = ref::to_double(problem.a), rw = ref::to_double(w);
  ref::Matrix ru(40 * 3, 0.0);
  const ref::Penalties pen{0.2, 0.5, 0.0, 0.0};
  std::vector<double> history{ref::objective(a, ru, rw, 40, 30, 3, pen, false)};
  for (int it = 0; it < 10; ++it) {
    ref::cd_update_u(a, ru, rw, 40, 30, 3, pen.l1_u, pen.l2_u);
    history.push_back(ref::objective(a, ru, rw, 40, 30, 3, pen, false));
  }
  EXPECT_EQ(result.iterations, 10);
  expect_close(u, ru, 1e-5, "U");
  ASSERT_EQ(result.loss_history.size(), history.size());
  for (std::size_t k = 0; k < history.size(); ++k) {
    EXPECT_NEAR(result.loss_history[k], history[k], 1e-5 * history[0]) << k;
  }
  // Init::custom starts from U's content: one more sweep continues the sequence.
  options.init = nmf::Init::custom;
  options.max_iter = 1;
  options.loss_history = false;
  nmf::transform(ctx, problem.a.data(), 40, 30, w.data(), options, u.data());
  ref::cd_update_u(a, ru, rw, 40, 30, 3, pen.l1_u, pen.l2_u);
  expect_close(u, ru, 1e-5, "U after one more");
}

// ---- the host's blocked sweep against the per-row walk CUDA runs ----

/// Entries k / 4, k in [0, 8]: every GEMM of the tests below is exact in
/// float (at most 150 products of multiples of 1/16, below 2^24 / 16), so
/// any summation order gives the same Grams and cross products.
std::vector<float> quarters(std::size_t count, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> k(0, 8);
  std::vector<float> out(count);
  for (float& v : out) v = 0.25f * static_cast<float>(k(gen));
  return out;
}

/// C = x y^T (rows_x x rows_y) of row-major x (rows_x x k) and y (rows_y x k), in double.
std::vector<float> exact_cross(const std::vector<float>& x, const std::vector<float>& y,
                               std::int64_t rows_x, std::int64_t rows_y, std::int64_t k) {
  std::vector<float> c(static_cast<std::size_t>(rows_x * rows_y));
  for (std::int64_t i = 0; i < rows_x; ++i)
    for (std::int64_t j = 0; j < rows_y; ++j) {
      double sum = 0.0;
      for (std::int64_t l = 0; l < k; ++l) sum += static_cast<double>(x[i * k + l]) * y[j * k + l];
      c[i * rows_y + j] = static_cast<float>(sum);
    }
  return c;
}

TEST(NmfCdSweep, HostBlocksEqualTheRowWalkBitForBit) {
  // The host walks 64 rows at a time component by component; CUDA walks one
  // row per thread with detail::nmf_cd_row. On exact GEMMs both must give
  // the same bits: U's sweep (rows of stride r) through transform, W's
  // (columns of stride p) through one fit iteration whose U sweep changes
  // nothing (W = 0 and l2_u = 0: zero curvature). 150 and 133 rows: two
  // full blocks and a partial one.
  const Context ctx = Context::host();
  const std::int64_t n = 150, p = 133, r = 5;
  const std::vector<float> a = quarters(static_cast<std::size_t>(n * p), 1);
  const std::vector<float> u0 = quarters(static_cast<std::size_t>(n * r), 2);
  const std::vector<float> w0 = quarters(static_cast<std::size_t>(r * p), 3);
  const auto transpose = [](const std::vector<float>& x, std::int64_t rows, std::int64_t cols) {
    std::vector<float> t(x.size());
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t j = 0; j < cols; ++j) t[j * rows + i] = x[i * cols + j];
    return t;
  };
  const float l1 = 0.25f, l2 = 0.5f;

  {  // U's sweep: transform from U0 (custom), one iteration.
    nmf::Options options;
    options.rank = r;
    options.solver = nmf::Solver::cd;
    options.init = nmf::Init::custom;
    options.tol = 0.0;
    options.max_iter = 1;
    options.l1_u = l1, options.l2_u = l2;
    std::vector<float> u = u0;
    nmf::transform(ctx, a.data(), n, p, w0.data(), options, u.data());
    const std::vector<float> cross = exact_cross(a, w0, n, r, p);   // A W^T
    const std::vector<float> gram = exact_cross(w0, w0, r, r, p);   // W W^T
    std::vector<float> expected = u0;
    for (std::int64_t i = 0; i < n; ++i) {
      detail::nmf_cd_row(expected.data() + i * r, 1, cross.data() + i * r, gram.data(), r, l1, l2);
    }
    EXPECT_NE(expected, u0);
    EXPECT_EQ(u, expected);
  }
  {  // W's sweep: W = 0 and l2_u = 0 leave U's sweep without curvature.
    nmf::Options options;
    options.rank = r;
    options.solver = nmf::Solver::cd;
    options.init = nmf::Init::custom;
    options.tol = 0.0;
    options.max_iter = 1;
    options.l1_u = l1;
    options.l1_w = l1, options.l2_w = l2;
    std::vector<float> u = u0, w(static_cast<std::size_t>(r * p), 0.0f);
    nmf::fit(ctx, a.data(), n, p, options, u.data(), w.data());
    EXPECT_EQ(u, u0);
    const std::vector<float> ut = transpose(u0, n, r), at = transpose(a, n, p);
    const std::vector<float> cross = exact_cross(ut, at, r, p, n);  // U^T A, r x p
    const std::vector<float> gram = exact_cross(ut, ut, r, r, n);   // U^T U
    std::vector<float> expected(static_cast<std::size_t>(r * p), 0.0f);
    for (std::int64_t j = 0; j < p; ++j) {
      detail::nmf_cd_row(expected.data() + j, p, cross.data() + j, gram.data(), r, l1, l2);
    }
    EXPECT_GT(test::l2_norm(expected), 0.0);
    EXPECT_EQ(w, expected);
  }
}

TEST(NmfSolver, NamesRoundTrip) {
  for (nmf::Solver solver : {nmf::Solver::mu, nmf::Solver::cd}) {
    EXPECT_EQ(nmf::parse_solver(nmf::to_string(solver)), solver);
  }
  EXPECT_STREQ(nmf::to_string(nmf::Solver::mu), "mu");
  EXPECT_STREQ(nmf::to_string(nmf::Solver::cd), "cd");
  test::expect_error([] { nmf::parse_solver("hals"); }, "unknown solver \"hals\" (expected mu or cd)");
  test::expect_error([] { nmf::parse_solver(""); }, "unknown solver \"\"");
  test::expect_error([] { nmf::parse_solver("CD"); }, "unknown solver \"CD\"");
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
  bad.solver = static_cast<nmf::Solver>(7);
  test::expect_error(fit_with(bad), "nmf::fit: options.solver has an unknown value 7");
  test::expect_error([&] { nmf::transform(ctx, pr.a.data(), 8, 6, pr.w.data(), bad, pr.u.data()); },
                     "nmf::transform: options.solver has an unknown value 7");
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
