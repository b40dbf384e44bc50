// The metrics on the host backend against the double-precision references
// of tests/reference/metrics_reference.hpp, known answers (a model reading
// one pixel, a perfect attribution of an additive model), the tie rules of
// both conventions, batch-size independence, errors and memory bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/detail/metrics.hpp>

#include "common/cell_model.hpp"
#include "common/counting_allocator.hpp"
#include "common/host_model.hpp"
#include "common/test_utils.hpp"
#include "reference/metrics_reference.hpp"

namespace cuxplain {
namespace {

using reference::Images;

Images random_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                     Layout layout, std::uint32_t seed, float lo = 0.1f, float hi = 1.0f) {
  Images images;
  images.data = test::random_uniform(static_cast<std::size_t>(n * c * h * w), seed, lo, hi);
  images.n = n;
  images.c = c;
  images.h = h;
  images.w = w;
  images.layout = layout;
  return images;
}

/// Explanations rounded to `levels` values so that the ranking has ties.
Images tied_explanations(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                         Layout layout, std::uint32_t seed, int levels) {
  Images e = random_images(n, c, h, w, layout, seed, -1.0f, 1.0f);
  for (float& v : e.data) v = std::round(v * levels) / levels;
  return e;
}

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want, double tol,
                     const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0, scale)) << what << " entry " << i;
  }
}

// ------------------------------------------------------------- step counts

TEST(CausalStepCounts, MatchNumpyLinspaceCastToInt32) {
  // np.linspace(0, floor(P * max), steps + 1, dtype=np.int32), NumPy 2.4.
  struct Case {
    std::int64_t pixels, steps;
    double max;
    std::vector<std::int64_t> counts;
  };
  const std::vector<Case> cases = {
      {784, 10, 1.0, {0, 78, 156, 235, 313, 392, 470, 548, 627, 705, 784}},
      {784, 7, 0.35, {0, 39, 78, 117, 156, 195, 234, 274}},
      {5, 10, 1.0, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5}},
      {100, 3, 0.5, {0, 16, 33, 50}},
      {49, 10, 0.9, {0, 4, 8, 13, 17, 22, 26, 30, 35, 39, 44}},
  };
  for (const Case& c : cases) {
    CausalOptions options;
    options.steps = c.steps;
    options.max_percentage_perturbed = c.max;
    EXPECT_EQ(causal_step_counts(c.pixels, options), c.counts) << c.pixels << " " << c.steps;
    EXPECT_EQ(reference::step_counts(c.pixels, options), c.counts) << "the reference's formula";
  }
  CausalOptions thirty;
  thirty.steps = 30;
  thirty.max_percentage_perturbed = 0.3;  // 1000 * 0.3 = 300.00000000000006
  const auto counts = causal_step_counts(1000, thirty);
  for (std::int64_t s = 0; s <= 30; ++s) EXPECT_EQ(counts[s], 10 * s);
}

TEST(CausalStepCounts, RejectsOptionsNamingThem) {
  CausalOptions options;
  options.steps = 0;
  test::expect_error([&] { causal_step_counts(10, options); }, "options.steps must be >= 1, got 0");
  options.steps = 10;
  options.max_percentage_perturbed = 1.5;
  test::expect_error([&] { causal_step_counts(10, options); },
                     "options.max_percentage_perturbed must be in (0, 1], got 1.5");
  options.max_percentage_perturbed = 0.05;
  test::expect_error([&] { causal_step_counts(10, options); }, "perturbs no pixel");
}

// ------------------------------------------------------- deletion/insertion

TEST(Deletion, AModelReadingOnePixelGivesTheKnownCurve) {
  const Context ctx = Context::host();
  const std::int64_t h = 6, w = 5, pixels = h * w, target_pixel = 13;
  const float value = 0.75f;
  std::vector<float> image(pixels, 0.3f);
  image[target_pixel] = value;
  const Model reads_pixel = test::host_model(ctx, 2, [&](ConstImageView b, float* out) {
    for (std::int64_t i = 0; i < b.n; ++i) {
      out[2 * i] = 0.0f;
      out[2 * i + 1] = b.data[i * pixels + target_pixel];
    }
  });
  // Distinct scores; the pixel the model reads has rank 11 (11 pixels above).
  std::vector<float> explanation(pixels);
  for (std::int64_t p = 0; p < pixels; ++p) explanation[p] = static_cast<float>(pixels - p);
  explanation[target_pixel] = static_cast<float>(pixels - 11) + 0.5f;
  CausalOptions options;
  options.baseline = -2.0f;  // the deleted value, read back by the model
  const auto counts = causal_step_counts(pixels, options);  // 0 3 6 9 12 15 18 21 24 27 30
  for (const bool is_deletion : {true, false}) {
    std::vector<float> curve(11, test::poison()), auc(1, test::poison());
    (is_deletion ? deletion : insertion)(ctx, reads_pixel, {image.data(), 1, 1, h, w,
                                                            Layout::nchw},
                                         {1}, {explanation.data(), 1, 1, h, w, Layout::nchw},
                                         curve.data(), auc.data(), options);
    double expected_auc = 0.0;
    for (std::size_t s = 0; s < counts.size(); ++s) {
      const bool gone = counts[s] > 11;  // the pixel is the 12th ranked
      const float expected = is_deletion ? (gone ? options.baseline : value)
                                         : (gone ? value : options.baseline);
      EXPECT_EQ(curve[s], expected) << (is_deletion ? "deletion" : "insertion") << " step " << s;
      if (s > 0) expected_auc += (counts[s] - counts[s - 1]) * (curve[s] + curve[s - 1]) / 60.0;
    }
    EXPECT_NEAR(auc[0], expected_auc, 1e-6);
  }
}

struct CausalCase {
  Layout layout;
  std::int64_t explanation_channels;
  Convention convention;
  OutputActivation activation;
  std::int64_t batch_size;
};

class CausalAgainstReference : public ::testing::TestWithParam<CausalCase> {};

TEST_P(CausalAgainstReference, CurvesAndAreas) {
  const CausalCase param = GetParam();
  const Context ctx = Context::host();
  const std::int64_t n = 3, c = 3, h = 9, w = 7;
  const Images images = random_images(n, c, h, w, param.layout, 5);
  // Ties in the ranking exercise the convention's tie rule.
  const Images e = tied_explanations(n, param.explanation_channels, h, w, param.layout, 6, 3);
  const test::CellReader reader{3, {0, 4, 7}, 4};
  const Model model = reader.as_model(ctx);
  const std::vector<int> targets = {0, 3, 1};
  CausalOptions options;
  options.steps = 8;
  options.max_percentage_perturbed = 0.8;
  options.baseline = 0.25f;
  options.convention = param.convention;
  options.activation = param.activation;
  options.batch_size = param.batch_size;
  for (const bool is_deletion : {true, false}) {
    std::vector<float> curves(n * 9, test::poison()), aucs(n, test::poison());
    (is_deletion ? deletion : insertion)(ctx, model, images.view(), targets, e.view(),
                                         curves.data(), aucs.data(), options);
    const reference::Causal want =
        reference::causal(model, images, targets, e, options, is_deletion);
    EXPECT_GT(test::l2_norm(curves), 0.0);
    expect_near_all(curves, want.curves, 1e-6, "curves");
    expect_near_all(aucs, want.aucs, 1e-6, "aucs");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CausalAgainstReference,
    ::testing::Values(
        CausalCase{Layout::nchw, 1, Convention::paper, OutputActivation::none, 64},
        CausalCase{Layout::nhwc, 3, Convention::paper, OutputActivation::softmax, 5},
        CausalCase{Layout::nchw, 3, Convention::xplique, OutputActivation::none, 1},
        CausalCase{Layout::nhwc, 1, Convention::xplique, OutputActivation::sigmoid, 1000}));

TEST(Deletion, BitwiseIndependentOfBatchSize) {
  const Context ctx = Context::host();
  const Images images = random_images(4, 1, 8, 8, Layout::nchw, 9);
  const Images e = tied_explanations(4, 1, 8, 8, Layout::nchw, 10, 5);
  const test::CellReader reader{4, {1, 6, 9}, 3};
  std::vector<float> first;
  for (std::int64_t batch : {1, 7, 11, 64, 1000}) {
    CausalOptions options;
    options.batch_size = batch;
    std::vector<float> curves(4 * 11, test::poison()), aucs(4, test::poison());
    deletion(ctx, reader.as_model(ctx), images.view(), {0, 1, 2, 0}, e.view(), curves.data(),
             aucs.data(), options);
    curves.insert(curves.end(), aucs.begin(), aucs.end());
    if (first.empty()) first = curves;
    EXPECT_EQ(std::memcmp(curves.data(), first.data(), curves.size() * sizeof(float)), 0)
        << "batch_size " << batch;
  }
}

TEST(Deletion, TiesGoToTheLowerPixelFirstOrTheHigherForXplique) {
  // A constant explanation ranks every pixel equal; a model reading pixel 0
  // loses it at the first step under the paper's rule (stable sort) and at
  // the last under xplique's (argsort(kind="stable")[::-1]).
  const Context ctx = Context::host();
  const std::int64_t pixels = 16;
  std::vector<float> image(pixels, 1.0f), explanation(pixels, 0.5f);
  const Model reads_first = test::host_model(ctx, 1, [&](ConstImageView b, float* out) {
    for (std::int64_t i = 0; i < b.n; ++i) out[i] = b.data[i * pixels];
  });
  CausalOptions options;
  options.steps = 16;
  for (const Convention convention : {Convention::paper, Convention::xplique}) {
    options.convention = convention;
    std::vector<float> curve(17, test::poison()), auc(1, test::poison());
    deletion(ctx, reads_first, {image.data(), 1, 1, 4, 4, Layout::nchw}, {0},
             {explanation.data(), 1, 1, 4, 4, Layout::nchw}, curve.data(), auc.data(), options);
    for (std::int64_t s = 0; s <= 16; ++s) {
      const bool gone = convention == Convention::paper ? s >= 1 : s >= 16;
      EXPECT_EQ(curve[s], gone ? 0.0f : 1.0f) << to_string(convention) << " step " << s;
    }
  }
}

TEST(Deletion, XpliqueCollapsesRepeatedCountsAndItsDataSetScoreIsTheMeanAuc) {
  // 5 pixels, 10 steps: counts 0 0 1 1 2 2 3 3 4 4 5. xplique's curve keeps
  // one point per count (0..5, equally spaced), the paper's trapezoids give
  // the repeated counts zero width: the same areas. 15 pixels: counts
  // 0 1 3 4 6 7 9 10 12 13 15, unequally spaced, which only the paper's
  // x axis weighs: the areas differ.
  const Context ctx = Context::host();
  const auto model_for = [&](std::int64_t pixels) {
    return test::host_model(ctx, 1, [pixels](ConstImageView b, float* out) {
      for (std::int64_t i = 0; i < b.n; ++i) {
        double s = 0.0;
        for (std::int64_t p = 0; p < pixels; ++p) {
          s += (p + 1.0) * b.data[i * pixels + p] * b.data[i * pixels + p];
        }
        out[i] = static_cast<float>(s);
      }
    });
  };
  const std::vector<int> targets = {0, 0, 0};
  for (const std::int64_t pixels : {5, 15}) {
    const Images images = random_images(3, 1, 1, pixels, Layout::nchw, 12);
    const Images e = random_images(3, 1, 1, pixels, Layout::nchw, 13, -1.0f, 1.0f);
    const Model model = model_for(pixels);
    std::vector<float> paper_aucs, xplique_aucs, curves(33);
    for (const Convention convention : {Convention::paper, Convention::xplique}) {
      CausalOptions options;
      options.convention = convention;
      std::vector<float> aucs(3, test::poison());
      deletion(ctx, model, images.view(), targets, e.view(), curves.data(), aucs.data(),
               options);
      const reference::Causal want = reference::causal(model, images, targets, e, options, true);
      expect_near_all(aucs, want.aucs, 1e-6, to_string(convention));
      (convention == Convention::paper ? paper_aucs : xplique_aucs) = aucs;
      if (convention == Convention::xplique) {
        // xplique's score: the trapezoid of the curve averaged over images,
        // over its distinct counts.
        const std::vector<std::int64_t> counts = causal_step_counts(pixels, options);
        std::vector<double> mean_curve;
        for (std::size_t s = 0; s < counts.size(); ++s) {
          if (s > 0 && counts[s] == counts[s - 1]) continue;
          mean_curve.push_back((curves[s] + curves[11 + s] + curves[22 + s]) / 3.0);
        }
        double score = 0.0;
        for (std::size_t j = 0; j + 1 < mean_curve.size(); ++j) {
          score += (mean_curve[j] + mean_curve[j + 1]) * 0.5 / (mean_curve.size() - 1.0);
        }
        EXPECT_NEAR((aucs[0] + aucs[1] + aucs[2]) / 3.0, score, 1e-6) << pixels;
      }
    }
    for (int i = 0; i < 3; ++i) {
      if (pixels == 5) {
        EXPECT_NEAR(paper_aucs[i], xplique_aucs[i], 1e-6) << i;
      } else {
        EXPECT_GT(std::fabs(paper_aucs[i] - xplique_aucs[i]), 1e-4) << i;
      }
    }
  }
}

TEST(Deletion, RejectsBadArgumentsAndLeavesOutputsUntouched) {
  const Context ctx = Context::host();
  const Images images = random_images(2, 1, 4, 4, Layout::nchw, 1);
  const Images e = random_images(2, 1, 4, 4, Layout::nchw, 2);
  const test::CellReader reader{2, {1}, 2};
  const Model model = reader.as_model(ctx);
  std::vector<float> curves(22, 7.0f), aucs(2, 7.0f);
  CausalOptions options;
  test::expect_error(
      [&] {
        deletion(ctx, model, images.view(), {0, 1},
                 {e.data.data(), 2, 1, 4, 3, Layout::nchw}, curves.data(), aucs.data(), options);
      },
      "deletion: explanations are 4 x 3 but the images 4 x 4");
  test::expect_error(
      [&] {
        deletion(ctx, model, images.view(), {0, 1}, {e.data.data(), 2, 2, 4, 4, Layout::nchw},
                 curves.data(), aucs.data(), options);
      },
      "explanations.c must be 1 or images.c = 1, got 2");
  test::expect_error(
      [&] { deletion(ctx, model, images.view(), {0, 1}, e.view(), nullptr, aucs.data(), options); },
      "deletion: curves is null");
  test::expect_error(
      [&] { insertion(ctx, model, images.view(), {0, 5}, e.view(), curves.data(), aucs.data()); },
      "targets[1] = 5 is outside [0, 2)");
  options.batch_size = 0;
  test::expect_error(
      [&] { deletion(ctx, model, images.view(), {0, 1}, e.view(), curves.data(), aucs.data(),
                     options); },
      "options.batch_size must be >= 1, got 0");
  options = {};
  options.convention = static_cast<Convention>(9);
  test::expect_error(
      [&] { deletion(ctx, model, images.view(), {0, 1}, e.view(), curves.data(), aucs.data(),
                     options); },
      "options.convention has an unknown value 9");
  options = {};
  Images bad = e;
  bad.data[5] = std::numeric_limits<float>::infinity();
  test::expect_error(
      [&] { deletion(ctx, model, images.view(), {0, 1}, bad.view(), curves.data(), aucs.data(),
                     options); },
      "explanations holds 1 non-finite");
  // The target of image 1 is NaN in every row: nothing is written.
  const Model nan_column = test::host_model(ctx, 2, [&](ConstImageView b, float* out) {
    reader.forward_host(b, out);
    for (std::int64_t i = 0; i < b.n; ++i) out[2 * i + 1] = std::nanf("");
  });
  test::expect_error(
      [&] { deletion(ctx, nan_column, images.view(), {0, 1}, e.view(), curves.data(),
                     aucs.data(), options); },
      "targets[1] = 1 in 11 of the 11 perturbed copies of image 1");
  const Model throwing = test::host_model(ctx, 2, [](ConstImageView, float*) {
    throw std::runtime_error("boom");
  });
  test::expect_error(
      [&] { deletion(ctx, throwing, images.view(), {1, 1}, e.view(), curves.data(), aucs.data(),
                     options); },
      "model.forward threw on images 0..1 (rows 0..21 of deletion): boom");
  for (float v : curves) EXPECT_EQ(v, 7.0f);
  for (float v : aucs) EXPECT_EQ(v, 7.0f);
}

// --------------------------------------------------------------- Spearman

TEST(Spearman, CentredRanksMatchABruteForceRankWithTies) {
  std::mt19937 gen(4);
  for (int trial = 0; trial < 50; ++trial) {
    const std::int64_t n = 2 + trial * 3;
    std::uniform_int_distribution<int> few(0, 1 + trial % 6);
    std::vector<float> a(n);
    std::vector<double> b(n);
    for (std::int64_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(few(gen));
      b[i] = few(gen) * 0.5;
    }
    std::int64_t sxy = 0, sxx = 0, syy = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t ra = detail::centred_rank2(a.data(), n, i);
      const std::int64_t rb = detail::centred_rank2(b.data(), n, i);
      sxy += ra * rb;
      sxx += ra * ra;
      syy += rb * rb;
    }
    const double want = reference::spearman(std::vector<double>(a.begin(), a.end()), b);
    const float got = detail::spearman_of_sums(sxy, sxx, syy);
    if (std::isnan(want)) {
      EXPECT_EQ(got, 0.0f) << "trial " << trial;  // a constant side: 0, as xplique
    } else {
      EXPECT_NEAR(got, want, 1e-6) << "trial " << trial;
    }
  }
}

// --------------------------------------------------------------- MuFidelity

TEST(MuFidelity, APerfectAttributionOfAnAdditiveModelScoresOne) {
  // g(x) = sum_e w_e x_e; removing pixels (baseline 0) drops g by exactly
  // the attribution phi = w * x over them: Spearman 1, and -1 for -phi.
  const Context ctx = Context::host();
  const std::int64_t n = 2, c = 2, h = 12, w = 12;
  const Images images = random_images(n, c, h, w, Layout::nchw, 21);
  const std::vector<float> weights = test::random_uniform(c * h * w, 22, -1.0f, 1.0f);
  const Model additive = test::host_model(ctx, 1, test::linear_forward(weights, {0.0f}));
  Images phi = images;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t e = 0; e < c * h * w; ++e) phi.data[i * c * h * w + e] *= weights[e];
  MuFidelityOptions options;
  options.grid_size = 6;
  options.nb_samples = 100;
  std::vector<float> rho(n, test::poison());
  mu_fidelity(ctx, additive, images.view(), {0, 0}, phi.view(), rho.data(), options);
  EXPECT_EQ(rho[0], 1.0f);
  EXPECT_EQ(rho[1], 1.0f);
  for (float& v : phi.data) v = -v;
  mu_fidelity(ctx, additive, images.view(), {0, 0}, phi.view(), rho.data(), options);
  EXPECT_EQ(rho[0], -1.0f);
  EXPECT_EQ(rho[1], -1.0f);
}

struct MuCase {
  Layout layout;
  std::int64_t explanation_channels;
  Convention convention;
  std::int64_t batch_size;
  OutputActivation activation;
};

class MuFidelityAgainstReference : public ::testing::TestWithParam<MuCase> {};

TEST_P(MuFidelityAgainstReference, Correlations) {
  const MuCase param = GetParam();
  const Context ctx = Context::host();
  const std::int64_t n = 5, c = 3, h = 10, w = 11;
  const Images images = random_images(n, c, h, w, param.layout, 31);
  const Images e = tied_explanations(n, param.explanation_channels, h, w, param.layout, 32, 4);
  // Outputs rounded to 1/8: many tied score drops.
  const test::CellReader reader{3, {0, 4, 8}, 3};
  const Model model = test::host_model(ctx, 3, [&](ConstImageView b, float* out) {
    reader.forward_host(b, out);
    for (std::int64_t i = 0; i < b.n * 3; ++i) out[i] = std::round(out[i] * 8.0f) / 8.0f;
  });
  MuFidelityOptions options;
  options.grid_size = 4;
  options.nb_samples = 30;
  options.subset_percent = 0.3f;
  options.baseline = 0.5f;
  options.seed = 77;
  options.convention = param.convention;
  options.batch_size = param.batch_size;
  options.activation = param.activation;
  const std::vector<int> targets = {0, 1, 2, 0, 1};
  std::vector<float> rho(n, test::poison());
  mu_fidelity(ctx, model, images.view(), targets, e.view(), rho.data(), options);
  const std::vector<double> want = reference::mu_fidelity(model, images, targets, e, options);
  EXPECT_GT(test::l2_norm(rho), 0.0);
  expect_near_all(rho, want, 1e-6, "correlations");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MuFidelityAgainstReference,
    ::testing::Values(MuCase{Layout::nchw, 1, Convention::paper, 64, OutputActivation::none},
                      MuCase{Layout::nhwc, 3, Convention::paper, 7, OutputActivation::softmax},
                      // batch 64 >= 2 * 30 samples: xplique shares masks by 2 images
                      MuCase{Layout::nchw, 3, Convention::xplique, 64, OutputActivation::none},
                      MuCase{Layout::nhwc, 1, Convention::xplique, 5, OutputActivation::none}));

TEST(MuFidelity, XpliqueSharesMasksWithinAnInputBatchThePaperDoesNot) {
  // Two copies of one image: with shared masks their correlations are equal.
  const Context ctx = Context::host();
  Images images = random_images(2, 1, 8, 8, Layout::nchw, 41);
  std::copy(images.data.begin(), images.data.begin() + 64, images.data.begin() + 64);
  const Images e = random_images(2, 1, 8, 8, Layout::nchw, 42, -1.0f, 1.0f);
  Images same_e = e;
  std::copy(e.data.begin(), e.data.begin() + 64, same_e.data.begin() + 64);
  const test::CellReader reader{4, {1, 5, 10}, 2};
  MuFidelityOptions options;
  options.grid_size = 4;
  options.nb_samples = 20;
  options.batch_size = 40;  // xplique: 40 // min(40, 20) = 2 images per draw
  std::vector<float> rho(2, test::poison());
  options.convention = Convention::xplique;
  mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0, 0}, same_e.view(), rho.data(),
              options);
  EXPECT_EQ(rho[0], rho[1]);
  options.convention = Convention::paper;
  mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0, 0}, same_e.view(), rho.data(),
              options);
  EXPECT_NE(rho[0], rho[1]);
}

TEST(MuFidelity, PaperConventionIsIndependentOfBatchSize) {
  const Context ctx = Context::host();
  const Images images = random_images(3, 1, 9, 9, Layout::nchw, 51);
  const Images e = random_images(3, 1, 9, 9, Layout::nchw, 52, -1.0f, 1.0f);
  const test::CellReader reader{3, {2, 4}, 2};
  std::vector<float> first;
  for (std::int64_t batch : {1, 13, 64, 5000}) {
    MuFidelityOptions options;
    options.batch_size = batch;
    options.nb_samples = 40;
    std::vector<float> rho(3, test::poison());
    mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0, 1, 1}, e.view(), rho.data(),
                options);
    if (first.empty()) first = rho;
    EXPECT_EQ(rho, first) << "batch_size " << batch;
  }
  EXPECT_GT(test::l2_norm(first), 0.0);
}

TEST(MuFidelity, RejectsBadOptions) {
  const Context ctx = Context::host();
  const Images images = random_images(1, 1, 8, 8, Layout::nchw, 1);
  const test::CellReader reader{2, {1}, 2};
  std::vector<float> rho(1);
  MuFidelityOptions options;
  test::expect_error([&] { mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0},
                                       images.view(), rho.data(), options); },
                     "options.grid_size 9 is larger than the image (8 x 8)");
  options.grid_size = 4;
  options.nb_samples = 1;
  test::expect_error([&] { mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0},
                                       images.view(), rho.data(), options); },
                     "options.nb_samples must be >= 2, got 1");
  options.nb_samples = 10;
  options.subset_percent = -0.1f;
  test::expect_error([&] { mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0},
                                       images.view(), rho.data(), options); },
                     "options.subset_percent must be in [0, 1], got -0.1");
}

// ----------------------------------------------- Average Drop/Increase/Gain

TEST(AverageDropIncreaseGain, MatchTheReference) {
  const Context ctx = Context::host();
  const std::int64_t n = 6;
  const Images images = random_images(n, 3, 7, 8, Layout::nhwc, 61);
  const Images e = random_images(n, 3, 7, 8, Layout::nhwc, 62, -1.0f, 1.0f);
  const test::CellReader reader{2, {0, 3}, 3};
  for (const OutputActivation activation : {OutputActivation::none, OutputActivation::sigmoid,
                                            OutputActivation::softmax}) {
    AverageScoreOptions options;
    options.activation = activation;
    options.batch_size = 5;
    std::vector<float> drop(n, test::poison()), increase(n, test::poison()),
        gain(n, test::poison());
    const std::vector<int> targets = {0, 1, 2, 2, 1, 0};
    average_drop_increase_gain(ctx, reader.as_model(ctx), images.view(), targets, e.view(),
                               drop.data(), increase.data(), gain.data(), options);
    const reference::AverageScores want =
        reference::average_scores(reader.as_model(ctx), images, targets, e, activation);
    expect_near_all(drop, want.drop, 1e-5, "drop");
    expect_near_all(gain, want.gain, 1e-5, "gain");
    for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(increase[i], want.increase[i]) << i;
    EXPECT_GT(test::l2_norm(drop) + test::l2_norm(gain), 0.0);
  }
}

// --------------------------------------------------------------- complexity

TEST(Complexity, MatchesTheReferenceAndKnownValues) {
  const Context ctx = Context::host();
  const Images e = random_images(4, 3, 6, 5, Layout::nchw, 71, -1.0f, 1.0f);
  std::vector<float> entropy(4, test::poison()), gini(4, test::poison());
  complexity(ctx, e.view(), entropy.data());
  sparseness(ctx, e.view(), gini.data());
  expect_near_all(entropy, reference::complexity(e), 1e-6, "entropy");
  expect_near_all(gini, reference::sparseness(e), 1e-6, "gini");

  // A uniform map: entropy log(P), Gini 0; one hot pixel: entropy 0, Gini (P-1)/P.
  std::vector<float> maps(2 * 30, 0.25f);
  std::fill(maps.begin() + 30, maps.end(), 0.0f);
  maps[30 + 17] = 3.0f;
  complexity(ctx, {maps.data(), 2, 1, 6, 5, Layout::nchw}, entropy.data());
  sparseness(ctx, {maps.data(), 2, 1, 6, 5, Layout::nchw}, gini.data());
  EXPECT_NEAR(entropy[0], std::log(30.0), 1e-6);
  EXPECT_NEAR(entropy[1], 0.0, 1e-6);
  EXPECT_NEAR(gini[0], 0.0, 1e-6);
  EXPECT_NEAR(gini[1], 29.0 / 30.0, 1e-6);
}

// ---------------------------------------------------------------- stability

TEST(AverageStability, MatchesTheDefinitionForBothConventions) {
  const Context ctx = Context::host();
  const std::int64_t n = 3, c = 2, h = 5, w = 4, size = h * w;
  const Images images = random_images(n, c, h, w, Layout::nchw, 81);
  // An explainer with a nonlinear answer: the squared channel sum per pixel.
  std::int64_t calls = 0, largest = 0;
  const Explainer explainer = [&](ConstImageView x, HostSpan<const int>, float* out) {
    ++calls;
    largest = std::max(largest, x.n);
    for (std::int64_t i = 0; i < x.n; ++i)
      for (std::int64_t p = 0; p < size; ++p) {
        float s = 0.0f;
        for (std::int64_t ch = 0; ch < c; ++ch) s += x.data[i * x.image_size() + ch * size + p];
        out[i * size + p] = s * s;
      }
  };
  const auto explain_one = [&](const std::vector<float>& image) {
    std::vector<double> out(size);
    for (std::int64_t p = 0; p < size; ++p) {
      float s = 0.0f;
      for (std::int64_t ch = 0; ch < c; ++ch) s += image[ch * size + p];
      out[p] = static_cast<double>(s * s);
    }
    return out;
  };
  for (const Convention convention : {Convention::paper, Convention::xplique}) {
    for (const Distance distance : {Distance::l1, Distance::l2}) {
      StabilityOptions options;
      options.nb_samples = 7;
      options.batch_size = 3;
      options.radius = 0.2f;
      options.seed = 5;
      options.distance = distance;
      options.convention = convention;
      largest = 0;
      std::vector<float> got(n, test::poison());
      average_stability(ctx, explainer, size, images.view(), {0, 1, 0}, nullptr, got.data(),
                        options);
      EXPECT_LE(largest, 3);  // batch_size neighbours per call
      for (std::int64_t i = 0; i < n; ++i) {
        const std::vector<float> x = images.image(i);
        const std::vector<double> base = explain_one(x);
        const std::int64_t group = convention == Convention::paper ? i : 0;
        double total = 0.0;
        for (std::int64_t j = 0; j < options.nb_samples; ++j) {
          std::vector<float> neighbour = x;
          for (std::int64_t e = 0; e < c * size; ++e) {
            const float u = detail::curand_philox_uniform(
                options.seed, detail::kRegionNoise +
                                  static_cast<std::uint64_t>((group * 7 + j) * c * size + e));
            neighbour[e] = x[e] + u * options.radius;
          }
          const std::vector<double> other = explain_one(neighbour);
          double d = 0.0;
          for (std::int64_t p = 0; p < size; ++p) {
            d += distance == Distance::l1 ? std::fabs(other[p] - base[p])
                                          : (other[p] - base[p]) * (other[p] - base[p]);
          }
          total += distance == Distance::l1 ? d : std::sqrt(d);
        }
        EXPECT_NEAR(got[i], total / options.nb_samples, 1e-6 * std::max(1.0, total))
            << to_string(convention) << " " << to_string(distance) << " image " << i;
        EXPECT_GT(got[i], 0.0f);
      }
    }
  }
  // Base explanations passed in are used as given: equal to computing them.
  std::vector<float> base(n * size), with_base(n), without(n);
  explainer(images.view(), {0, 1, 0}, base.data());
  average_stability(ctx, explainer, size, images.view(), {0, 1, 0}, base.data(),
                    with_base.data());
  average_stability(ctx, explainer, size, images.view(), {0, 1, 0}, nullptr, without.data());
  EXPECT_EQ(with_base, without);
  // An explainer that ignores its input is perfectly stable.
  const Explainer constant = [&](ConstImageView x, HostSpan<const int>, float* out) {
    std::fill(out, out + x.n * size, 1.5f);
  };
  average_stability(ctx, constant, size, images.view(), {0, 1, 0}, nullptr, without.data());
  for (float v : without) EXPECT_EQ(v, 0.0f);
  const Explainer nan_explainer = [&](ConstImageView x, HostSpan<const int>, float* out) {
    std::fill(out, out + x.n * size, std::nanf(""));
  };
  test::expect_error([&] { average_stability(ctx, nan_explainer, size, images.view(), {0, 1, 0},
                                             base.data(), without.data()); },
                     "the explainer wrote");
}

// ------------------------------------------------------------------ memory

/// Peak bytes of a call on a host context with a counting allocator.
template <class Call>
std::int64_t peak_bytes(Call call) {
  Context ctx = Context::host();
  auto counter = std::make_shared<test::CountingAllocator>();
  ctx.set_allocator(counter);
  call(ctx);
  EXPECT_EQ(counter->live(), 0);
  return counter->peak();
}

TEST(MetricMemory, BoundedByBatchSizeNotByStepsOrSamples) {
  const std::int64_t n = 2, c = 1, h = 32, w = 32;
  const std::int64_t image_bytes = c * h * w * 4;
  const Images images = random_images(n, c, h, w, Layout::nchw, 91);
  const Images e = random_images(n, 1, h, w, Layout::nchw, 92, -1.0f, 1.0f);
  const test::CellReader reader{4, {3, 9}, 10};
  const auto deletion_peak = [&](std::int64_t steps, std::int64_t batch) {
    return peak_bytes([&](const Context& ctx) {
      CausalOptions options;
      options.steps = steps;
      options.batch_size = batch;
      std::vector<float> curves(n * (steps + 1)), aucs(n);
      deletion(ctx, reader.as_model(ctx), images.view(), {0, 1}, e.view(), curves.data(),
               aucs.data(), options);
    });
  };
  // 10 -> 500 steps (same batch): only the curve's scalars grow, 24 bytes a
  // point and image at most (staged curve, weights, counts); 16 -> 32 rows
  // per batch: 16 more perturbed images.
  EXPECT_LE(deletion_peak(500, 16) - deletion_peak(10, 16), n * 490 * 24);
  EXPECT_GE(deletion_peak(50, 32) - deletion_peak(50, 16), 16 * image_bytes);

  const auto mu_peak = [&](std::int64_t samples, std::int64_t batch) {
    return peak_bytes([&](const Context& ctx) {
      MuFidelityOptions options;
      options.nb_samples = samples;
      options.batch_size = batch;
      std::vector<float> rho(n);
      mu_fidelity(ctx, reader.as_model(ctx), images.view(), {0, 1}, e.view(), rho.data(),
                  options);
    });
  };
  // Per sample and image: score, removed mass, drop and two ranks (36 bytes).
  EXPECT_LE(mu_peak(2000, 16) - mu_peak(200, 16), n * 1800 * 36);
  EXPECT_GE(mu_peak(200, 32) - mu_peak(200, 16), 16 * image_bytes);
}

}  // namespace
}  // namespace cuxplain
