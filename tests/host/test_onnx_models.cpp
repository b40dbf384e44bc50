// Classifiers as torch.onnx and tf2onnx export them (tests/data/onnx,
// small-width torchvision architectures and a channels-last Keras CNN with
// random weights): each loads, reproduces onnxruntime's outputs, its
// interval bounds (plain and sound) contain the outputs of thousands of
// points sampled in an L-inf ball, and EVA runs on it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/onnx_fixtures.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

class OnnxModels : public ::testing::TestWithParam<std::string> {};

/// The largest |a - b| over a sample's outputs, relative to the largest
/// |b| of that sample.
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want,
                          std::int64_t n, std::int64_t k) {
  double worst = 0.0;
  for (std::int64_t s = 0; s < n; ++s) {
    double scale = 0.0, diff = 0.0;
    for (std::int64_t j = 0; j < k; ++j) {
      scale = std::max(scale, std::fabs(static_cast<double>(want[s * k + j])));
      diff = std::max(diff, std::fabs(static_cast<double>(got[s * k + j]) - want[s * k + j]));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-30));
  }
  return worst;
}

TEST_P(OnnxModels, MatchesOnnxRuntime) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const std::string name = GetParam();
  const test::OnnxFixtureIo io = test::read_onnx_fixture_io(name);
  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, test::onnx_fixture_path(name, ".onnx"));
  ASSERT_EQ(net.input_shape().size(), io.in_size);
  ASSERT_EQ(net.output_shape().size(), io.out_size);
  std::vector<float> out(io.outputs.size(), test::poison());
  net.forward(ctx, io.inputs.data(), io.n, out.data());
  const double err = max_relative_error(out, io.outputs, io.n, io.out_size);
  EXPECT_LT(err, 1e-4) << name;
  std::printf("%s: max relative error vs onnxruntime %.3g\n", name.c_str(), err);
  RecordProperty("max_relative_error", std::to_string(err));
}

TEST_P(OnnxModels, IntervalBoundsContainSampledOutputs) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const std::string name = GetParam();
  const test::OnnxFixtureIo io = test::read_onnx_fixture_io(name);
  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, test::onnx_fixture_path(name, ".onnx"));
  const std::int64_t d = io.in_size, k = io.out_size;
  const float eps = 0.01f;
  std::vector<float> lower(static_cast<std::size_t>(d)), upper(lower.size());
  for (std::int64_t i = 0; i < d; ++i) {
    lower[i] = io.inputs[i] - eps;
    upper[i] = io.inputs[i] + eps;
  }
  // Points in the ball: corners (each coordinate at an end) and uniform.
  constexpr std::int64_t kPoints = 2000;
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> points(static_cast<std::size_t>(kPoints * d));
  for (std::int64_t p = 0; p < kPoints; ++p) {
    for (std::int64_t i = 0; i < d; ++i) {
      const float t = p % 2 == 0 ? (unit(gen) < 0.5f ? 0.0f : 1.0f) : unit(gen);
      points[p * d + i] = lower[i] + t * (upper[i] - lower[i]);
    }
  }
  std::vector<float> outputs(static_cast<std::size_t>(kPoints * k), test::poison());
  net.forward(ctx, points.data(), kPoints, outputs.data());
  double scale = 0.0;
  for (float v : outputs) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (const bool sound : {false, true}) {
    std::vector<float> lo(static_cast<std::size_t>(k), test::poison()), hi(lo.size(), test::poison());
    nn::BoundsOptions options;
    options.sound = sound;
    net.bounds(ctx, lower.data(), upper.data(), 1, lo.data(), hi.data(), options);
    // The sampled outputs are float forward passes (their own rounding, a
    // few ulps of the outputs' scale); the bounds must hold them up to that.
    const double slack = 1e-5 * scale;
    std::int64_t outside = 0;
    double width = 0.0;
    for (std::int64_t j = 0; j < k; ++j) {
      ASSERT_TRUE(std::isfinite(lo[j]) && std::isfinite(hi[j])) << name << " output " << j;
      ASSERT_LE(lo[j], hi[j]);
      width = std::max(width, static_cast<double>(hi[j]) - lo[j]);
      for (std::int64_t p = 0; p < kPoints; ++p) {
        const float y = outputs[p * k + j];
        outside += y < lo[j] - slack || y > hi[j] + slack;
      }
    }
    EXPECT_EQ(outside, 0) << name << (sound ? " (sound)" : " (plain)");
    std::printf("%s %s bounds: %lld points x %lld outputs inside, widest interval %.3g\n",
                name.c_str(), sound ? "sound" : "plain", static_cast<long long>(kPoints),
                static_cast<long long>(k), width);
  }
}

TEST_P(OnnxModels, EvaRuns) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const std::string name = GetParam();
  const test::OnnxFixtureIo io = test::read_onnx_fixture_io(name);
  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, test::onnx_fixture_path(name, ".onnx"));
  const nn::Shape in = net.input_shape();
  ConstImageView images{io.inputs.data(), 1, in.c, in.h, in.w, Layout::nchw};
  const std::vector<int> targets{static_cast<int>(
      std::max_element(io.outputs.begin(), io.outputs.begin() + io.out_size) - io.outputs.begin())};
  EvaOptions options;
  options.grid_size = std::min<std::int64_t>(4, std::min(in.h, in.w));
  options.epsilon = 0.02f;
  std::vector<float> scores(static_cast<std::size_t>(options.grid_size * options.grid_size),
                            test::poison());
  eva_attribution(ctx, net, images, targets, scores.data(), options);
  for (float v : scores) EXPECT_TRUE(std::isfinite(v)) << name;
  // Fixing a cell never widens the ball: scores are >= 0 up to rounding.
  for (float v : scores) EXPECT_GE(v, -1e-4f) << name;
}

// The channels-last fixtures (graph input N x H x W x C) read with
// OnnxInput::channels_last_as_nchw take the same images as N x C x H x W:
// onnxruntime's outputs on the transposed inputs, and EVA on its grid of
// H x W cells.
TEST(OnnxChannelsLast, ReadAsNchwMatchesOnnxRuntimeAndRunsEva) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const Context ctx = Context::host();
  for (const std::string name : {"channels_last_mix", "keras_cnn", "keras_cnn_autopad"}) {
    const test::OnnxFixtureIo io = test::read_onnx_fixture_io(name);
    const std::string path = test::onnx_fixture_path(name, ".onnx");
    const nn::Shape hwc = nn::load_onnx(ctx, path).input_shape();
    const nn::Network net = nn::load_onnx(ctx, path, nn::OnnxInput::channels_last_as_nchw);
    const nn::Shape in = net.input_shape();
    ASSERT_EQ(in, (nn::Shape{hwc.w, hwc.c, hwc.h})) << name;
    std::vector<float> nchw(io.inputs.size());
    for (std::int64_t s = 0; s < io.n; ++s)
      for (std::int64_t c = 0; c < in.c; ++c)
        for (std::int64_t y = 0; y < in.h; ++y)
          for (std::int64_t x = 0; x < in.w; ++x)
            nchw[((s * in.c + c) * in.h + y) * in.w + x] = io.inputs[((s * in.h + y) * in.w + x) * in.c + c];
    std::vector<float> out(io.outputs.size(), test::poison());
    net.forward(ctx, nchw.data(), io.n, out.data());
    EXPECT_LT(max_relative_error(out, io.outputs, io.n, io.out_size), 1e-4) << name;

    ConstImageView images{nchw.data(), 1, in.c, in.h, in.w, Layout::nchw};
    const std::vector<int> targets{static_cast<int>(
        std::max_element(io.outputs.begin(), io.outputs.begin() + io.out_size) - io.outputs.begin())};
    EvaOptions options;
    options.grid_size = 4;
    options.epsilon = 0.02f;
    std::vector<float> scores(16, test::poison());
    eva_attribution(ctx, net, images, targets, scores.data(), options);
    for (float v : scores) EXPECT_TRUE(std::isfinite(v) && v >= -1e-4f) << name << " " << v;
  }
}

INSTANTIATE_TEST_SUITE_P(Exported, OnnxModels, ::testing::ValuesIn(test::onnx_fixture_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cuxplain
