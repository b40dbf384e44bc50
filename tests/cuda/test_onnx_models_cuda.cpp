// The exported-classifier fixtures (tests/data/onnx) on CUDA against the
// host backend: forward and plain bounds agree to float rounding (within
// 1e-4 of the outputs' scale: GEMM orders and float exp differ); sound bounds
// are built from the same directed operations on both backends and agree to
// the same tolerance, and CUDA's sound bounds contain the host's forward
// outputs of points in the box.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/cuda_stream.hpp"
#include "common/onnx_fixtures.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

class OnnxModelsCuda : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxModelsCuda, ForwardAndBoundsMatchTheHost) {
  CUXPLAIN_REQUIRE_CUDA();
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const std::string name = GetParam();
  const std::string path = test::onnx_fixture_path(name, ".onnx");
  const test::OnnxFixtureIo io = test::read_onnx_fixture_io(name);
  test::TestStream stream;
  const Context gpu = Context::cuda(stream.get());
  const Context host = Context::host();
  const nn::Network g = nn::load_onnx(gpu, path);
  const nn::Network h = nn::load_onnx(host, path);
  const std::int64_t d = io.in_size, k = io.out_size, n = io.n;

  std::vector<float> host_out(static_cast<std::size_t>(n * k), test::poison());
  h.forward(host, io.inputs.data(), n, host_out.data());
  const Buffer<float> x = test::upload(gpu, io.inputs);
  Buffer<float> y = test::poisoned(gpu, n * k);
  g.forward(gpu, x.data(), n, y.data());
  test::expect_close(test::download(gpu, y), host_out, 1e-4, name + " forward");

  std::vector<float> lower(io.inputs), upper(io.inputs);
  for (std::size_t i = 0; i < lower.size(); ++i) {
    lower[i] -= 0.01f;
    upper[i] += 0.01f;
  }
  const Buffer<float> l = test::upload(gpu, lower), u = test::upload(gpu, upper);
  for (const bool sound : {false, true}) {
    nn::BoundsOptions options;
    options.sound = sound;
    std::vector<float> hl(static_cast<std::size_t>(n * k), test::poison()), hh(hl);
    h.bounds(host, lower.data(), upper.data(), n, hl.data(), hh.data(), options);
    Buffer<float> gl = test::poisoned(gpu, n * k), gh = test::poisoned(gpu, n * k);
    g.bounds(gpu, l.data(), u.data(), n, gl.data(), gh.data(), options);
    const std::vector<float> cl = test::download(gpu, gl), ch = test::download(gpu, gh);
    test::expect_close(cl, hl, 1e-4, name + (sound ? " sound lower" : " lower"));
    test::expect_close(ch, hh, 1e-4, name + (sound ? " sound upper" : " upper"));
    if (!sound) continue;
    // Points of the first box: their host outputs lie in CUDA's sound bounds
    // (up to the forward's own rounding).
    std::mt19937 gen(3);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    constexpr std::int64_t kPoints = 200;
    std::vector<float> points(static_cast<std::size_t>(kPoints * d));
    for (std::int64_t p = 0; p < kPoints; ++p)
      for (std::int64_t i = 0; i < d; ++i)
        points[p * d + i] = lower[i] + unit(gen) * (upper[i] - lower[i]);
    std::vector<float> outs(static_cast<std::size_t>(kPoints * k), test::poison());
    h.forward(host, points.data(), kPoints, outs.data());
    double scale = 0.0;
    for (float v : outs) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    for (std::int64_t p = 0; p < kPoints; ++p) {
      for (std::int64_t j = 0; j < k; ++j) {
        EXPECT_GE(outs[p * k + j], cl[j] - 1e-5 * scale) << name << " point " << p;
        EXPECT_LE(outs[p * k + j], ch[j] + 1e-5 * scale) << name << " point " << p;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Exported, OnnxModelsCuda, ::testing::ValuesIn(test::onnx_fixture_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cuxplain
