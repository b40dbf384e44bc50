// EVA on the host backend: known zeros, the definition computed directly,
// batch-size independence, the embedded model, and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <string>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

std::vector<float> random_weights(std::size_t count, std::uint32_t seed, float scale) {
  return test::random_uniform(count, seed, -scale, scale);
}

/// 1 x 8 x 8 input, grid 4 (2 x 2 pixel cells): a dense layer that reads only
/// the pixels of `read_cells`, a relu and a 3-class head.
nn::Network reading_network(const Context& ctx, const std::vector<int>& read_cells) {
  nn::NetworkBuilder b;
  auto x = b.input({1, 8, 8});
  x = b.flatten(x);
  std::vector<float> w = random_weights(6 * 64, 3, 1.0f);
  for (int o = 0; o < 6; ++o)
    for (int p = 0; p < 64; ++p) {
      const int cell = (p / 8 / 2) * 4 + (p % 8) / 2;
      if (std::find(read_cells.begin(), read_cells.end(), cell) == read_cells.end()) w[o * 64 + p] = 0.0f;
    }
  x = b.dense(x, 6, w, random_weights(6, 4, 0.5f));
  x = b.relu(x);
  x = b.dense(x, 3, random_weights(18, 5, 1.0f), random_weights(3, 6, 0.2f));
  return b.build(ctx, x);
}

nn::Network conv_network(const Context& ctx) {
  nn::NetworkBuilder b;
  auto x = b.input({2, 12, 12});
  nn::ConvParams conv;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  x = b.conv(x, 4, 3, 3, random_weights(4 * 2 * 9, 7, 0.4f), random_weights(4, 8, 0.1f), conv);
  x = b.relu(x);
  nn::PoolParams pool;
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  x = b.max_pool(x, pool);
  x = b.flatten(x);
  x = b.dense(x, 5, random_weights(5 * 4 * 36, 9, 0.2f), random_weights(5, 10, 0.1f));
  return b.build(ctx, x);
}

TEST(Eva, UnreadCellsScoreExactlyZeroAndOthersAreNonNegative) {
  const Context ctx = Context::host();
  const std::vector<int> read{1, 6, 15};
  const nn::Network net = reading_network(ctx, read);
  const std::vector<float> image = test::random_uniform(64, 11, 0.2f, 0.8f);
  EvaOptions options;
  options.grid_size = 4;
  options.epsilon = 0.1f;
  std::vector<float> scores(16, test::poison());
  eva_attribution(ctx, net, {image.data(), 1, 1, 8, 8, Layout::nchw}, {2}, scores.data(), options);
  for (int u = 0; u < 16; ++u) {
    if (std::find(read.begin(), read.end(), u) == read.end()) {
      EXPECT_EQ(scores[u], 0.0f) << "unread cell " << u;
    } else {
      EXPECT_GE(scores[u], 0.0f) << "read cell " << u;
    }
  }
  EXPECT_GT(test::l2_norm(scores), 0.0);
}

TEST(Eva, EqualsTheDefinitionComputedDirectly) {
  // EVA(u) = AO(x, B) - AO(x, B_u) with boxes built here, independently.
  const Context ctx = Context::host();
  const nn::Network net = conv_network(ctx);
  const std::int64_t c = 2, h = 12, w = 12, g = 5, cells = g * g, outputs = 5;
  const std::vector<float> image = test::random_uniform(c * h * w, 12, 0.0f, 1.0f);
  EvaOptions options;
  options.grid_size = g;  // 12 / 5: non-integer cells, nearest_exact mapping
  options.epsilon = 0.08f;
  options.batch_size = 7;
  const int target = 3;
  std::vector<float> scores(cells, test::poison());
  eva_attribution(ctx, net, {image.data(), 1, c, h, w, Layout::nchw}, {target}, scores.data(), options);

  std::vector<float> lower((cells + 1) * c * h * w), upper(lower.size());
  for (std::int64_t box = 0; box <= cells; ++box)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
          const std::int64_t e = (ch * h + y) * w + x;
          const std::int64_t cell = ((2 * y + 1) * g / (2 * h)) * g + (2 * x + 1) * g / (2 * w);
          const float v = image[e];
          const bool fixed = box >= 1 && cell == box - 1;
          lower[box * c * h * w + e] = fixed ? v : std::max(v - options.epsilon, 0.0f);
          upper[box * c * h * w + e] = fixed ? v : std::min(v + options.epsilon, 1.0f);
        }
  std::vector<float> margins((cells + 1) * outputs);
  const std::vector<int> targets(cells + 1, target);
  net.margin_upper_bounds(ctx, lower.data(), upper.data(), cells + 1, targets, margins.data());
  std::vector<float> overlap(cells + 1);
  for (std::int64_t box = 0; box <= cells; ++box) {
    float best = -INFINITY;
    for (std::int64_t j = 0; j < outputs; ++j)
      if (j != target) best = std::max(best, margins[box * outputs + j]);
    overlap[box] = best;
  }
  // The explainer bounds the boxes batch_size (7) at a time, this test all
  // 26 at once: the host GEMM (OpenBLAS) blocks its sums by the batch's
  // size, and on some CPUs that changes the margins' last bits. Allow a few
  // float ulps of the overlaps' magnitude, not more.
  float magnitude = 1.0f;
  for (float o : overlap) magnitude = std::max(magnitude, std::fabs(o));
  const float tolerance = 16.0f * std::numeric_limits<float>::epsilon() * magnitude;
  for (std::int64_t u = 0; u < cells; ++u) {
    EXPECT_NEAR(scores[u], overlap[0] - overlap[1 + u], tolerance) << "cell " << u;
    EXPECT_GE(scores[u], -1e-5f) << "cell " << u;
  }
  EXPECT_GT(test::l2_norm(scores), 0.0);
}

TEST(Eva, ZeroRadiusGivesZeroAndBatchSizeDoesNotMatter) {
  const Context ctx = Context::host();
  const nn::Network net = conv_network(ctx);
  const std::vector<float> images = test::random_uniform(2 * 2 * 12 * 12, 13, 0.0f, 1.0f);
  EvaOptions options;
  options.grid_size = 4;
  options.epsilon = 0.0f;
  std::vector<float> scores(32, test::poison());
  eva_attribution(ctx, net, {images.data(), 2, 2, 12, 12, Layout::nchw}, {0, 4}, scores.data(), options);
  for (float s : scores) EXPECT_EQ(s, 0.0f);

  options.epsilon = 0.05f;
  std::vector<float> reference;
  for (std::int64_t batch : {1, 5, 17, 1000}) {
    options.batch_size = batch;
    std::vector<float> result(32, test::poison());
    eva_attribution(ctx, net, {images.data(), 2, 2, 12, 12, Layout::nchw}, {0, 4}, result.data(), options);
    if (reference.empty()) reference = result;
    EXPECT_EQ(result, reference) << "batch_size " << batch;
  }
  EXPECT_GT(test::l2_norm(reference), 0.0);
}

TEST(Eva, EmbeddedModelScoresAreFiniteAndNonNegative) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx");
  // A synthetic 28 x 28 "garment": a bright block on a dark background.
  std::vector<float> image(28 * 28, 0.0f);
  for (int y = 6; y < 24; ++y)
    for (int x = 8; x < 20; ++x) image[y * 28 + x] = 0.8f;
  std::vector<float> logits(10);
  net.forward(ctx, image.data(), 1, logits.data());
  const int predicted = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  EvaOptions options;
  options.grid_size = 7;
  options.epsilon = 0.02f;
  std::vector<float> scores(49, test::poison());
  eva_attribution(ctx, net, {image.data(), 1, 1, 28, 28, Layout::nchw}, {predicted}, scores.data(), options);
  for (float s : scores) {
    EXPECT_TRUE(std::isfinite(s));
    EXPECT_GE(s, -1e-4f);
  }
  EXPECT_GT(test::l2_norm(scores), 0.0);
}

TEST(Eva, BadArgumentsNameTheProblem) {
  const Context ctx = Context::host();
  const nn::Network net = conv_network(ctx);
  const std::vector<float> image = test::random_uniform(2 * 12 * 12, 1);
  std::vector<float> scores(16, 7.0f);
  const ConstImageView view{image.data(), 1, 2, 12, 12, Layout::nchw};
  EvaOptions options;
  options.grid_size = 4;
  auto bad = options;
  bad.epsilon = -0.1f;
  test::expect_error([&] { eva_attribution(ctx, net, view, {0}, scores.data(), bad); },
                     "options.epsilon must be finite and >= 0, got -0.1");
  test::expect_error([&] { eva_attribution(ctx, net, view, {5}, scores.data(), options); },
                     "targets[0] = 5 is outside [0, 5)");
  test::expect_error([&] { eva_attribution(ctx, net, {image.data(), 1, 2, 6, 24, Layout::nchw}, {0}, scores.data(), options); },
                     "images are 2 x 6 x 24 but the network reads 2 x 12 x 12");
  test::expect_error([&] { eva_attribution(ctx, net, {image.data(), 1, 2, 12, 12, Layout::nhwc}, {0}, scores.data(), options); },
                     "images must be NCHW");
  bad = options;
  bad.grid_size = 13;
  test::expect_error([&] { eva_attribution(ctx, net, view, {0}, scores.data(), bad); },
                     "options.grid_size 13 is larger than the image (12 x 12)");
  bad = options;
  bad.batch_size = 0;
  test::expect_error([&] { eva_attribution(ctx, net, view, {0}, scores.data(), bad); },
                     "options.batch_size must be >= 1, got 0");
  for (float s : scores) EXPECT_EQ(s, 7.0f);
}

}  // namespace
}  // namespace cuxplain
