// HSIC estimator and attribution on the host backend, against the literal
// trace formula (tests/reference/hsic_reference.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/design_packing.hpp"
#include "common/test_utils.hpp"
#include "kernels/hsic.hpp"
#include "reference/hsic_reference.hpp"

namespace cuxplain {
namespace {

int kernel_index(HsicKernel kernel) {
  return kernel == HsicKernel::binary ? 0 : kernel == HsicKernel::rbf ? 1 : 2;
}

std::vector<float> random_masks(std::int64_t n, std::int64_t d, bool binary, std::uint32_t seed) {
  std::vector<float> masks = test::random_uniform(static_cast<std::size_t>(n * d), seed);
  if (binary)
    for (float& m : masks) m = m > 0.5f ? 1.0f : 0.0f;
  return masks;
}

/// Outputs that depend on cells 0 and 2 (nonlinearly) plus a little noise.
std::vector<float> dependent_outputs(const std::vector<float>& masks, std::int64_t n,
                                     std::int64_t d, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> y(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j)
    y[j] = 1.0f + 2.0f * masks[j * d] + std::sin(3.0f * masks[j * d + 2]) + noise(gen);
  return y;
}

TEST(HsicCenteredGram, EqualsLiteralHLH) {
  const Context ctx = Context::host();
  for (std::int64_t n : {2, 7, 37, 100}) {
    const std::vector<float> y = test::random_uniform(static_cast<std::size_t>(n), 3 + n, -2.0f, 3.0f);
    const float width = 0.8f;
    std::vector<float> lc(static_cast<std::size_t>(n * n), test::poison());
    hsic_centered_gram(ctx, y.data(), n, width, lc.data());
    const auto expected = reference::centered(reference::output_gram(y, width), n);
    for (std::int64_t e = 0; e < n * n; ++e) EXPECT_NEAR(lc[e], expected[e], 2e-6) << "n " << n << " e " << e;
    // Rows of a centred matrix sum to zero.
    for (std::int64_t j = 0; j < n; ++j) {
      double row = 0.0;
      for (std::int64_t l = 0; l < n; ++l) row += lc[j * n + l];
      EXPECT_NEAR(row, 0.0, 1e-5);
    }
    EXPECT_GT(test::l2_norm(lc), 0.0);
  }
}

struct ScoreCase {
  HsicKernel kernel;
  bool binary;
  std::int64_t n;
  std::int64_t d;
};

class HsicScores : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(HsicScores, MatchLiteralTraceFormula) {
  const ScoreCase param = GetParam();
  const Context ctx = Context::host();
  const std::vector<float> masks = random_masks(param.n, param.d, param.binary, 17);
  const std::vector<float> y = dependent_outputs(masks, param.n, param.d, 5);
  const float width = hsic_output_width(ctx, y.data(), param.n, Bandwidth::median_output);
  std::vector<float> lc(static_cast<std::size_t>(param.n * param.n), test::poison());
  hsic_centered_gram(ctx, y.data(), param.n, width, lc.data());
  std::vector<float> scores(static_cast<std::size_t>(param.d), test::poison());
  hsic_scores(ctx, masks.data(), param.n, param.d, param.kernel, param.binary, lc.data(), scores.data());

  const auto expected = reference::hsic_scores(masks, param.n, param.d, kernel_index(param.kernel),
                                               reference::output_gram(y, width));
  double scale = 0.0;
  for (double s : expected) scale = std::max(scale, std::fabs(s));
  ASSERT_GT(scale, 0.0);
  EXPECT_GT(test::l2_norm(scores), 0.0);
  for (std::int64_t i = 0; i < param.d; ++i) {
    EXPECT_NEAR(scores[i], expected[i], 1e-5 * scale + 1e-7) << "cell " << i;
  }
  // The cells the outputs depend on carry the largest dependence.
  const auto top = std::max_element(expected.begin(), expected.end()) - expected.begin();
  EXPECT_TRUE(top == 0 || top == 2);
}

INSTANTIATE_TEST_SUITE_P(
    KernelsAndMasks, HsicScores,
    ::testing::Values(ScoreCase{HsicKernel::binary, true, 37, 6}, ScoreCase{HsicKernel::rbf, true, 50, 5},
                      ScoreCase{HsicKernel::sobolev, true, 61, 4}, ScoreCase{HsicKernel::binary, false, 45, 6},
                      ScoreCase{HsicKernel::rbf, false, 70, 5}, ScoreCase{HsicKernel::sobolev, false, 33, 7},
                      ScoreCase{HsicKernel::rbf, false, 130, 3}));

TEST(HsicScores, ContinuousTilesMatchTheDirectDoubleSumOnEveryInstructionSet) {
  // The host's continuous scores sum the upper triangle of (j, l) in tiles of
  // 32 rows by up to 256 columns, masks zero padded to a multiple of 8: sizes
  // with several row blocks, column chunks and a padded, partial last tile,
  // on the baseline and the AVX2 + FMA loops, against (1 / N) sum_jl
  // k(x_ji, x_li) Lc_jl in double over the same Lc. Each term carries a few
  // float roundings (k, the pair weight Lc_jl + Lc_lj, the product) and the
  // float column sums at most 32 terms: within 40 units of 2^-24 of the
  // terms' absolute sum, so 4e-6 of it bounds the error.
  using kernels::cpu::Isa;
  const Context ctx = Context::host();
  for (const std::int64_t n : {300, 700}) {
    const std::int64_t d = 4;
    const std::vector<float> masks = random_masks(n, d, false, 23);
    const std::vector<float> y = dependent_outputs(masks, n, d, 8);
    const float width = hsic_output_width(ctx, y.data(), n, Bandwidth::median_output);
    std::vector<float> lc(static_cast<std::size_t>(n * n));
    hsic_centered_gram(ctx, y.data(), n, width, lc.data());
    for (HsicKernel kernel : {HsicKernel::binary, HsicKernel::rbf, HsicKernel::sobolev}) {
      std::vector<double> expected(static_cast<std::size_t>(d), 0.0), magnitude(expected);
      for (std::int64_t i = 0; i < d; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
          for (std::int64_t l = 0; l < n; ++l) {
            const double term = reference::input_kernel(kernel_index(kernel), masks[j * d + i],
                                                        masks[l * d + i]) *
                                lc[j * n + l];
            expected[i] += term / static_cast<double>(n);
            magnitude[i] += std::fabs(term) / static_cast<double>(n);
          }
        }
      }
      for (Isa isa : {Isa::generic, Isa::avx2_fma}) {
        if (!kernels::cpu::isa_supported(isa)) continue;
        std::vector<float> scores(static_cast<std::size_t>(d), test::poison());
        kernels::cpu::hsic_scores_continuous_with(isa, masks.data(), n, d, kernel, lc.data(),
                                                  scores.data());
        for (std::int64_t i = 0; i < d; ++i) {
          EXPECT_NEAR(scores[i], expected[i], 4e-6 * magnitude[i])
              << kernels::cpu::to_string(isa) << " n " << n << " kernel "
              << kernel_index(kernel) << " cell " << i;
        }
      }
    }
  }
}

TEST(HsicScores, IndependentInputsScoreAtTheEstimatorBias) {
  // score = tr(K H L H) / N is a V-statistic: for 0/1 masks independent of
  // the outputs (iid Bernoulli(1/2)) its expectation is c tr(Lc) / (4 N), a
  // constant, while a dependent cell grows like N. So independent cells stay
  // near that bias (and score / N, the usual HSIC, tends to 0).
  const Context ctx = Context::host();
  const std::int64_t n = 1024, d = 8;
  const std::vector<float> masks = random_masks(n, d, true, 3);
  const std::vector<float> independent = test::random_uniform(static_cast<std::size_t>(n), 99, 0.5f, 1.5f);
  const std::vector<float> dependent = dependent_outputs(masks, n, d, 1);
  for (bool is_dependent : {false, true}) {
    const std::vector<float>& out = is_dependent ? dependent : independent;
    const float width = hsic_output_width(ctx, out.data(), n, Bandwidth::median_output);
    std::vector<float> lc(static_cast<std::size_t>(n * n));
    hsic_centered_gram(ctx, out.data(), n, width, lc.data());
    double trace = 0.0;
    for (std::int64_t j = 0; j < n; ++j) trace += lc[j * n + j];
    const double bias = 2.0 * trace / (4.0 * static_cast<double>(n));  // c = 2 for the binary kernel
    std::vector<float> scores(static_cast<std::size_t>(d), test::poison());
    hsic_scores(ctx, masks.data(), n, d, HsicKernel::binary, true, lc.data(), scores.data());
    if (is_dependent) {
      EXPECT_GT(scores[0], 100.0 * bias);
    } else {
      double mean = 0.0;
      for (float s : scores) {
        EXPECT_LT(std::fabs(s), 4.0 * bias);
        EXPECT_LT(std::fabs(s) / n, 1e-4);
        mean += s / static_cast<double>(d);
      }
      EXPECT_NEAR(mean, bias, 0.5 * bias);
    }
  }
}

TEST(HsicInteractions, MatchLiteralProductKernel) {
  const Context ctx = Context::host();
  for (HsicKernel kernel : {HsicKernel::binary, HsicKernel::rbf, HsicKernel::sobolev}) {
    for (bool binary : {true, false}) {
      const std::int64_t n = 29, d = 5;
      const std::vector<float> masks = random_masks(n, d, binary, 23);
      std::vector<float> y(static_cast<std::size_t>(n));
      for (std::int64_t j = 0; j < n; ++j) y[j] = masks[j * d + 1] * masks[j * d + 3] + 0.1f * masks[j * d];
      const float width = hsic_output_width(ctx, y.data(), n, Bandwidth::median_distance);
      std::vector<float> lc(static_cast<std::size_t>(n * n));
      hsic_centered_gram(ctx, y.data(), n, width, lc.data());
      std::vector<float> inter(static_cast<std::size_t>(d * d), test::poison());
      hsic_interactions(ctx, masks.data(), n, d, kernel, lc.data(), inter.data());
      const auto expected = reference::hsic_interactions(masks, n, d, kernel_index(kernel),
                                                         reference::output_gram(y, width));
      double scale = 0.0;
      for (double s : expected) scale = std::max(scale, std::fabs(s));
      EXPECT_GT(test::l2_norm(inter), 0.0);
      for (std::int64_t e = 0; e < d * d; ++e) {
        EXPECT_NEAR(inter[e], expected[e], 1e-5 * scale + 1e-7)
            << to_string(kernel) << " binary " << binary << " entry " << e;
      }
    }
  }
}

TEST(HsicOutputWidth, MedianOfOutputsOddAndEven) {
  const Context ctx = Context::host();
  const std::vector<float> odd{5.0f, 1.0f, 3.0f, 9.0f, 2.0f};
  EXPECT_EQ(hsic_output_width(ctx, odd.data(), 5, Bandwidth::median_output), 3.0f);
  const std::vector<float> even{4.0f, 1.0f, 3.0f, 9.0f};
  EXPECT_EQ(hsic_output_width(ctx, even.data(), 4, Bandwidth::median_output), 3.5f);
}

TEST(HsicOutputWidth, MedianPairwiseDistanceMatchesBruteForce) {
  const Context ctx = Context::host();
  for (std::int64_t n : {2, 3, 4, 10, 101, 400}) {
    const std::vector<float> y = test::random_uniform(static_cast<std::size_t>(n), 7 + n, -3.0f, 2.0f);
    const float width = hsic_output_width(ctx, y.data(), n, Bandwidth::median_distance);
    const double expected = reference::median_pairwise_distance(y);
    EXPECT_NEAR(width, expected, 1e-6 * expected) << n;
  }
}

TEST(HsicOutputWidth, NegativeMedianActsAsItsMagnitude) {
  // xplique takes the median of the outputs as the width whatever its sign;
  // only w^2 enters the kernel, so a median of -3 is a width of 3.
  const Context ctx = Context::host();
  const std::vector<float> negative{-5.0f, -1.0f, -3.0f, -2.0f, -8.0f};
  EXPECT_EQ(hsic_output_width(ctx, negative.data(), 5, Bandwidth::median_output), 3.0f);
  const std::vector<float> mixed{-0.75f, 2.0f, -0.5f, -4.0f};
  EXPECT_EQ(hsic_output_width(ctx, mixed.data(), 4, Bandwidth::median_output), 0.625f);
}

TEST(HsicOutputWidth, ZeroMedianFallsBackToPairwiseDistanceThenDeviation) {
  const Context ctx = Context::host();
  const std::vector<float> zero_median{-2.0f, 3.0f, 0.0f, -1.0f, 1.0f};
  EXPECT_NEAR(hsic_output_width(ctx, zero_median.data(), 5, Bandwidth::median_output),
              reference::median_pairwise_distance(zero_median), 1e-6);
  // Mostly equal outputs around 0: the median and the median distance are
  // both 0, so the standard deviation (sqrt(5)/6) is used.
  const std::vector<float> mostly_equal{0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
  EXPECT_NEAR(hsic_output_width(ctx, mostly_equal.data(), 6, Bandwidth::median_output),
              std::sqrt(5.0) / 6.0, 1e-6);
}

TEST(HsicOutputWidth, ConstantOrNonFiniteOutputsAreErrors) {
  const Context ctx = Context::host();
  const std::vector<float> constant(8, 0.25f);
  try {
    hsic_output_width(ctx, constant.data(), 8, Bandwidth::median_output);
    ADD_FAILURE() << "constant outputs accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("all equal to 0.25"), std::string::npos) << e.what();
  }
  std::vector<float> with_nan{1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(hsic_output_width(ctx, with_nan.data(), 3, Bandwidth::median_output), Error);
}

TEST(HsicDesign, BinaryMasksRoundHalfToEven) {
  const Context ctx = Context::host();
  const std::int64_t n = 64, d = 10;
  std::vector<float> continuous(static_cast<std::size_t>(n * d)), binary(static_cast<std::size_t>(n * d), test::poison());
  hsic_design(ctx, Sampler::sobol, n, d, false, continuous.data(), 0);
  hsic_design(ctx, Sampler::sobol, n, d, true, binary.data(), 0);
  int halves = 0;
  for (std::int64_t e = 0; e < n * d; ++e) {
    const float expected = std::nearbyint(continuous[e]);  // default rounding: half to even
    EXPECT_EQ(binary[e], expected) << e;
    halves += continuous[e] == 0.5f;
  }
  EXPECT_GT(halves, 0);  // unscrambled Sobol hits 0.5 exactly: the tie case is exercised
}

// ---- the explainer ----

TEST(HsicAttribution, ReadCellsRankFirstAndModelRunsNTimes) {
  const Context ctx = Context::host();
  const std::vector<float> pixels = test::random_uniform(2 * 3 * 28 * 28, 4, 0.2f, 1.0f);
  const test::CellReader reader{7, {8, 30}, 3};
  for (bool binary : {true, false}) {
    HsicOptions options;
    options.grid_size = 7;
    options.nb_design = 300;
    options.binary = binary;
    options.input_kernel = binary ? HsicKernel::binary : HsicKernel::rbf;
    options.sampler = binary ? Sampler::sobol : Sampler::lhs;
    options.batch_size = 64;
    std::int64_t forwards = 0;
    std::vector<float> scores(2 * 49, test::poison());
    hsic_attribution(ctx, reader.as_model(ctx, &forwards), {pixels.data(), 2, 3, 28, 28, Layout::nchw},
                     {0, 2}, scores.data(), options);
    EXPECT_EQ(forwards, 2 * 300);
    for (int image = 0; image < 2; ++image) {
      std::vector<std::int64_t> order(49);
      std::iota(order.begin(), order.end(), 0);
      const float* s = scores.data() + image * 49;
      std::sort(order.begin(), order.end(), [&](auto a, auto b) { return s[a] > s[b]; });
      std::vector<std::int64_t> top{order[0], order[1]};
      std::sort(top.begin(), top.end());
      EXPECT_EQ(top, reader.cells) << "binary " << binary << " image " << image;
    }
  }
}

TEST(HsicAttribution, BatchSizeIndependentAndRepeatableWithInteractions) {
  const Context ctx = Context::host();
  const std::vector<float> pixels = test::random_uniform(3 * 16 * 16, 8, 0.2f, 1.0f);
  const test::CellReader reader{4, {1, 5, 10}, 2};
  std::vector<float> first_scores, first_inter;
  for (std::int64_t batch : {1, 33, 500}) {
    HsicOptions options;
    options.grid_size = 4;
    options.nb_design = 150;
    options.interactions = true;
    options.batch_size = batch;
    std::vector<float> scores(16, test::poison()), inter(256, test::poison());
    hsic_attribution(ctx, reader.as_model(ctx), {pixels.data(), 1, 3, 16, 16, Layout::nhwc}, {1},
                     scores.data(), options, inter.data());
    EXPECT_GT(test::l2_norm(inter), 0.0);
    for (int i = 0; i < 16; ++i) EXPECT_EQ(inter[i * 16 + i], 0.0f);
    if (first_scores.empty()) {
      first_scores = scores;
      first_inter = inter;
    }
    EXPECT_EQ(scores, first_scores) << batch;
    EXPECT_EQ(inter, first_inter) << batch;
  }
}

TEST(HsicAttribution, PackedDesignsMatchOneImagePerCallBitwise) {
  // Three images of 40 design rows each: batches of 1, 13 and 39 rows split
  // every design, 41, 60 and 100 hold the end of one image and the start of
  // the next, 120 and more every image in one call.
  const Context ctx = Context::host();
  const std::vector<float> pixels = test::random_uniform(3 * 3 * 16 * 16, 19, 0.2f, 1.0f);
  const test::CellReader reader{4, {1, 5, 10}, 2};
  for (const Perturbation perturbation : {Perturbation::inpainting, Perturbation::blurring}) {
    HsicOptions options;
    options.grid_size = 4;
    options.nb_design = 40;
    options.interactions = true;
    options.perturbation = perturbation;
    options.blur_size = 3;
    SCOPED_TRACE(to_string(perturbation));
    test::expect_packing_matches_one_image_per_call(
        ctx, reader, {pixels.data(), 3, 3, 16, 16, Layout::nchw}, {1, 0, 1}, 40,
        {1, 13, 39, 40, 41, 60, 100, 120, 1000}, test::hsic_outputs(ctx, options, 16));
  }
}

TEST(HsicAttribution, ScoresIgnoreTheOutputsScaleAndSignAtAnyMagnitude) {
  // With the median width, L depends on (y_j - y_l) / |median(y)| only, so
  // scaling the outputs by a power of two (exact in float) or flipping their
  // sign changes nothing, bit for bit, up to outputs near float's limit.
  const Context ctx = Context::host();
  const std::vector<float> pixels = test::random_uniform(16 * 16, 12, 0.2f, 1.0f);
  const test::CellReader reader{4, {2, 9}, 2};
  HsicOptions options;
  options.grid_size = 4;
  options.nb_design = 200;
  const auto scores_for = [&](float factor) {
    const Model scaled{reader.num_outputs, [&](ConstImageView batch, float* out) {
      reader.forward_host(batch, out);
      for (std::int64_t i = 0; i < batch.n * reader.num_outputs; ++i) out[i] *= factor;
    }};
    std::vector<float> scores(16, test::poison());
    hsic_attribution(ctx, scaled, {pixels.data(), 1, 1, 16, 16, Layout::nchw}, {1}, scores.data(),
                     options);
    return scores;
  };
  const std::vector<float> plain = scores_for(1.0f);
  EXPECT_GT(test::l2_norm(plain), 0.0);
  for (float factor : {-1.0f, std::ldexp(1.0f, 63), -std::ldexp(1.0f, 120), std::ldexp(1.0f, -100)}) {
    EXPECT_EQ(scores_for(factor), plain) << "outputs scaled by " << factor;
  }
  // Not a power of two: rounding differs, the scores stay finite and close.
  const std::vector<float> large = scores_for(1e19f);
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_TRUE(std::isfinite(large[i])) << i;
    EXPECT_NEAR(large[i], plain[i], 1e-4 * test::l2_norm(plain)) << i;
  }
}

class HsicBadInput : public ::testing::Test {
 protected:
  void expect_error(const std::function<void()>& call, const std::string& needle) {
    std::vector<float> scores_before = scores;
    test::expect_error(call, needle);
    EXPECT_EQ(scores, scores_before) << "scores written by a failing call";
    std::vector<float> fresh(16, test::poison());
    hsic_attribution(ctx, reader.as_model(ctx), view(), {0}, fresh.data(), options);
    EXPECT_GT(test::l2_norm(fresh), 0.0);
  }
  ConstImageView view() const { return {pixels.data(), 1, 1, 16, 16, Layout::nchw}; }
  Context ctx = Context::host();
  std::vector<float> pixels = test::random_uniform(256, 2, 0.2f, 1.0f);
  test::CellReader reader{4, {6}, 2};
  std::vector<float> scores = std::vector<float>(16, 7.0f);
  HsicOptions options = [] {
    HsicOptions o;
    o.grid_size = 4;
    o.nb_design = 64;
    return o;
  }();
};

TEST_F(HsicBadInput, TooFewDesigns) {
  auto bad = options;
  bad.nb_design = 1;
  expect_error([&] { hsic_attribution(ctx, reader.as_model(ctx), view(), {0}, scores.data(), bad); },
               "options.nb_design must be >= 2, got 1");
}

TEST_F(HsicBadInput, ConstantOutputs) {
  const Model constant{2, [](ConstImageView batch, float* out) {
    for (std::int64_t i = 0; i < batch.n * 2; ++i) out[i] = 0.5f;
  }};
  expect_error([&] { hsic_attribution(ctx, constant, view(), {1}, scores.data(), options); },
               "outputs are all equal");
}

TEST_F(HsicBadInput, GridTooLarge) {
  auto bad = options;
  bad.grid_size = 32;
  expect_error([&] { hsic_attribution(ctx, reader.as_model(ctx), view(), {0}, scores.data(), bad); },
               "options.grid_size 32 is larger than the image (16 x 16)");
}

TEST_F(HsicBadInput, NaNOutputs) {
  const Model nan_model{2, [&](ConstImageView batch, float* out) {
    reader.forward_host(batch, out);
    out[0] = std::numeric_limits<float>::quiet_NaN();
  }};
  expect_error([&] { hsic_attribution(ctx, nan_model, view(), {0}, scores.data(), options); },
               "non-finite");
}

TEST_F(HsicBadInput, InteractionsWithoutTheirOutput) {
  auto bad = options;
  bad.interactions = true;
  expect_error([&] { hsic_attribution(ctx, reader.as_model(ctx), view(), {0}, scores.data(), bad); },
               "interactions (options.interactions is set)");
}

}  // namespace
}  // namespace cuxplain
