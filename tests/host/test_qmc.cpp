// Samplers on the host backend: Sobol and Halton against scipy fixtures
// (tests/data/make_qmc_fixtures.py), the net and stratification properties of
// the scrambled Sobol and Latin hypercube sets, Monte Carlo moments, skip
// consistency and argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/detail/qmc.hpp>
#include <cuxplain/qmc.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

constexpr std::int64_t kTwoPow32 = std::int64_t{1} << 32;

/// Points of a sampler on the host backend, written over NaN poison; asserts
/// every value was written and lies in [0, 1).
std::vector<float> samples(Sampler sampler, std::int64_t n, std::int64_t dims,
                           std::int64_t skip = 0, std::uint64_t seed = 0) {
  const Context ctx = Context::host();
  std::vector<float> out(static_cast<std::size_t>(n * dims), test::poison());
  generate_samples(ctx, sampler, n, dims, out.data(), skip, seed);
  std::int64_t outside = 0;
  for (float v : out) outside += (v >= 0.0f && v < 1.0f) ? 0 : 1;  // NaN fails both
  EXPECT_EQ(outside, 0) << to_string(sampler) << ": values unwritten or outside [0, 1)";
  return out;
}

/// A fixture file from tests/data (format in make_qmc_fixtures.py).
struct Fixture {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> columns;
  int scale_bits = -1;  // -1: decimal values
  std::vector<double> values;       // rows x cols, decimal fixtures
  std::vector<std::uint64_t> ints;  // rows x cols, value * 2^scale_bits

  std::uint64_t integer(std::int64_t row, std::int64_t col) const {
    return ints[static_cast<std::size_t>(row * cols + col)];
  }
  double value(std::int64_t row, std::int64_t col) const {
    return values[static_cast<std::size_t>(row * cols + col)];
  }
  /// Largest stored dimension + 1: the dims to generate.
  std::int64_t dims() const { return columns.back() + 1; }
};

Fixture load_fixture(const std::string& name) {
  const std::string path = std::string(CUXPLAIN_TEST_DATA_DIR) + "/" + name;
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream body;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line[0] != '#') body << line << '\n';
  }
  Fixture f;
  std::string word;
  body >> f.rows >> f.cols >> word;  // "columns:"
  f.columns.resize(static_cast<std::size_t>(f.cols));
  for (auto& c : f.columns) body >> c;
  body >> word >> word;  // "scale:" B | float
  const std::size_t count = static_cast<std::size_t>(f.rows * f.cols);
  if (word == "float") {
    f.values.resize(count);
    for (auto& v : f.values) body >> v;
  } else {
    f.scale_bits = std::stoi(word);
    f.ints.resize(count);
    for (auto& v : f.ints) body >> v;
  }
  EXPECT_FALSE(body.fail()) << "malformed fixture " << path;
  return f;
}

/// The float a Sobol value k / 2^B becomes: its 32-bit fraction truncated to 24 bits.
float sobol_float(std::uint64_t k, int scale_bits) {
  const std::uint64_t fraction32 =
      scale_bits <= 32 ? k << (32 - scale_bits) : k >> (scale_bits - 32);
  return static_cast<float>(fraction32 >> 8) * std::ldexp(1.0f, -24);
}

/// Sobol points [skip, skip + n) against fixture rows [row0, row0 + n), exactly.
void expect_sobol_matches(const Fixture& f, std::int64_t row0, std::int64_t n, std::int64_t skip) {
  const std::int64_t dims = f.dims();
  const std::vector<float> x = samples(Sampler::sobol, n, dims, skip);
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < f.cols; ++c) {
      const float expected = sobol_float(f.integer(row0 + i, c), f.scale_bits);
      const float got = x[static_cast<std::size_t>(i * dims + f.columns[c])];
      if (got != expected && ++mismatches <= 5) {
        ADD_FAILURE() << "point " << skip + i << " dim " << f.columns[c] << ": got " << got
                      << ", scipy " << expected;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

void expect_halton_matches(const Fixture& f, std::int64_t row0, std::int64_t n, std::int64_t skip) {
  const std::int64_t dims = f.dims();
  const std::vector<float> x = samples(Sampler::halton, n, dims, skip);
  double worst = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < f.cols; ++c) {
      const double got = x[static_cast<std::size_t>(i * dims + f.columns[c])];
      worst = std::max(worst, std::abs(got - f.value(row0 + i, c)));
    }
  }
  EXPECT_LE(worst, 2e-7);
}

/// Every dimension puts exactly one of its n points in each [k/n, (k+1)/n).
/// f * n is exact in double for n <= 2^24.
void expect_one_point_per_stratum(const std::vector<float>& x, std::int64_t n, std::int64_t dims,
                                  const std::string& what) {
  std::vector<std::int64_t> seen(static_cast<std::size_t>(n));
  std::int64_t bad_dims = 0;
  for (std::int64_t d = 0; d < dims; ++d) {
    std::fill(seen.begin(), seen.end(), -1);
    bool ok = true;
    for (std::int64_t i = 0; i < n && ok; ++i) {
      const double v = x[static_cast<std::size_t>(i * dims + d)];
      const auto k = static_cast<std::int64_t>(std::floor(v * static_cast<double>(n)));
      ok = k >= 0 && k < n && seen[static_cast<std::size_t>(k)] < 0;
      if (ok) seen[static_cast<std::size_t>(k)] = i;
    }
    if (!ok && ++bad_dims <= 3) {
      ADD_FAILURE() << what << ": dimension " << d << " is not stratified";
    }
  }
  EXPECT_EQ(bad_dims, 0) << what;
}

std::int64_t count_different(const std::vector<float>& a, const std::vector<float>& b) {
  std::int64_t different = 0;
  for (std::size_t i = 0; i < a.size(); ++i) different += a[i] != b[i] ? 1 : 0;
  return different;
}

// ---------------------------------------------------------------------------
// Sobol against scipy

TEST(QmcSobol, MatchesScipyFirst1024PointsIn8Dims) {
  const Fixture f = load_fixture("qmc_sobol_d8_n1025.txt");
  expect_sobol_matches(f, 0, 1024, 0);
}

TEST(QmcSobol, SkipOneMatchesScipyFromTheSecondPoint) {
  const Fixture f = load_fixture("qmc_sobol_d8_n1025.txt");
  expect_sobol_matches(f, 1, 1024, 1);
}

TEST(QmcSobol, MatchesScipyAfterSkippingAMillionPoints) {
  const Fixture f = load_fixture("qmc_sobol_d8_skip1000003.txt");
  expect_sobol_matches(f, 0, f.rows, 1000003);
}

TEST(QmcSobol, MatchesScipyTruncatedTo24BitsJustBelow2Pow30) {
  const Fixture f = load_fixture("qmc_sobol_d4_skip2p30m16.txt");
  expect_sobol_matches(f, 0, f.rows, (std::int64_t{1} << 30) - 16);
}

TEST(QmcSobol, ThirtyTwoBitDirectionsBeyond2Pow30) {
  const Fixture f = load_fixture("qmc_sobol_d8_beyond_2p30.txt");
  expect_sobol_matches(f, 0, f.rows, 3 * (std::int64_t{1} << 30) + 12345);
}

TEST(QmcSobol, MatchesScipyIn4096Dims) {
  const Fixture f = load_fixture("qmc_sobol_d4096_n64.txt");
  ASSERT_EQ(f.dims(), 4096);
  expect_sobol_matches(f, 0, 64, 0);
}

TEST(QmcSobol, MatchesScipyInAll21201Dims) {
  const Fixture f = load_fixture("qmc_sobol_d21201_n64.txt");
  ASSERT_EQ(f.dims(), kSobolMaxDimensions);
  expect_sobol_matches(f, 0, 64, 0);
}

TEST(QmcSobol, FirstPointIsTheOriginAndEveryDimensionIsANet) {
  const std::int64_t n = 256;
  const std::vector<float> x = samples(Sampler::sobol, n, kSobolMaxDimensions);
  for (std::int64_t d = 0; d < kSobolMaxDimensions; ++d) ASSERT_EQ(x[d], 0.0f) << d;
  expect_one_point_per_stratum(x, n, kSobolMaxDimensions, "sobol n=256");
}

// ---------------------------------------------------------------------------
// Owen-scrambled Sobol

TEST(QmcSobolOwen, EveryDimensionIsA0m1Net) {
  struct Case {
    int m;
    std::int64_t dims;
  };
  for (const Case c : {Case{8, kSobolMaxDimensions}, Case{12, 300}, Case{16, 6}, Case{1, 64}}) {
    const std::int64_t n = std::int64_t{1} << c.m;
    for (const std::uint64_t seed : {0ull, 1ull, 12345678901234567ull}) {
      const std::string what = "m=" + std::to_string(c.m) + " seed=" + std::to_string(seed);
      expect_one_point_per_stratum(samples(Sampler::sobol_owen, n, c.dims, 0, seed), n, c.dims,
                                   what);
      // Any aligned block of 2^m points is a net too.
      expect_one_point_per_stratum(samples(Sampler::sobol_owen, n, c.dims, 5 * n, seed), n,
                                   c.dims, what + " skip=5n");
    }
  }
}

TEST(QmcSobolOwen, SeedsGiveDifferentScramblesDeterministically) {
  const std::int64_t n = 1024, dims = 64;
  const std::vector<float> plain = samples(Sampler::sobol, n, dims);
  const std::vector<float> a = samples(Sampler::sobol_owen, n, dims, 0, 1);
  const std::vector<float> a_again = samples(Sampler::sobol_owen, n, dims, 0, 1);
  const std::vector<float> b = samples(Sampler::sobol_owen, n, dims, 0, 2);
  EXPECT_EQ(count_different(a, a_again), 0);
  const auto total = static_cast<std::int64_t>(a.size());
  EXPECT_GT(count_different(a, b), total * 99 / 100);
  EXPECT_GT(count_different(a, plain), total * 99 / 100);
  // Dimensions are scrambled independently: no two columns coincide.
  const std::size_t middle_row = static_cast<std::size_t>(n / 2 * dims);
  for (std::int64_t d = 1; d < dims; ++d) {
    EXPECT_NE(a[middle_row + static_cast<std::size_t>(d)], a[middle_row]) << d;
  }
}

TEST(QmcSobolOwen, ScrambledMeanIsNearOneHalf) {
  // Owen-scrambled nets are unbiased with variance far below Monte Carlo's.
  const std::int64_t n = 4096, dims = 16;
  const std::vector<float> x = samples(Sampler::sobol_owen, n, dims, 0, 7);
  for (std::int64_t d = 0; d < dims; ++d) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < n; ++i) sum += x[static_cast<std::size_t>(i * dims + d)];
    EXPECT_NEAR(sum / static_cast<double>(n), 0.5, 1.0 / static_cast<double>(n)) << d;
  }
}

// ---------------------------------------------------------------------------
// Halton against scipy

TEST(QmcHalton, MatchesScipyFromTheOrigin) {
  const Fixture f = load_fixture("qmc_halton_d8_n260.txt");
  expect_halton_matches(f, 0, 256, 0);
  EXPECT_EQ(samples(Sampler::halton, 1, 8)[7], 0.0f);
}

TEST(QmcHalton, MatchesScipyWithSkip) {
  const Fixture f = load_fixture("qmc_halton_d8_n260.txt");
  expect_halton_matches(f, 3, 257, 3);
}

TEST(QmcHalton, MatchesScipyAfterSkippingABillionPoints) {
  const Fixture f = load_fixture("qmc_halton_d8_skip1000000007.txt");
  expect_halton_matches(f, 0, f.rows, 1000000007);
}

TEST(QmcHalton, MatchesScipyInAll21201Dims) {
  const Fixture f = load_fixture("qmc_halton_d21201_n16.txt");
  ASSERT_EQ(f.dims(), kHaltonMaxDimensions);
  expect_halton_matches(f, 0, f.rows, 0);
}

TEST(QmcHalton, LastIndexStaysBelowOne) {
  // Base 2 at index 2^32 - 1 is 1 - 2^-32, which rounds to 1.0f unless capped.
  const std::vector<float> x = samples(Sampler::halton, 1, 2, kTwoPow32 - 1);
  EXPECT_LT(x[0], 1.0f);
  EXPECT_GT(x[0], 0.9999999f);
}

// ---------------------------------------------------------------------------
// Latin hypercube

TEST(QmcLatinHypercube, OnePointPerStratumInEveryDimension) {
  for (const std::int64_t n : {1, 2, 7, 100, 1000, 1024, 4099}) {
    for (const std::uint64_t seed : {0ull, 42ull}) {
      const std::int64_t dims = 9;
      expect_one_point_per_stratum(samples(Sampler::lhs, n, dims, 0, seed), n, dims,
                                   "lhs n=" + std::to_string(n) + " seed=" + std::to_string(seed));
    }
  }
}

TEST(QmcLatinHypercube, LargeNStaysStratifiedAfterFloatRounding) {
  // Strata of width ~2^-21 where float ulps are 2^-24 near 1: rounding moves
  // values across stratum edges unless corrected.
  const std::int64_t n = (std::int64_t{1} << 21) + 3;
  expect_one_point_per_stratum(samples(Sampler::lhs, n, 1, 0, 3), n, 1, "lhs n=2^21+3");
  const std::int64_t n_max = std::int64_t{1} << 24;
  expect_one_point_per_stratum(samples(Sampler::lhs, n_max, 1, 0, 4), n_max, 1, "lhs n=2^24");
}

TEST(QmcLatinHypercube, SeedChangesTheDesignAndSkipIsIgnored) {
  const std::int64_t n = 500, dims = 8;
  const std::vector<float> a = samples(Sampler::lhs, n, dims, 0, 1);
  EXPECT_EQ(count_different(a, samples(Sampler::lhs, n, dims, 0, 1)), 0);
  EXPECT_EQ(count_different(a, samples(Sampler::lhs, n, dims, 17, 1)), 0);
  EXPECT_GT(count_different(a, samples(Sampler::lhs, n, dims, 0, 2)),
            static_cast<std::int64_t>(a.size()) * 99 / 100);
}

TEST(QmcLatinHypercube, DimensionsArePermutedIndependently) {
  // Identical permutations in two dimensions would put the points on a diagonal.
  const std::int64_t n = 1000, dims = 4;
  const std::vector<float> x = samples(Sampler::lhs, n, dims, 0, 9);
  for (std::int64_t d = 1; d < dims; ++d) {
    std::int64_t same_stratum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto s0 = static_cast<std::int64_t>(x[static_cast<std::size_t>(i * dims)] * n);
      const auto sd = static_cast<std::int64_t>(x[static_cast<std::size_t>(i * dims + d)] * n);
      same_stratum += s0 == sd ? 1 : 0;
    }
    EXPECT_LT(same_stratum, 10) << d;
  }
}

// ---------------------------------------------------------------------------
// Monte Carlo

TEST(QmcMonteCarlo, MomentsOfUniforms) {
  const std::int64_t n = 1 << 16, dims = 4;
  const std::vector<float> x = samples(Sampler::monte_carlo, n, dims, 0, 2024);
  for (std::int64_t d = 0; d < dims; ++d) {
    double sum = 0.0, sum_sq = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double v = x[static_cast<std::size_t>(i * dims + d)];
      sum += v;
      sum_sq += v * v;
    }
    const double mean = sum / n;
    const double variance = sum_sq / n - mean * mean;
    // 5 standard errors: sd(mean) = sqrt(1/12 / n), sd(variance) = sqrt(1/180 / n).
    EXPECT_NEAR(mean, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n)) << d;
    EXPECT_NEAR(variance, 1.0 / 12.0, 5.0 * std::sqrt(1.0 / 180.0 / n)) << d;
  }
}

TEST(QmcMonteCarlo, SeedDeterminesTheStream) {
  const std::int64_t n = 1000, dims = 3;
  const std::vector<float> a = samples(Sampler::monte_carlo, n, dims, 0, 5);
  EXPECT_EQ(count_different(a, samples(Sampler::monte_carlo, n, dims, 0, 5)), 0);
  EXPECT_GT(count_different(a, samples(Sampler::monte_carlo, n, dims, 0, 6)),
            static_cast<std::int64_t>(a.size()) * 99 / 100);
  EXPECT_GT(test::l2_norm(a), 0.0);
}

// ---------------------------------------------------------------------------
// All sequences: skip continues the same sequence

TEST(QmcSamplers, SkipContinuesTheSequence) {
  const std::int64_t n = 300, dims = 5, skip = 37;
  for (const Sampler sampler :
       {Sampler::sobol, Sampler::sobol_owen, Sampler::halton, Sampler::monte_carlo}) {
    const std::vector<float> whole = samples(sampler, skip + n, dims, 0, 11);
    const std::vector<float> tail = samples(sampler, n, dims, skip, 11);
    const std::vector<float> expected(whole.begin() + skip * dims, whole.end());
    EXPECT_EQ(count_different(tail, expected), 0) << to_string(sampler);
  }
}

TEST(QmcSamplers, GridStrideCursorTracksRowAndColumn) {
  // The CUDA kernels' walk over the n x dims output, for strides below, equal
  // to and above the row length (a grid smaller or larger than a row).
  for (const std::int64_t cols : {1, 3, 7, 64}) {
    for (const std::int64_t stride : {1, 2, 5, 7, 64, 130}) {
      for (std::int64_t start = 0; start < stride; ++start) {
        for (detail::RowMajorCursor at(start, stride, cols); at.index < 1000; at.advance()) {
          ASSERT_EQ(at.row, at.index / cols) << cols << " " << stride << " " << start;
          ASSERT_EQ(at.col, at.index % cols) << cols << " " << stride << " " << start;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Argument checks

void expect_error_naming(const std::string& argument, Sampler sampler, std::int64_t n,
                         std::int64_t dims, float* out, std::int64_t skip = 0) {
  SCOPED_TRACE(::testing::Message() << to_string(sampler) << ", n=" << n << ", dims=" << dims
                                    << ", skip=" << skip);
  test::expect_error([&] { generate_samples(Context::host(), sampler, n, dims, out, skip, 0); },
                     argument);
}

TEST(QmcSamplers, BadArgumentsThrowNamingTheArgument) {
  std::vector<float> out(64, test::poison());
  float* p = out.data();
  for (const Sampler sampler : {Sampler::sobol, Sampler::sobol_owen, Sampler::halton,
                                Sampler::lhs, Sampler::monte_carlo}) {
    expect_error_naming("n must be >= 1", sampler, 0, 2, p);
    expect_error_naming("n must be >= 1", sampler, -5, 2, p);
    expect_error_naming("dims must be >= 1", sampler, 4, 0, p);
    expect_error_naming("skip must be >= 0", sampler, 4, 2, p, -1);
    expect_error_naming("out is null", sampler, 4, 2, nullptr);
    expect_error_naming("n * dims overflows", sampler, std::int64_t{1} << 62, 4, p);
  }
  expect_error_naming("dims = 21202", Sampler::sobol, 4, kSobolMaxDimensions + 1, p);
  expect_error_naming("dims = 21202", Sampler::sobol_owen, 4, kSobolMaxDimensions + 1, p);
  expect_error_naming("dims = 21202", Sampler::halton, 4, kHaltonMaxDimensions + 1, p);
  expect_error_naming("n + skip", Sampler::sobol, 16, 1, p, kTwoPow32 - 15);
  expect_error_naming("n + skip", Sampler::sobol_owen, kTwoPow32 + 1, 1, p);
  expect_error_naming("n + skip", Sampler::halton, 2, 1, p, kTwoPow32 - 1);
  expect_error_naming("n = 16777217", Sampler::lhs, (std::int64_t{1} << 24) + 1, 1, p);
  expect_error_naming("n + skip", Sampler::monte_carlo, 2, 1, p,
                      std::numeric_limits<std::int64_t>::max() - 1);
  // The last valid index is accepted, and nothing was written by the failures.
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_NO_THROW(generate_samples(Context::host(), Sampler::sobol, 16, 4, p, kTwoPow32 - 16));
}

}  // namespace
}  // namespace cuxplain
