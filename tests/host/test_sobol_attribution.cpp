// End-to-end Sobol attribution on the host backend: known answers, forward
// counts, batch-size independence, repeatability and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/design_packing.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::CellReader;

struct Scene {
  std::vector<float> pixels;
  ConstImageView view;
};

Scene make_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, Layout layout,
                  std::uint32_t seed) {
  Scene scene;
  scene.pixels = test::random_uniform(static_cast<std::size_t>(n * c * h * w), seed, 0.1f, 1.0f);
  scene.view = {scene.pixels.data(), n, c, h, w, layout};
  return scene;
}

std::vector<std::int64_t> ranking(const float* scores, std::int64_t count) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return scores[a] > scores[b]; });
  return order;
}

class SobolKnownCells : public ::testing::TestWithParam<std::tuple<Layout, Perturbation>> {};

TEST_P(SobolKnownCells, UnreadCellsScoreExactlyZeroAndReadCellsRankFirst) {
  const auto [layout, perturbation] = GetParam();
  const Context ctx = Context::host();
  const Scene scene = make_images(2, 3, 32, 32, layout, 11);
  const CellReader reader{8, {10, 45, 62}, 4};
  SobolOptions options;
  options.perturbation = perturbation;
  options.batch_size = 100;
  std::vector<float> scores(2 * 64, test::poison());
  sobol_attribution(ctx, reader.as_model(ctx), scene.view, {1, 3}, scores.data(), options);

  for (int image = 0; image < 2; ++image) {
    const float* st = scores.data() + image * 64;
    const auto order = ranking(st, 64);
    std::vector<std::int64_t> top(order.begin(), order.begin() + 3);
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, reader.cells) << "image " << image;
    for (std::int64_t cell = 0; cell < 64; ++cell) {
      if (std::find(reader.cells.begin(), reader.cells.end(), cell) != reader.cells.end()) {
        EXPECT_GT(st[cell], 0.01f) << "read cell " << cell;
      } else {
        EXPECT_EQ(st[cell], 0.0f) << "unread cell " << cell;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    LayoutsAndPerturbations, SobolKnownCells,
    ::testing::Combine(::testing::Values(Layout::nchw, Layout::nhwc),
                       ::testing::Values(Perturbation::inpainting, Perturbation::amplitude)));

TEST(SobolAttribution, BlurringFindsTheReadCells) {
  const Context ctx = Context::host();
  // A constant image blurs to itself, so perturbing with the default 10x10 box
  // would change nothing; use a textured image instead.
  const Scene scene = make_images(1, 1, 40, 40, Layout::nchw, 5);
  const CellReader reader{8, {9, 30}, 2};
  SobolOptions options;
  options.perturbation = Perturbation::blurring;
  std::vector<float> scores(64, test::poison());
  sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0}, scores.data(), options);
  const auto order = ranking(scores.data(), 64);
  std::vector<std::int64_t> top(order.begin(), order.begin() + 2);
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, reader.cells);
  for (std::int64_t cell = 0; cell < 64; ++cell) {
    if (cell != 9 && cell != 30) EXPECT_EQ(scores[cell], 0.0f) << cell;
  }
}

TEST(SobolAttribution, RunsTheModelExactlyNTimesDPlusOne) {
  const Context ctx = Context::host();
  const Scene scene = make_images(3, 1, 16, 16, Layout::nchw, 2);
  const CellReader reader{4, {5}, 2};
  SobolOptions options;
  options.grid_size = 4;
  options.nb_design = 16;
  options.batch_size = 7;
  std::int64_t forwards = 0;
  std::vector<float> scores(3 * 16, test::poison());
  sobol_attribution(ctx, reader.as_model(ctx, &forwards), scene.view, {0, 1, 0}, scores.data(),
                    options);
  EXPECT_EQ(forwards, 3 * 16 * (16 + 1));

  forwards = 0;
  options.first_order = true;
  std::vector<float> first(3 * 16, test::poison());
  sobol_attribution(ctx, reader.as_model(ctx, &forwards), scene.view, {0, 1, 0}, scores.data(),
                    options, first.data());
  EXPECT_EQ(forwards, 3 * 16 * (16 + 2));
}

TEST(SobolAttribution, ResultsIndependentOfBatchSizeAndBitwiseRepeatable) {
  const Context ctx = Context::host();
  const Scene scene = make_images(2, 3, 24, 24, Layout::nhwc, 3);
  const CellReader reader{6, {0, 7, 20, 35}, 3};
  SobolOptions options;
  options.grid_size = 6;
  options.nb_design = 64;
  options.sampler = Sampler::sobol_owen;
  options.seed = 99;
  options.estimator = Estimator::glen;
  options.mask_interpolation = Interpolation::bilinear;
  std::vector<float> reference;
  for (std::int64_t batch : {1, 5, 37, 256, 100000}) {
    options.batch_size = batch;
    std::vector<float> scores(2 * 36, test::poison());
    sobol_attribution(ctx, reader.as_model(ctx), scene.view, {2, 0}, scores.data(), options);
    EXPECT_GT(test::l2_norm(scores), 0.0);
    if (reference.empty()) {
      reference = scores;
      continue;
    }
    for (std::size_t i = 0; i < scores.size(); ++i) {
      // Bitwise: compare representations so NaN would fail too.
      EXPECT_EQ(std::memcmp(&scores[i], &reference[i], sizeof(float)), 0)
          << "batch_size " << batch << " cell " << i;
    }
  }
}

TEST(SobolAttribution, PackedDesignsMatchOneImagePerCallBitwise) {
  // Three images of 8 x (16 + 2) = 144 design rows each: batches of 1 and 7
  // rows split every design, 100 and 143 split them across calls, 145, 200
  // and 300 hold the end of one image and the start of the next, 432 and
  // more hold every image in one call.
  const Context ctx = Context::host();
  const Scene scene = make_images(3, 2, 16, 16, Layout::nhwc, 17);
  const CellReader reader{4, {2, 5, 13}, 3};
  for (const Perturbation perturbation : {Perturbation::inpainting, Perturbation::blurring}) {
    SobolOptions options;
    options.grid_size = 4;
    options.nb_design = 8;
    options.first_order = true;
    options.perturbation = perturbation;
    options.blur_size = 3;
    options.mask_interpolation = Interpolation::bilinear;
    SCOPED_TRACE(to_string(perturbation));
    test::expect_packing_matches_one_image_per_call(
        ctx, reader, scene.view, {0, 2, 1}, 8 * (16 + 2),
        {1, 7, 100, 143, 144, 145, 200, 300, 432, 100000}, test::sobol_outputs(ctx, options, 16));
  }
}

TEST(SobolAttribution, EveryEstimatorIgnoresTheOutputsScaleAtAnyMagnitude) {
  // Sobol indices are ratios of variances: scaling the outputs by a power of
  // two (exact in float and double) or flipping their sign changes nothing,
  // bit for bit, even with outputs near float's limit (sums in double).
  const Context ctx = Context::host();
  const Scene scene = make_images(1, 1, 16, 16, Layout::nchw, 21);
  const CellReader reader{4, {5, 10}, 2};
  for (Estimator estimator : {Estimator::jansen, Estimator::homma, Estimator::janon,
                              Estimator::glen, Estimator::saltelli}) {
    SobolOptions options;
    options.grid_size = 4;
    options.nb_design = 64;
    options.estimator = estimator;
    const auto scores_for = [&](float factor) {
      const Model scaled{reader.num_outputs, [&](ConstImageView batch, float* out) {
        reader.forward_host(batch, out);
        for (std::int64_t i = 0; i < batch.n * reader.num_outputs; ++i) out[i] *= factor;
      }};
      std::vector<float> scores(16, test::poison());
      sobol_attribution(ctx, scaled, scene.view, {1}, scores.data(), options);
      return scores;
    };
    const std::vector<float> plain = scores_for(1.0f);
    EXPECT_GT(test::l2_norm(plain), 0.0);
    for (float factor : {-1.0f, std::ldexp(1.0f, 63), -std::ldexp(1.0f, 120)}) {
      EXPECT_EQ(scores_for(factor), plain) << to_string(estimator) << " x " << factor;
    }
    const std::vector<float> large = scores_for(1e19f);
    for (std::size_t i = 0; i < plain.size(); ++i) {
      ASSERT_TRUE(std::isfinite(large[i])) << to_string(estimator) << " " << i;
      EXPECT_NEAR(large[i], plain[i], 1e-4 * test::l2_norm(plain)) << to_string(estimator);
    }
  }
}

TEST(SobolAttribution, FirstOrderOfAnAdditiveModelMatchesTotalOrder) {
  // For y = sum_j w_j m_j the indices satisfy S_i = ST_i; the estimators reach
  // it up to their sampling error.
  const Context ctx = Context::host();
  std::vector<float> ones(16 * 16, 1.0f);
  const ConstImageView image{ones.data(), 1, 1, 16, 16, Layout::nchw};
  const Model additive{1, [](ConstImageView batch, float* out) {
    for (std::int64_t i = 0; i < batch.n; ++i) {
      const float* px = batch.data + i * batch.image_size();
      out[i] = 3.0f * px[0] + 1.0f * px[15] + 2.0f * px[255];  // cells 0, 3, 15
    }
  }};
  SobolOptions options;
  options.grid_size = 4;
  options.nb_design = 1024;
  options.first_order = true;
  std::vector<float> total(16, test::poison()), first(16, test::poison());
  sobol_attribution(ctx, additive, image, {0}, total.data(), options, first.data());
  const double variance = 9.0 + 1.0 + 4.0;
  EXPECT_NEAR(total[0], 9.0 / variance, 0.05);
  EXPECT_NEAR(total[3], 1.0 / variance, 0.05);
  EXPECT_NEAR(total[15], 4.0 / variance, 0.05);
  for (int cell : {0, 3, 15}) EXPECT_NEAR(first[cell], total[cell], 0.05) << cell;
  EXPECT_EQ(first[5], 0.0f);
  EXPECT_EQ(total[5], 0.0f);
}

TEST(SobolAttribution, PerChannelMasksScoreEachChannel) {
  const Context ctx = Context::host();
  const Scene scene = make_images(1, 3, 16, 16, Layout::nchw, 8);
  // Reads channel 2 of cell 5 only.
  const Model model{1, [](ConstImageView batch, float* out) {
    for (std::int64_t i = 0; i < batch.n; ++i) {
      const float* px = batch.data + i * batch.image_size() + 2 * 16 * 16;
      double sum = 0.0;
      for (int y = 4; y < 8; ++y)
        for (int x = 4; x < 8; ++x) sum += px[y * 16 + x];
      out[i] = static_cast<float>(std::exp(sum / 16.0));
    }
  }};
  SobolOptions options;
  options.grid_size = 4;
  options.per_channel = true;
  std::vector<float> scores(4 * 4 * 3, test::poison());
  sobol_attribution(ctx, model, scene.view, {0}, scores.data(), options);
  for (std::int64_t k = 0; k < 48; ++k) {
    if (k == 5 * 3 + 2) EXPECT_GT(scores[k], 0.5f);
    else EXPECT_EQ(scores[k], 0.0f) << k;
  }
}

// ---- bad input: each names the argument and value; the next call works ----

class SobolBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    scene = make_images(2, 1, 16, 16, Layout::nchw, 1);
    scores.assign(2 * 16, 7.0f);
    options.grid_size = 4;
    options.nb_design = 8;
  }
  void expect_error(const std::function<void()>& call, const std::string& needle) {
    test::expect_error(call, needle);
    EXPECT_TRUE(std::all_of(scores.begin(), scores.end(), [](float v) { return v == 7.0f; }))
        << "scores written by a failing call";
    // The library is still usable.
    std::vector<float> fresh(2 * 16, test::poison());
    sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, fresh.data(), options);
    EXPECT_GT(test::l2_norm(fresh), 0.0);
  }
  Context ctx = Context::host();
  Scene scene;
  CellReader reader{4, {6}, 2};
  std::vector<float> scores;
  SobolOptions options;
};

TEST_F(SobolBadInput, NbDesignNotPowerOfTwo) {
  auto bad = options;
  bad.nb_design = 24;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, scores.data(), bad); },
               "options.nb_design must be a power of two >= 2, got 24");
}

TEST_F(SobolBadInput, GridSizeBelowOne) {
  auto bad = options;
  bad.grid_size = 0;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, scores.data(), bad); },
               "options.grid_size must be >= 1, got 0");
}

TEST_F(SobolBadInput, GridLargerThanImage) {
  auto bad = options;
  bad.grid_size = 17;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, scores.data(), bad); },
               "options.grid_size 17 is larger than the image (16 x 16)");
}

TEST_F(SobolBadInput, TargetOutOfRange) {
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 2}, scores.data(), options); },
               "targets[1] = 2 is outside [0, 2)");
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {-1, 0}, scores.data(), options); },
               "targets[0] = -1");
}

TEST_F(SobolBadInput, TargetCountMismatch) {
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0}, scores.data(), options); },
               "targets has 1 entries for 2 images");
}

TEST_F(SobolBadInput, BatchSizeBelowOne) {
  auto bad = options;
  bad.batch_size = 0;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, scores.data(), bad); },
               "options.batch_size must be >= 1, got 0");
}

TEST_F(SobolBadInput, EmptyBatch) {
  ConstImageView empty = scene.view;
  empty.n = 0;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), empty, HostSpan<const int>{}, scores.data(), options); },
               "images.n must be >= 1 (empty batch), got 0");
}

TEST_F(SobolBadInput, NullData) {
  ConstImageView null_images = scene.view;
  null_images.data = nullptr;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), null_images, {0, 1}, scores.data(), options); },
               "images.data is null");
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, nullptr, options); },
               "scores is null");
}

TEST_F(SobolBadInput, FirstOrderWithoutItsOutput) {
  auto bad = options;
  bad.first_order = true;
  expect_error([&] { sobol_attribution(ctx, reader.as_model(ctx), scene.view, {0, 1}, scores.data(), bad); },
               "first_order_scores");
}

TEST_F(SobolBadInput, ModelWritesNaN) {
  const Model nan_model{2, [&](ConstImageView batch, float* out) {
    reader.forward_host(batch, out);
    out[(batch.n - 1) * 2 + 1] = std::numeric_limits<float>::quiet_NaN();
  }};
  expect_error([&] { sobol_attribution(ctx, nan_model, scene.view, {1, 1}, scores.data(), options); },
               "non-finite");
}

TEST_F(SobolBadInput, ModelWritesInfOnSecondImage) {
  // Images are explained in order, 8 * (16 + 1) = 136 rows each: rows past
  // the first image's are the second image's.
  std::int64_t rows_seen = 0;
  const Model inf_model{2, [&](ConstImageView batch, float* out) {
    reader.forward_host(batch, out);
    if (rows_seen >= 136) out[0] = std::numeric_limits<float>::infinity();
    rows_seen += batch.n;
  }};
  expect_error([&] { sobol_attribution(ctx, inf_model, scene.view, {0, 0}, scores.data(), options); },
               "targets[1] = 0 in ");
}

TEST_F(SobolBadInput, ModelWritesNothing) {
  const Model lazy{2, [](ConstImageView, float*) {}};
  expect_error([&] { sobol_attribution(ctx, lazy, scene.view, {0, 1}, scores.data(), options); },
               "or no output");
}

TEST_F(SobolBadInput, ModelThrows) {
  const Model throwing{2, [](ConstImageView, float*) { throw std::runtime_error("out of memory in layer 3"); }};
  // Two designs of 136 rows in a batch of 256: the end of the batch is image 1's.
  expect_error([&] { sobol_attribution(ctx, throwing, scene.view, {0, 1}, scores.data(), options); },
               "model.forward threw on images 0..1 (design rows 0..135 of image 0 to 0..119 of "
               "image 1)");
  auto small = options;
  small.batch_size = 100;
  expect_error([&] { sobol_attribution(ctx, throwing, scene.view, {0, 1}, scores.data(), small); },
               "model.forward threw on image 0 (design rows 0..99)");
  expect_error([&] { sobol_attribution(ctx, throwing, scene.view, {0, 1}, scores.data(), options); },
               "out of memory in layer 3");
}

TEST_F(SobolBadInput, EmptyModel) {
  const Model no_forward{2, nullptr};
  expect_error([&] { sobol_attribution(ctx, no_forward, scene.view, {0, 1}, scores.data(), options); },
               "model.forward is empty");
}

}  // namespace
}  // namespace cuxplain
