// CRAFT on the host backend: the crop grid, crops against a double-precision
// cv2 INTER_CUBIC reference, the concept fit against A recomputed from a
// synthetic layer, concept importance with a head that reads two concepts
// only, coefficient maps, top crops, the recursion into sub-concepts and the
// argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuxplain/craft.hpp>
#include <cuxplain/detail/upsample.hpp>

#include "common/craft_fixtures.hpp"
#include "common/test_utils.hpp"
#include "common/tf_resize_cases.hpp"

namespace cuxplain {
namespace {

using test::CraftImages;
using test::QuadrantLayer;
using test::TwoReadHeads;

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double max_abs(const std::vector<double>& values) {
  double m = 0.0;
  for (double v : values) m = std::max(m, std::fabs(v));
  return m;
}

std::vector<std::int64_t> iota_ids(std::int64_t count) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

/// Concepts in [0, count) by score, best first (stable: ties to the lower id).
std::vector<std::int64_t> ranking(const std::vector<float>& scores) {
  std::vector<std::int64_t> order = iota_ids(static_cast<std::int64_t>(scores.size()));
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return scores[static_cast<std::size_t>(a)] > scores[static_cast<std::size_t>(b)];
  });
  return order;
}

// ---- crop_grid ----

TEST(CraftCropGrid, KnownGrids) {
  const craft::CropGrid small = craft::crop_grid(28, 28, 10);
  EXPECT_EQ(small.patch, 10);
  EXPECT_EQ(small.stride, 8);
  EXPECT_EQ(small.rows, 3);
  EXPECT_EQ(small.cols, 3);
  EXPECT_EQ(small.per_image(), 9);

  const craft::CropGrid imagenet = craft::crop_grid(224, 224, 64);
  EXPECT_EQ(imagenet.stride, 51);
  EXPECT_EQ(imagenet.rows, 4);  // (224 - 64) / 51 + 1
  EXPECT_EQ(imagenet.cols, 4);

  // Non-square: 20 x 36, patch 10: rows (20 - 10) / 8 + 1 = 2, cols (36 - 10) / 8 + 1 = 4.
  const craft::CropGrid wide = craft::crop_grid(20, 36, 10);
  EXPECT_EQ(wide.rows, 2);
  EXPECT_EQ(wide.cols, 4);
  EXPECT_EQ(wide.per_image(), 8);
  // Crop 13 is crop 5 of image 1: row 1, column 1.
  EXPECT_EQ(wide.top(13), 8);
  EXPECT_EQ(wide.left(13), 8);
  EXPECT_EQ(wide.top(3), 0);
  EXPECT_EQ(wide.left(3), 24);

  const craft::CropGrid tall = craft::crop_grid(50, 12, 12);  // stride int(9.6) = 9
  EXPECT_EQ(tall.stride, 9);
  EXPECT_EQ(tall.rows, 5);  // (50 - 12) / 9 + 1
  EXPECT_EQ(tall.cols, 1);
}

TEST(CraftCropGrid, StrideIsIntOfPointEightPatchForEveryPatch) {
  for (std::int64_t patch = 2; patch <= 40; ++patch) {
    const craft::CropGrid grid = craft::crop_grid(40, 57, patch);
    // Python's int(0.8 * patch) in double, as xplique computes it.
    const auto stride = static_cast<std::int64_t>(0.8 * static_cast<double>(patch));
    EXPECT_EQ(grid.stride, stride) << "patch " << patch;
    EXPECT_EQ(grid.rows, (40 - patch) / stride + 1) << "patch " << patch;
    EXPECT_EQ(grid.cols, (57 - patch) / stride + 1) << "patch " << patch;
    // The last crop lies inside the image, one more would not.
    EXPECT_LE((grid.rows - 1) * grid.stride + patch, 40);
    EXPECT_GT(grid.rows * grid.stride + patch, 40);
  }
}

TEST(CraftCropGrid, BadPatchSizesAreNamed) {
  for (const std::int64_t patch : {std::int64_t{0}, std::int64_t{-3}, std::int64_t{29},
                                   std::int64_t{1}}) {
    const std::string message = test::error_message([&] { craft::crop_grid(28, 40, patch); });
    test::expect_mentions(message, "patch_size");
    test::expect_mentions(message, std::to_string(patch));
  }
  // Larger than the shorter side of a non-square image.
  test::expect_error([] { craft::crop_grid(40, 20, 21); }, "21");
  EXPECT_EQ(craft::crop_grid(40, 20, 20).cols, 1);
}

// ---- extract_crops ----

class CraftExtractCrops : public ::testing::TestWithParam<test::CropCase> {};

TEST_P(CraftExtractCrops, MatchesCutThenResizeInDouble) {
  const test::CropCase p = GetParam();
  const Context ctx = Context::host();
  // Pixels in [0, 1] with full texture: the reference must get every tap right.
  CraftImages images = test::random_craft_images(p.n, p.c, p.h, p.w, p.layout, 7);
  for (auto& v : images.pixels) v = 2.0f * v - 1.0f;
  const std::int64_t size = p.c * p.h * p.w;
  // One extra crop's worth of poison after the range: it must stay untouched.
  std::vector<float> crops(static_cast<std::size_t>((p.count + 1) * size), test::poison());
  craft::extract_crops(ctx, images.view(), p.patch, p.first, p.count, crops.data(), p.resize);

  for (std::int64_t k = 0; k < p.count; ++k) {
    const std::vector<double> expected = test::reference_crop(images, p.patch, p.first + k, p.resize);
    for (std::int64_t e = 0; e < size; ++e) {
      ASSERT_NEAR(crops[static_cast<std::size_t>(k * size + e)],
                  expected[static_cast<std::size_t>(e)], 1e-5)
          << "crop " << p.first + k << " element " << e;
    }
  }
  for (std::int64_t e = 0; e < size; ++e) {
    ASSERT_TRUE(std::isnan(crops[static_cast<std::size_t>(p.count * size + e)]))
        << "written past the range at " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CraftExtractCrops,
    ::testing::ValuesIn(test::with_both_resizes({
        test::CropCase{Layout::nchw, 2, 1, 28, 28, 10, 0, 18},   // every crop of two images
        test::CropCase{Layout::nhwc, 2, 3, 28, 28, 10, 5, 8},    // crops 5..12: image 0 and image 1
        test::CropCase{Layout::nchw, 3, 3, 20, 36, 12, 2, 4},    // 1 x 3 grid, three images
        test::CropCase{Layout::nhwc, 2, 1, 24, 17, 7, 10, 5},    // 4 x 3 grid, across images
        test::CropCase{Layout::nchw, 1, 3, 16, 16, 5, 0, 9},     // stride 4, crop 5 -> 16 (x3.2)
        test::CropCase{Layout::nhwc, 3, 3, 17, 9, 9, 0, 6}})),   // patch = width, 2 x 1 grid
    test::crop_case_param_name);

using test::TfResizeCase;

std::vector<TfResizeCase> tf_resize_cases() {
  std::string error;
  std::vector<TfResizeCase> cases =
      test::read_tf_resize_cases(std::string(CUXPLAIN_TEST_DATA_DIR) + "/tf_resize_bicubic.txt",
                                 error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_GE(cases.size(), 10u);
  return cases;
}

TEST(CraftTensorFlowResize, TheResizeMathGivesTfImageResizesBits) {
  // Every fixture, through the per-element math the crop kernels share:
  // non-square, same size, a single pixel, two rows (renormalized edges),
  // downscaling.
  for (const TfResizeCase& c : tf_resize_cases()) {
    for (std::int64_t y = 0; y < c.out_h; ++y) {
      const detail::CubicTaps ty = detail::tf_cubic_taps(y, c.in_h, c.out_h);
      for (std::int64_t x = 0; x < c.out_w; ++x) {
        const detail::CubicTaps tx = detail::tf_cubic_taps(x, c.in_w, c.out_w);
        for (std::int64_t ch = 0; ch < c.channels; ++ch) {
          const float value =
              detail::tf_bicubic_value(c.input.data(), c.in_w, c.channels, ty, tx, ch);
          ASSERT_EQ(value, c.output[static_cast<std::size_t>((y * c.out_w + x) * c.channels + ch)])
              << c.name << " at (" << y << ", " << x << ", " << ch << ")";
        }
      }
    }
  }
}

TEST(CraftTensorFlowResize, CropsEqualTfImageResizeOfTheCutPatch) {
  // The fixture's input is the top-left patch of an image of the output's
  // size (the rest random): crop 0 is that patch resized by TensorFlow.
  const Context ctx = Context::host();
  int checked = 0;
  for (const TfResizeCase& c : tf_resize_cases()) {
    if (c.in_h != c.in_w || c.in_h < 2 || c.in_h > std::min(c.out_h, c.out_w)) continue;
    for (const Layout layout : {Layout::nhwc, Layout::nchw}) {
      CraftImages images = test::random_craft_images(1, c.channels, c.out_h, c.out_w, layout, 5);
      for (std::int64_t y = 0; y < c.in_h; ++y)
        for (std::int64_t x = 0; x < c.in_w; ++x)
          for (std::int64_t ch = 0; ch < c.channels; ++ch)
            images.pixels[test::pixel_index(layout, c.channels, c.out_h, c.out_w, 0, ch, y, x)] =
                c.input[static_cast<std::size_t>((y * c.in_w + x) * c.channels + ch)];
      std::vector<float> crop(images.pixels.size(), test::poison());
      craft::extract_crops(ctx, images.view(), c.in_h, 0, 1, crop.data());  // the default resize
      for (std::int64_t y = 0; y < c.out_h; ++y)
        for (std::int64_t x = 0; x < c.out_w; ++x)
          for (std::int64_t ch = 0; ch < c.channels; ++ch)
            ASSERT_EQ(crop[test::pixel_index(layout, c.channels, c.out_h, c.out_w, 0, ch, y, x)],
                      c.output[static_cast<std::size_t>((y * c.out_w + x) * c.channels + ch)])
                << c.name << (layout == Layout::nhwc ? " nhwc" : " nchw") << " at (" << y << ", "
                << x << ", " << ch << ")";
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

TEST(CraftExtractCropsProperties, WholeImagePatchIsAnExactCopy) {
  const Context ctx = Context::host();
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    const CraftImages images = test::random_craft_images(3, 3, 16, 16, layout, 4);
    std::vector<float> crops(images.pixels.size(), test::poison());
    craft::extract_crops(ctx, images.view(), 16, 0, 3, crops.data());
    EXPECT_TRUE(bitwise_equal(crops, images.pixels));
  }
}

TEST(CraftExtractCropsProperties, CropKComesFromImageKOverPerImageAtItsGridPosition) {
  // Each image constant, with its own value: crop k is constant with the value
  // of image k / per_image. Then a ramp image: a crop of x + 100 y resized
  // from its own patch keeps the ramp's offset, top * 100 + left, at the
  // value the reference gives for its first pixel.
  const Context ctx = Context::host();
  const std::int64_t n = 3, h = 20, w = 36, patch = 10;
  const craft::CropGrid grid = craft::crop_grid(h, w, patch);
  CraftImages constant{{}, n, 1, h, w, Layout::nchw};
  for (std::int64_t i = 0; i < n; ++i)
    constant.pixels.insert(constant.pixels.end(), static_cast<std::size_t>(h * w),
                           static_cast<float>(i + 1));
  const std::int64_t count = n * grid.per_image();
  std::vector<float> crops(static_cast<std::size_t>(count * h * w), test::poison());
  craft::extract_crops(ctx, constant.view(), patch, 0, count, crops.data());
  for (std::int64_t k = 0; k < count; ++k) {
    for (std::int64_t e = 0; e < h * w; ++e) {
      ASSERT_NEAR(crops[static_cast<std::size_t>(k * h * w + e)],
                  static_cast<double>(k / grid.per_image() + 1), 1e-6)
          << "crop " << k;
    }
  }

  CraftImages ramp{{}, 2, 1, h, w, Layout::nhwc};
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x) ramp.pixels.push_back(static_cast<float>(x + 100 * y + 1000 * i));
  const std::int64_t ramp_count = 2 * grid.per_image();
  std::vector<float> ramp_crops(static_cast<std::size_t>(ramp_count * h * w), test::poison());
  craft::extract_crops(ctx, ramp.view(), patch, 0, ramp_count, ramp_crops.data());
  for (std::int64_t k = 0; k < ramp_count; ++k) {
    // Mean of the resized crop = mean of the ramp over the crop, up to edge
    // effects that are the same for every crop: compare against crop 0.
    double mean = 0.0, mean0 = 0.0;
    for (std::int64_t e = 0; e < h * w; ++e) {
      mean += ramp_crops[static_cast<std::size_t>(k * h * w + e)];
      mean0 += ramp_crops[static_cast<std::size_t>(e)];
    }
    const double offset = (mean - mean0) / static_cast<double>(h * w);
    const double expected = 1000.0 * static_cast<double>(k / grid.per_image()) +
                            100.0 * static_cast<double>(grid.top(k)) +
                            static_cast<double>(grid.left(k));
    EXPECT_NEAR(offset, expected, 1e-2) << "crop " << k;
  }
}

// ---- fit ----

struct FitScene {
  CraftImages images;
  QuadrantLayer layer;
  craft::SplitModel model;
};

void expect_non_negative_finite(const std::vector<float>& values, const std::string& what) {
  ASSERT_FALSE(values.empty()) << what;
  for (std::size_t e = 0; e < values.size(); ++e) {
    ASSERT_TRUE(std::isfinite(values[e]) && values[e] >= 0.0f) << what << " entry " << e << " = " << values[e];
  }
}

TEST(CraftFit, FactorsTheActivationsOfEveryCrop) {
  const Context ctx = Context::host();
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    const CraftImages images = test::random_craft_images(4, 3, 28, 28, layout, 21);
    const QuadrantLayer layer(6, 3, 28, 28, true, 5);
    test::CallCounts counts;
    const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{}, &counts);
    craft::CraftOptions options = test::small_craft_options(3);
    const craft::Concepts concepts = craft::fit(ctx, model, images.view(), options);

    EXPECT_EQ(concepts.rank, 3);
    EXPECT_EQ(concepts.features, 6);
    EXPECT_EQ(concepts.grid.patch, 10);
    EXPECT_EQ(concepts.grid.stride, 8);
    EXPECT_EQ(concepts.grid.rows, 3);
    EXPECT_EQ(concepts.grid.cols, 3);
    EXPECT_EQ(concepts.crops, 4 * 9);
    ASSERT_EQ(concepts.U.size(), 36 * 3);
    ASSERT_EQ(concepts.W.size(), 3 * 6);
    // Every crop went through g once, batch_size at a time.
    EXPECT_EQ(counts.g_rows, 36);
    EXPECT_LE(counts.g_max_batch, options.batch_size);
    EXPECT_EQ(counts.h_rows, 0);

    const std::vector<float> u = test::download(ctx, concepts.U);
    const std::vector<float> w = test::download(ctx, concepts.W);
    expect_non_negative_finite(u, "U");
    expect_non_negative_finite(w, "W");
    const std::vector<double> a = layer.reference_a(images, 10, iota_ids(36));
    const double direct = test::relative_residual(a, u, w, 36, 6, 3);
    EXPECT_NEAR(concepts.nmf.relative_error, direct, 1e-4);
    EXPECT_GT(concepts.nmf.relative_error, 0.0);
    EXPECT_LT(concepts.nmf.relative_error, 0.2);
    EXPECT_GE(concepts.nmf.iterations, 1);
  }
}

TEST(CraftFit, PlantedRankThreeIsFoundExactly) {
  // c = 3 and a layer that weighs colours alike everywhere: A = C M^T, rank 3.
  const Context ctx = Context::host();
  const CraftImages images = test::planted_craft_images(6, 28, 28, Layout::nhwc, 3);
  const QuadrantLayer layer(6, 3, 28, 28, false, 8);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  const std::vector<double> a = layer.reference_a(images, 10, iota_ids(54));

  craft::CraftOptions options = test::small_craft_options(3);
  options.alpha_w = 0.0f;
  options.nmf.max_iter = 2000;
  options.nmf.tol = 1e-7;
  const craft::Concepts concepts = craft::fit(ctx, model, images.view(), options);
  const std::vector<float> u = test::download(ctx, concepts.U);
  const std::vector<float> w = test::download(ctx, concepts.W);
  expect_non_negative_finite(u, "U");
  expect_non_negative_finite(w, "W");
  const double direct = test::relative_residual(a, u, w, 54, 6, 3);
  EXPECT_NEAR(concepts.nmf.relative_error, direct, 1e-4);
  EXPECT_LT(direct, 1e-2);

  // The planted structure is not trivially low rank: one concept leaves
  // most of it unexplained.
  options.nmf.rank = 1;
  const craft::Concepts one = craft::fit(ctx, model, images.view(), options);
  const double one_error =
      test::relative_residual(a, test::download(ctx, one.U), test::download(ctx, one.W), 54, 6, 1);
  EXPECT_NEAR(one.nmf.relative_error, one_error, 1e-4);
  EXPECT_GT(one_error, 0.05);
}

TEST(CraftFit, IndependentOfBatchSizeAndBitwiseRepeatable) {
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(5, 1, 28, 28, Layout::nchw, 13);
  const QuadrantLayer layer(6, 1, 28, 28, true, 17);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  craft::CraftOptions options = test::small_craft_options(4);

  options.batch_size = 64;
  const craft::Concepts reference = craft::fit(ctx, model, images.view(), options);
  const std::vector<float> w0 = test::download(ctx, reference.W);
  const std::vector<float> u0 = test::download(ctx, reference.U);
  EXPECT_GT(test::l2_norm(w0), 0.0);

  const craft::Concepts again = craft::fit(ctx, model, images.view(), options);
  EXPECT_TRUE(bitwise_equal(test::download(ctx, again.W), w0)) << "second run differs";
  EXPECT_TRUE(bitwise_equal(test::download(ctx, again.U), u0)) << "second run differs";
  EXPECT_EQ(again.nmf.iterations, reference.nmf.iterations);

  for (const std::int64_t batch : {std::int64_t{1}, std::int64_t{7}, std::int64_t{45}}) {
    options.batch_size = batch;
    const craft::Concepts other = craft::fit(ctx, model, images.view(), options);
    // A is built crop by crop, so it is the same bit for bit: so is the NMF.
    EXPECT_TRUE(bitwise_equal(test::download(ctx, other.W), w0)) << "batch_size " << batch;
    EXPECT_TRUE(bitwise_equal(test::download(ctx, other.U), u0)) << "batch_size " << batch;
    EXPECT_EQ(other.nmf.relative_error, reference.nmf.relative_error) << "batch_size " << batch;
  }
}

TEST(CraftFit, AlphaWIsScikitLearnsScaledL2Penalty) {
  // alpha_w adds l2_u += alpha_w p and l2_w += alpha_w n (n crops, p
  // channels): the objective reported is that of the returned factors with
  // those penalties, computed here from A recomputed in double.
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(3, 1, 28, 28, Layout::nchw, 31);
  const QuadrantLayer layer(6, 1, 28, 28, true, 3);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  craft::CraftOptions options = test::small_craft_options(2);
  options.alpha_w = 0.05f;
  const craft::Concepts concepts = craft::fit(ctx, model, images.view(), options);
  const std::vector<float> u = test::download(ctx, concepts.U);
  const std::vector<float> w = test::download(ctx, concepts.W);
  const std::vector<double> a = layer.reference_a(images, 10, iota_ids(27));
  const double rel = test::relative_residual(a, u, w, 27, 6, 2);
  double norm_a2 = 0.0, norm_u2 = 0.0, norm_w2 = 0.0;
  for (double v : a) norm_a2 += v * v;
  for (float v : u) norm_u2 += static_cast<double>(v) * v;
  for (float v : w) norm_w2 += static_cast<double>(v) * v;
  const double expected = 0.5 * rel * rel * norm_a2 + 0.5 * 0.05 * 6 * norm_u2 + 0.5 * 0.05 * 27 * norm_w2;
  EXPECT_NEAR(concepts.nmf.loss, expected, 1e-4 * expected);
}

// ---- concept_importance ----

struct ImportanceScene {
  Context ctx = Context::host();
  CraftImages images = test::random_craft_images(3, 3, 28, 28, Layout::nchw, 41);
  QuadrantLayer layer{6, 3, 28, 28, true, 43};
  test::CallCounts counts;
  craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{}, &counts);
  std::vector<float> identity = test::identity_bank(6);
  craft::CraftOptions options = [] {
    craft::CraftOptions o = test::small_craft_options(6);
    o.batch_size = 20;
    return o;
  }();
};

void expect_reads_only(const float* st, std::int64_t r, const std::vector<std::int64_t>& read,
                       const std::string& what) {
  std::vector<float> scores(st, st + r);
  const std::vector<std::int64_t> order = ranking(scores);
  std::vector<std::int64_t> top(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(read.size()));
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, read) << what;
  for (std::int64_t k = 0; k < r; ++k) {
    if (std::find(read.begin(), read.end(), k) != read.end()) {
      EXPECT_GT(st[k], 0.05f) << what << " read concept " << k;
    } else {
      EXPECT_EQ(st[k], 0.0f) << what << " unread concept " << k;
    }
  }
}

TEST(CraftImportance, ConceptsTheHeadDoesNotReadScoreExactlyZero) {
  ImportanceScene s;
  std::vector<float> importances(6, test::poison()), per_image(3 * 6, test::poison());
  craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {0, 0, 0},
                            importances.data(), s.options, per_image.data());
  expect_reads_only(importances.data(), 6, {2, 4}, "mean");
  for (std::int64_t i = 0; i < 3; ++i) expect_reads_only(per_image.data() + i * 6, 6, {2, 4}, "image " + std::to_string(i));
  // Output 0 weighs channel 2 twice as much as channel 4 (and the layer's
  // channels are alike): concept 2 ranks first.
  EXPECT_GT(importances[2], importances[4]);
  for (std::int64_t k = 0; k < 6; ++k) {
    double mean = 0.0;
    for (std::int64_t i = 0; i < 3; ++i) mean += per_image[static_cast<std::size_t>(i * 6 + k)];
    EXPECT_NEAR(importances[static_cast<std::size_t>(k)], mean / 3.0, 1e-6) << k;
  }
}

TEST(CraftImportance, RunsHExactlyNbDesignTimesRPlusOneRowsPerImage) {
  ImportanceScene s;
  std::vector<float> importances(6, test::poison());
  craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {0, 1, 0},
                            importances.data(), s.options);
  EXPECT_EQ(s.counts.h_rows, 3 * s.options.nb_design * (6 + 1));
  // The three images (one g batch) run their designs back to back: every h
  // call but the last holds batch_size rows.
  EXPECT_EQ(s.counts.h_max_batch, s.options.batch_size);
  EXPECT_EQ(s.counts.h_calls,
            (s.counts.h_rows + s.options.batch_size - 1) / s.options.batch_size);
  // Each image goes through g once (its own activations, not crops).
  EXPECT_EQ(s.counts.g_rows, 3);
  for (float v : importances) EXPECT_TRUE(std::isfinite(v));
}

TEST(CraftImportance, EachImageUsesItsOwnTarget) {
  ImportanceScene s;
  std::vector<float> importances(6, test::poison()), per_image(3 * 6, test::poison());
  craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {0, 1, 0},
                            importances.data(), s.options, per_image.data());
  expect_reads_only(per_image.data() + 0 * 6, 6, {2, 4}, "image 0 (output 0)");
  expect_reads_only(per_image.data() + 1 * 6, 6, {0, 1}, "image 1 (output 1)");
  expect_reads_only(per_image.data() + 2 * 6, 6, {2, 4}, "image 2 (output 0)");
  expect_reads_only(importances.data(), 6, {0, 1, 2, 4}, "mean");

  std::vector<float> all_one(6, test::poison());
  craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {1, 1, 1},
                            all_one.data(), s.options);
  expect_reads_only(all_one.data(), 6, {0, 1}, "targets 1");
}

TEST(CraftImportance, BitwiseRepeatableAndIndependentOfBatchSize) {
  ImportanceScene s;
  std::vector<float> first(6, test::poison());
  craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {0, 1, 0},
                            first.data(), s.options);
  for (const std::int64_t batch : {std::int64_t{20}, std::int64_t{1}, std::int64_t{7}, std::int64_t{500}}) {
    s.options.batch_size = batch;
    std::vector<float> other(6, test::poison());
    craft::concept_importance(s.ctx, s.model, s.identity.data(), 6, s.images.view(), {0, 1, 0},
                              other.data(), s.options);
    for (std::size_t k = 0; k < 6; ++k) EXPECT_NEAR(other[k], first[k], 1e-6) << "batch " << batch << " concept " << k;
  }
}

/// sum_l sum_k gamma_k a[k][l]: one output, linear in the concepts.
struct LinearHead {
  static constexpr std::int64_t num_outputs = 1;
  std::vector<double> gamma;
  void forward_host(const float* activations, std::int64_t n, float* out) const {
    const auto channels = static_cast<std::int64_t>(gamma.size());
    for (std::int64_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (std::int64_t k = 0; k < channels; ++k)
        for (std::int64_t l = 0; l < 4; ++l) s += gamma[static_cast<std::size_t>(k)] * activations[(i * channels + k) * 4 + l];
      out[i] = static_cast<float>(s);
    }
  }
};

/// Point `index` of the unscrambled Halton sequence in base `prime`
/// (scipy.stats.qmc.Halton(scramble=False)): the radical inverse of index.
double radical_inverse(std::int64_t index, std::int64_t prime) {
  double value = 0.0, scale = 1.0 / static_cast<double>(prime);
  for (; index > 0; index /= prime, scale /= static_cast<double>(prime))
    value += static_cast<double>(index % prime) * scale;
  return value;
}

TEST(CraftImportance, LinearHeadMatchesJansenOnTheHaltonDesignInDouble) {
  // With the identity bank, h(m) = sum_k gamma_k S_k m_k, S_k = the sum of
  // channel k's activations over the locations. Jansen's estimator on the
  // design A = Halton dims [0, r), B = dims [r, 2r), points skip..skip+N-1
  // (xplique: skip 0), C_i = A with column i from B, computed here in double.
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(2, 3, 28, 28, Layout::nhwc, 141);
  const QuadrantLayer layer(6, 3, 28, 28, true, 143);
  const LinearHead head{{1.0, 0.5, 2.0, 0.0, 1.5, 0.25}};
  const craft::SplitModel model = test::quadrant_model(ctx, layer, head);
  const std::vector<float> identity = test::identity_bank(6);
  craft::CraftOptions options = test::small_craft_options(6);
  options.nb_design = 32;
  options.batch_size = 50;
  std::vector<float> importances(6, test::poison()), per_image(2 * 6, test::poison());
  craft::concept_importance(ctx, model, identity.data(), 6, images.view(), {0, 0},
                            importances.data(), options, per_image.data());

  const std::int64_t r = 6, n_design = 32;
  const std::int64_t primes[12] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  std::vector<double> a_points(static_cast<std::size_t>(n_design * r)), b_points(a_points.size());
  for (std::int64_t j = 0; j < n_design; ++j) {
    for (std::int64_t k = 0; k < r; ++k) {
      a_points[static_cast<std::size_t>(j * r + k)] = radical_inverse(j + options.skip, primes[k]);
      b_points[static_cast<std::size_t>(j * r + k)] = radical_inverse(j + options.skip, primes[r + k]);
    }
  }
  std::vector<double> mean(6, 0.0);
  for (std::int64_t i = 0; i < 2; ++i) {
    const std::vector<double> act =
        layer.activations(images.pixels.data() + i * images.c * 28 * 28, Layout::nhwc);
    std::vector<double> beta(6);
    for (std::int64_t k = 0; k < r; ++k) {
      double sum = 0.0;
      for (std::int64_t l = 0; l < 4; ++l) sum += act[static_cast<std::size_t>(k * 4 + l)];
      beta[static_cast<std::size_t>(k)] = head.gamma[static_cast<std::size_t>(k)] * sum;
    }
    std::vector<double> f_a(static_cast<std::size_t>(n_design));
    double f0 = 0.0;
    for (std::int64_t j = 0; j < n_design; ++j) {
      double f = 0.0;
      for (std::int64_t k = 0; k < r; ++k) f += beta[static_cast<std::size_t>(k)] * a_points[static_cast<std::size_t>(j * r + k)];
      f_a[static_cast<std::size_t>(j)] = f;
      f0 += f / static_cast<double>(n_design);
    }
    double variance = 0.0;
    for (double f : f_a) variance += (f - f0) * (f - f0);
    variance /= static_cast<double>(n_design - 1);
    for (std::int64_t k = 0; k < r; ++k) {
      double sum = 0.0;
      for (std::int64_t j = 0; j < n_design; ++j) {
        const double d = beta[static_cast<std::size_t>(k)] *
                         (a_points[static_cast<std::size_t>(j * r + k)] - b_points[static_cast<std::size_t>(j * r + k)]);
        sum += d * d;
      }
      const double expected = sum / (2.0 * static_cast<double>(n_design) * variance);
      EXPECT_NEAR(per_image[static_cast<std::size_t>(i * r + k)], expected, 1e-4) << "image " << i << " concept " << k;
      mean[static_cast<std::size_t>(k)] += expected / 2.0;
    }
  }
  for (std::size_t k = 0; k < 6; ++k) EXPECT_NEAR(importances[k], mean[k], 1e-4) << "concept " << k;
  EXPECT_EQ(importances[3], 0.0f);
  EXPECT_GT(importances[2], 0.1f);
}

// ---- concept_coefficients and concept_maps ----

TEST(CraftCoefficients, WithTheIdentityBankTheyAreTheActivationsShrunkByThePenalty) {
  // With W = I the penalized least squares 0.5 |a - u|^2 + 0.5 l2 |u|^2 is
  // solved by u = a / (1 + l2), l2 = alpha_w * channels (scikit-learn's
  // NMF.transform keeps the fitted model's alpha_W, scaled by the features).
  const Context ctx = Context::host();
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    const CraftImages images = test::random_craft_images(3, 3, 28, 28, layout, 51);
    const QuadrantLayer layer(6, 3, 28, 28, true, 53);
    const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
    const std::vector<float> identity = test::identity_bank(6);
    craft::CraftOptions options = test::small_craft_options(6);
    options.nmf.max_iter = 500;
    options.nmf.tol = 0.0;
    for (const float alpha_w : {0.0f, 0.01f, 0.5f}) {
      options.alpha_w = alpha_w;
      std::vector<float> coefficients(3 * 6 * 4, test::poison());
      craft::concept_coefficients(ctx, model, identity.data(), 6, images.view(),
                                  coefficients.data(), options);
      const double shrink = 1.0 + static_cast<double>(alpha_w) * 6.0;
      std::vector<double> expected;
      for (std::int64_t i = 0; i < 3; ++i) {
        const std::vector<double> act =
            layer.activations(images.pixels.data() + i * 3 * 28 * 28, layout);
        for (double a : act) expected.push_back(a / shrink);  // channels x 2 x 2 = r x H x W
      }
      const double scale = max_abs(expected);
      ASSERT_GT(scale, 0.0);
      for (std::size_t e = 0; e < expected.size(); ++e) {
        EXPECT_NEAR(coefficients[e], expected[e], 1e-3 * scale)
            << "alpha_w " << alpha_w << " entry " << e;
      }
    }
  }
}

TEST(CraftCoefficients, SolveThePenalizedLeastSquaresOfAFittedBank) {
  // With a general bank the coefficients are the penalized NNLS solution: at
  // every location the gradient W (W^T u - a) + l2 u (l2 = alpha_w *
  // channels) is >= 0, and 0 where u > 0 (KKT).
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(2, 3, 28, 28, Layout::nchw, 61);
  const QuadrantLayer layer(6, 3, 28, 28, true, 63);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  craft::CraftOptions options = test::small_craft_options(3);
  const craft::Concepts concepts = craft::fit(ctx, model, images.view(), options);
  const std::vector<float> w = test::download(ctx, concepts.W);
  options.nmf.max_iter = 5000;
  options.nmf.tol = 0.0;
  std::vector<float> coefficients(2 * 3 * 4, test::poison());
  craft::concept_coefficients(ctx, model, concepts.W.data(), 3, images.view(), coefficients.data(),
                              options);
  for (std::int64_t i = 0; i < 2; ++i) {
    const std::vector<double> act = layer.activations(images.pixels.data() + i * 3 * 28 * 28, Layout::nchw);
    double act_scale = max_abs(act);
    for (std::int64_t l = 0; l < 4; ++l) {
      std::vector<double> residual(6);
      for (std::int64_t j = 0; j < 6; ++j) {
        double uw = 0.0;
        for (std::int64_t k = 0; k < 3; ++k)
          uw += coefficients[static_cast<std::size_t>((i * 3 + k) * 4 + l)] * static_cast<double>(w[static_cast<std::size_t>(k * 6 + j)]);
        residual[static_cast<std::size_t>(j)] = uw - act[static_cast<std::size_t>(j * 4 + l)];
      }
      for (std::int64_t k = 0; k < 3; ++k) {
        const float u = coefficients[static_cast<std::size_t>((i * 3 + k) * 4 + l)];
        ASSERT_TRUE(std::isfinite(u) && u >= 0.0f);
        double gradient = static_cast<double>(options.alpha_w) * 6.0 * u, w_norm = 0.0;
        for (std::int64_t j = 0; j < 6; ++j) {
          gradient += static_cast<double>(w[static_cast<std::size_t>(k * 6 + j)]) * residual[static_cast<std::size_t>(j)];
          w_norm += std::fabs(w[static_cast<std::size_t>(k * 6 + j)]);
        }
        const double tolerance = 1e-3 * w_norm * act_scale;
        EXPECT_GT(gradient, -tolerance) << "image " << i << " location " << l << " concept " << k;
        if (u > 1e-2 * act_scale) EXPECT_LT(std::fabs(gradient), tolerance) << "image " << i << " location " << l << " concept " << k;
      }
    }
  }
}

TEST(CraftMaps, NearestMapsReplicateEachLocationOverItsBlock) {
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(2, 3, 28, 28, Layout::nhwc, 71);
  const QuadrantLayer layer(6, 3, 28, 28, true, 73);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  const std::vector<float> identity = test::identity_bank(6);
  craft::CraftOptions options = test::small_craft_options(6);
  options.map_interpolation = Interpolation::nearest;
  std::vector<float> coefficients(2 * 6 * 4, test::poison());
  craft::concept_coefficients(ctx, model, identity.data(), 6, images.view(), coefficients.data(), options);
  std::vector<float> maps(2 * 6 * 28 * 28, test::poison());
  craft::concept_maps(ctx, model, identity.data(), 6, images.view(), maps.data(), options);
  for (std::int64_t m = 0; m < 2 * 6; ++m) {
    for (std::int64_t y = 0; y < 28; ++y) {
      for (std::int64_t x = 0; x < 28; ++x) {
        const float expected = coefficients[static_cast<std::size_t>(m * 4 + (y / 14) * 2 + x / 14)];
        ASSERT_EQ(maps[static_cast<std::size_t>((m * 28 + y) * 28 + x)], expected)
            << "map " << m << " pixel (" << y << ", " << x << ")";
      }
    }
  }
  EXPECT_GT(test::l2_norm(maps), 0.0);
}

TEST(CraftMaps, BicubicMapsResizeTheCoefficientsAsCv2) {
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(2, 1, 20, 36, Layout::nchw, 81);
  const QuadrantLayer layer(6, 1, 20, 36, true, 83);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  const std::vector<float> identity = test::identity_bank(6);
  craft::CraftOptions options = test::small_craft_options(6);
  std::vector<float> coefficients(2 * 6 * 4, test::poison());
  craft::concept_coefficients(ctx, model, identity.data(), 6, images.view(), coefficients.data(), options);
  std::vector<float> maps(2 * 6 * 20 * 36, test::poison());
  craft::concept_maps(ctx, model, identity.data(), 6, images.view(), maps.data(), options);
  // Each 2 x 2 coefficient grid is an image of its own, resized in double.
  CraftImages grids{coefficients, 2 * 6, 1, 2, 2, Layout::nchw};
  double scale = 0.0;
  for (float v : coefficients) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (std::int64_t m = 0; m < 12; ++m) {
    // A whole-grid "crop" of patch 2 from a 2 x 2 image resized to 20 x 36.
    for (std::int64_t y = 0; y < 20; ++y) {
      const double sy = (y + 0.5) * 2.0 / 20.0 - 0.5;
      const auto y0 = static_cast<std::int64_t>(std::floor(sy));
      for (std::int64_t x = 0; x < 36; ++x) {
        const double sx = (x + 0.5) * 2.0 / 36.0 - 0.5;
        const auto x0 = static_cast<std::int64_t>(std::floor(sx));
        double expected = 0.0;
        for (std::int64_t yy = y0 - 1; yy <= y0 + 2; ++yy)
          for (std::int64_t xx = x0 - 1; xx <= x0 + 2; ++xx)
            expected += test::keys_kernel(sy - yy) * test::keys_kernel(sx - xx) *
                        grids.pixels[static_cast<std::size_t>(m * 4 + std::clamp<std::int64_t>(yy, 0, 1) * 2 +
                                                              std::clamp<std::int64_t>(xx, 0, 1))];
        ASSERT_NEAR(maps[static_cast<std::size_t>((m * 20 + y) * 36 + x)], expected, 1e-5 * scale)
            << "map " << m << " pixel (" << y << ", " << x << ")";
      }
    }
  }
}

TEST(CraftMaps, BicubicMapOfAConstantCoefficientGridIsConstant) {
  // A constant image and a layer that weighs pixels alike: every location has
  // the same activations, so the same coefficients.
  const Context ctx = Context::host();
  CraftImages images{std::vector<float>(2 * 3 * 28 * 28, 0.0f), 2, 3, 28, 28, Layout::nchw};
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t ch = 0; ch < 3; ++ch)
      std::fill_n(images.pixels.begin() + (i * 3 + ch) * 784, 784, 0.3f + 0.2f * static_cast<float>(ch + i));
  const QuadrantLayer layer(6, 3, 28, 28, false, 91);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  std::vector<float> bank = test::random_uniform(3 * 6, 93, 0.1f, 1.0f);
  craft::CraftOptions options = test::small_craft_options(3);
  std::vector<float> maps(2 * 3 * 28 * 28, test::poison());
  craft::concept_maps(ctx, model, bank.data(), 3, images.view(), maps.data(), options);
  double scale = 0.0;
  for (float v : maps) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  ASSERT_GT(scale, 0.0);
  for (std::int64_t m = 0; m < 6; ++m) {
    const float first = maps[static_cast<std::size_t>(m * 784)];
    for (std::int64_t e = 0; e < 784; ++e) {
      ASSERT_NEAR(maps[static_cast<std::size_t>(m * 784 + e)], first, 1e-6 * scale) << "map " << m << " pixel " << e;
    }
  }
}

// ---- top_crops ----

craft::Concepts concepts_with_u(const Context& ctx, const std::vector<float>& u, std::int64_t crops,
                                std::int64_t rank) {
  craft::Concepts concepts;
  concepts.rank = rank;
  concepts.features = 4;
  concepts.crops = crops;
  concepts.grid = craft::crop_grid(28, 28, 10);
  concepts.U = test::upload(ctx, u);
  concepts.W = test::upload(ctx, std::vector<float>(static_cast<std::size_t>(rank * 4), 1.0f));
  return concepts;
}

TEST(CraftTopCrops, DescendingWithTiesToTheLowerId) {
  const Context ctx = Context::host();
  // crops x 2, column 1 with ties.
  const std::vector<float> column1 = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f, 0.0f, 0.5f};
  std::vector<float> u;
  for (std::size_t k = 0; k < column1.size(); ++k) {
    u.push_back(static_cast<float>(k));  // column 0: increasing
    u.push_back(column1[k]);
  }
  const craft::Concepts concepts = concepts_with_u(ctx, u, 7, 2);
  EXPECT_EQ(craft::top_crops(ctx, concepts, 1, 3), (std::vector<std::int64_t>{1, 4, 0}));
  EXPECT_EQ(craft::top_crops(ctx, concepts, 1, 7), (std::vector<std::int64_t>{1, 4, 0, 2, 6, 3, 5}));
  EXPECT_EQ(craft::top_crops(ctx, concepts, 1, 100), (std::vector<std::int64_t>{1, 4, 0, 2, 6, 3, 5}));
  EXPECT_EQ(craft::top_crops(ctx, concepts, 0, 2), (std::vector<std::int64_t>{6, 5}));
}

TEST(CraftTopCrops, AgreesWithASortOfAFittedU) {
  const Context ctx = Context::host();
  const CraftImages images = test::random_craft_images(3, 3, 28, 28, Layout::nchw, 101);
  const QuadrantLayer layer(6, 3, 28, 28, true, 103);
  const craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  const craft::Concepts concepts = craft::fit(ctx, model, images.view(), test::small_craft_options(3));
  const std::vector<float> u = test::download(ctx, concepts.U);
  for (std::int64_t concept = 0; concept < 3; ++concept) {
    std::vector<float> column;
    for (std::int64_t k = 0; k < concepts.crops; ++k) column.push_back(u[static_cast<std::size_t>(k * 3 + concept)]);
    std::vector<std::int64_t> expected = ranking(column);
    expected.resize(10);
    EXPECT_EQ(craft::top_crops(ctx, concepts, concept, 10), expected) << "concept " << concept;
  }
}

TEST(CraftTopCrops, BadConceptIsNamed) {
  const Context ctx = Context::host();
  const craft::Concepts concepts = concepts_with_u(ctx, std::vector<float>(14, 1.0f), 7, 2);
  for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{2}}) {
    const std::string message = test::error_message([&] { craft::top_crops(ctx, concepts, bad, 3); });
    test::expect_mentions(message, "concept");
    test::expect_mentions(message, std::to_string(bad));
  }
  EXPECT_EQ(craft::top_crops(ctx, concepts, 1, 3).size(), 3u);
}

// ---- fit_subconcepts ----

struct SubScene {
  Context ctx = Context::host();
  CraftImages images = test::random_craft_images(6, 3, 28, 28, Layout::nhwc, 111);
  QuadrantLayer deep{6, 3, 28, 28, true, 113};
  QuadrantLayer early{5, 3, 28, 28, true, 117};
  craft::SplitModel deep_model = test::quadrant_model(ctx, deep, TwoReadHeads{});
  craft::SplitModel early_model = test::quadrant_model(ctx, early, TwoReadHeads{});
  craft::CraftOptions options = test::small_craft_options(3);
};

TEST(CraftSubconcepts, FactorsTheTopCropsAtTheEarlierLayer) {
  SubScene s;
  const craft::Concepts parent = craft::fit(s.ctx, s.deep_model, s.images.view(), s.options);
  ASSERT_EQ(parent.crops, 54);
  craft::CraftOptions sub_options = s.options;
  sub_options.nmf.rank = 2;
  for (std::int64_t concept = 0; concept < 3; ++concept) {
    const craft::SubConcepts sub =
        craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, concept, 20, sub_options);
    EXPECT_EQ(sub.crop_ids, craft::top_crops(s.ctx, parent, concept, 20)) << "concept " << concept;
    EXPECT_EQ(sub.concepts.crops, 20);
    EXPECT_EQ(sub.concepts.rank, 2);
    EXPECT_EQ(sub.concepts.features, 5);
    ASSERT_EQ(sub.concepts.U.size(), 20 * 2);
    ASSERT_EQ(sub.concepts.W.size(), 2 * 5);
    const std::vector<float> u = test::download(s.ctx, sub.concepts.U);
    const std::vector<float> w = test::download(s.ctx, sub.concepts.W);
    expect_non_negative_finite(u, "U");
    expect_non_negative_finite(w, "W");
    // U's rows are the rows of A for crop_ids, in that order.
    const std::vector<double> a = s.early.reference_a(s.images, 10, sub.crop_ids);
    const double direct = test::relative_residual(a, u, w, 20, 5, 2);
    EXPECT_NEAR(sub.concepts.nmf.relative_error, direct, 1e-4) << "concept " << concept;
    EXPECT_GT(direct, 0.0);
  }
}

TEST(CraftSubconcepts, CountClampsAndRankAndConceptAreChecked) {
  SubScene s;
  const craft::Concepts parent = craft::fit(s.ctx, s.deep_model, s.images.view(), s.options);
  craft::CraftOptions sub_options = s.options;
  sub_options.nmf.rank = 2;
  const craft::SubConcepts all =
      craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, 1, 1000, sub_options);
  EXPECT_EQ(all.concepts.crops, 54);
  EXPECT_EQ(all.crop_ids, craft::top_crops(s.ctx, parent, 1, 54));

  // More sub-concepts than crops or than the earlier layer's channels.
  sub_options.nmf.rank = 6;
  test::expect_error([&] { craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, 1, 20, sub_options); },
                     "rank");
  sub_options.nmf.rank = 4;
  test::expect_error([&] { craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, 1, 3, sub_options); },
                     "rank");
  sub_options.nmf.rank = 2;
  test::expect_error([&] { craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, 3, 20, sub_options); },
                     "concept");
  // Still usable.
  const craft::SubConcepts again =
      craft::fit_subconcepts(s.ctx, s.early_model, s.images.view(), parent, 1, 5, sub_options);
  EXPECT_EQ(again.concepts.crops, 5);
}

// ---- bad input: each names the argument and value; the next call works ----

class CraftBadInput : public ::testing::Test {
 protected:
  void expect_fit_error(const std::function<void()>& call, const std::vector<std::string>& needles) {
    const std::string message = test::error_message(call);
    for (const std::string& needle : needles) test::expect_mentions(message, needle);
    const craft::Concepts concepts = craft::fit(ctx, model, images.view(), options);
    EXPECT_GT(test::l2_norm(test::download(ctx, concepts.W)), 0.0) << "after: " << message;
  }
  void expect_importance_error(const std::function<void()>& call, const std::vector<std::string>& needles) {
    importances.assign(6, 7.0f);
    per_image.assign(2 * 6, 7.0f);
    const std::string message = test::error_message(call);
    for (const std::string& needle : needles) test::expect_mentions(message, needle);
    EXPECT_TRUE(std::all_of(importances.begin(), importances.end(), [](float v) { return v == 7.0f; }))
        << "importances written by a failing call";
    EXPECT_TRUE(std::all_of(per_image.begin(), per_image.end(), [](float v) { return v == 7.0f; }))
        << "per_image written by a failing call";
    std::vector<float> fresh(6, test::poison());
    craft::concept_importance(ctx, model, identity.data(), 6, images.view(), {0, 1}, fresh.data(), options);
    EXPECT_GT(test::l2_norm(fresh), 0.0) << "after: " << message;
  }
  void importance(const craft::SplitModel& m, const float* w, std::int64_t r, HostSpan<const int> targets,
                  const craft::CraftOptions& o) {
    craft::concept_importance(ctx, m, w, r, images.view(), targets, importances.data(), o, per_image.data());
  }

  Context ctx = Context::host();
  CraftImages images = test::random_craft_images(2, 3, 28, 28, Layout::nchw, 121);
  QuadrantLayer layer{6, 3, 28, 28, true, 123};
  craft::SplitModel model = test::quadrant_model(ctx, layer, TwoReadHeads{});
  craft::CraftOptions options = test::small_craft_options(3);
  std::vector<float> identity = test::identity_bank(6);
  std::vector<float> importances, per_image;
};

TEST_F(CraftBadInput, NullImages) {
  ConstImageView null_images = images.view();
  null_images.data = nullptr;
  expect_fit_error([&] { craft::fit(ctx, model, null_images, options); }, {"images.data"});
  expect_importance_error([&] { craft::concept_importance(ctx, model, identity.data(), 6, null_images, {0, 1}, importances.data(), options); },
                          {"images.data"});
}

TEST_F(CraftBadInput, EmptyG) {
  craft::SplitModel no_g = model;
  no_g.g = nullptr;
  expect_fit_error([&] { craft::fit(ctx, no_g, images.view(), options); }, {"model.g", "empty"});
  const std::string message = test::error_message([&] { craft::fit(ctx, no_g, images.view(), options); });
  test::expect_mentions(message, "empty");
}

TEST_F(CraftBadInput, EmptyH) {
  craft::SplitModel no_h = model;
  no_h.h = nullptr;
  expect_importance_error([&] { importance(no_h, identity.data(), 6, {0, 1}, options); }, {"model.h", "empty"});
  // fit does not need h.
  const craft::Concepts concepts = craft::fit(ctx, no_h, images.view(), options);
  EXPECT_EQ(concepts.rank, 3);
}

TEST_F(CraftBadInput, ChannelsBelowOne) {
  craft::SplitModel bad = model;
  bad.channels = 0;
  expect_fit_error([&] { craft::fit(ctx, bad, images.view(), options); }, {"channels", "0"});
}

TEST_F(CraftBadInput, RankAboveCropsOrChannels) {
  craft::CraftOptions bad = options;
  bad.nmf.rank = 7;
  expect_fit_error([&] { craft::fit(ctx, model, images.view(), bad); }, {"rank", "7"});
  // Rank 7 is fine for 18 crops but not for 6 channels; rank 5 with one
  // image of one crop (patch = image size) is above the 1 crop.
  bad.nmf.rank = 5;
  bad.patch_size = 28;
  expect_fit_error([&] { craft::fit(ctx, model, images.view().image(0), bad); }, {"rank", "5"});
  bad.nmf.rank = 0;
  bad.patch_size = 10;
  expect_fit_error([&] { craft::fit(ctx, model, images.view(), bad); }, {"rank", "0"});
}

TEST_F(CraftBadInput, PatchSize) {
  craft::CraftOptions bad = options;
  bad.patch_size = 29;
  expect_fit_error([&] { craft::fit(ctx, model, images.view(), bad); }, {"patch_size", "29"});
}

TEST_F(CraftBadInput, NbDesignNotPowerOfTwo) {
  craft::CraftOptions bad = options;
  bad.nb_design = 12;
  expect_importance_error([&] { importance(model, identity.data(), 6, {0, 1}, bad); }, {"nb_design", "12"});
  bad.nb_design = 1;
  expect_importance_error([&] { importance(model, identity.data(), 6, {0, 1}, bad); }, {"nb_design", "1"});
}

TEST_F(CraftBadInput, Targets) {
  expect_importance_error([&] { importance(model, identity.data(), 6, {0}, options); }, {"targets", "1"});
  expect_importance_error([&] { importance(model, identity.data(), 6, {0, 5}, options); }, {"targets[1]", "5"});
  expect_importance_error([&] { importance(model, identity.data(), 6, {-1, 0}, options); }, {"targets[0]", "-1"});
}

TEST_F(CraftBadInput, NullBank) {
  expect_importance_error([&] { importance(model, nullptr, 6, {0, 1}, options); }, {"W"});
  std::vector<float> maps(2 * 6 * 28 * 28, 7.0f);
  test::expect_error([&] { craft::concept_maps(ctx, model, nullptr, 6, images.view(), maps.data(), options); }, "W");
  EXPECT_TRUE(std::all_of(maps.begin(), maps.end(), [](float v) { return v == 7.0f; }));
  test::expect_error([&] { craft::concept_maps(ctx, model, identity.data(), 6, images.view(), nullptr, options); }, "maps");
}

TEST_F(CraftBadInput, GThrows) {
  craft::SplitModel throwing = model;
  throwing.g = [](ConstImageView, float*) { throw std::runtime_error("layer4 ran out of memory"); };
  expect_fit_error([&] { craft::fit(ctx, throwing, images.view(), options); }, {"layer4 ran out of memory"});
  expect_importance_error([&] { importance(throwing, identity.data(), 6, {0, 1}, options); },
                          {"layer4 ran out of memory"});
}

TEST_F(CraftBadInput, GWritesNaNOrNegative) {
  for (const float bad_value : {std::numeric_limits<float>::quiet_NaN(), -0.5f}) {
    craft::SplitModel bad = model;
    const QuadrantLayer& l = layer;
    bad.g = [&l, bad_value](ConstImageView batch, float* out) {
      l.forward_host(batch, out);
      // The whole last crop of the batch: its average is bad too.
      for (std::int64_t e = 0; e < l.activation_size(); ++e) out[(batch.n - 1) * l.activation_size() + e] = bad_value;
    };
    expect_fit_error([&] { craft::fit(ctx, bad, images.view(), options); }, {"activation"});
  }
}

TEST_F(CraftBadInput, HWritesNaNOnTheSecondImage) {
  // Images are explained in order, nb_design (r + 1) rows each.
  std::int64_t rows_seen = 0;
  const std::int64_t per_image_rows = options.nb_design * 7;
  craft::SplitModel bad = model;
  bad.h = [&](const float* activations, std::int64_t n, float* outputs) {
    TwoReadHeads{}.forward_host(activations, n, outputs);
    for (std::int64_t row = 0; row < n; ++row)
      if (rows_seen + row >= per_image_rows) outputs[row * 2] = std::numeric_limits<float>::quiet_NaN();
    rows_seen += n;
  };
  expect_importance_error([&] { rows_seen = 0; importance(bad, identity.data(), 6, {0, 0}, options); },
                          {"image 1"});
}

TEST_F(CraftBadInput, HThrows) {
  craft::SplitModel throwing = model;
  throwing.h = [](const float*, std::int64_t, float*) { throw std::runtime_error("head exploded"); };
  expect_importance_error([&] { importance(throwing, identity.data(), 6, {0, 1}, options); }, {"head exploded"});
}

TEST_F(CraftBadInput, BankRankMismatch) {
  // rank above the layer's channels.
  std::vector<float> big(7 * 6, 1.0f);
  expect_importance_error([&] { importance(model, big.data(), 7, {0, 1}, options); }, {"rank", "7"});
}

TEST_F(CraftBadInput, ExtractCropsRange) {
  std::vector<float> crops(3 * 3 * 28 * 28, 7.0f);
  test::expect_error([&] { craft::extract_crops(ctx, images.view(), 10, 17, 2, crops.data()); }, "17");
  test::expect_error([&] { craft::extract_crops(ctx, images.view(), 10, -1, 2, crops.data()); }, "-1");
  test::expect_error([&] { craft::extract_crops(ctx, images.view(), 10, 0, 2, nullptr); }, "crops");
  test::expect_error([&] { craft::extract_crops(ctx, images.view(), 1, 0, 2, crops.data()); }, "patch_size");
  craft::extract_crops(ctx, images.view(), 10, 16, 2, crops.data());
}

}  // namespace
}  // namespace cuxplain
