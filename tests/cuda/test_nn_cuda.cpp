// Network stack on CUDA against the host backend: forward, plain bounds and
// margins agree to float rounding; sound bounds and margins contain the
// exact (double-reference) outputs of sampled points and agree with the
// host's sound results; networks split at a node match the host's split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>

#include "common/cuda_stream.hpp"
#include "common/nn_graph.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using nn::NodeId;
using test::RandomGraph;
using test::TestStream;

nn::ConvParams conv_params(std::int64_t sh, std::int64_t sw, std::int64_t pt, std::int64_t pl,
                           std::int64_t pb, std::int64_t pr) {
  nn::ConvParams p;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = pt;
  p.pad_left = pl;
  p.pad_bottom = pb;
  p.pad_right = pr;
  return p;
}

nn::PoolParams pool_params(std::int64_t kh, std::int64_t kw, std::int64_t sh, std::int64_t sw,
                           std::int64_t pt = 0, std::int64_t pl = 0, std::int64_t pb = 0,
                           std::int64_t pr = 0, bool include_pad = false) {
  nn::PoolParams p;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = pt;
  p.pad_left = pl;
  p.pad_bottom = pb;
  p.pad_right = pr;
  p.count_include_pad = include_pad;
  return p;
}

struct Case {
  const char* name;
  std::function<NodeId(RandomGraph&)> make;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

/// Every op, inside networks of the shapes the host tests use, plus a
/// classifier wide enough (150 classes, 45 inputs to the last layer) for
/// two margin tiles and two input chunks.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"cnn",
       [](RandomGraph& g) {
         NodeId x = g.input({2, 9, 11});
         x = g.relu(g.batch_norm(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1))));
         x = g.relu(g.conv(x, 6, 3, 2, conv_params(2, 2, 1, 0, 0, 1)));
         x = g.max_pool(x, pool_params(3, 3, 1, 1, 1, 1, 1, 1));
         x = g.avg_pool(x, pool_params(2, 2, 2, 2));
         x = g.flatten(g.batch_norm(x));
         x = g.relu(g.batch_norm(g.dense(x, 8)));
         return g.dense(x, 5);
       }},
      {"residual",
       [](RandomGraph& g) {
         NodeId x = g.input({3, 8, 7});
         x = g.relu(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
         NodeId y = g.relu(g.batch_norm(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1))));
         y = g.batch_norm(g.conv(y, 4, 1, 1));
         NodeId z = g.batch_norm(g.relu(g.add(x, y)));
         z = g.avg_pool(z, pool_params(3, 3, 2, 2, 1, 1, 1, 1, true));
         z = g.max_pool(g.reshape(z, {8, 4, 2}), pool_params(2, 2, 2, 2));
         return g.dense(g.global_avg_pool(z), 6);
       }},
      {"wide_classifier",
       [](RandomGraph& g) {
         NodeId x = g.input({3, 10, 10});
         x = g.relu(g.conv(x, 3, 1, 1));
         x = g.relu(g.dense(g.flatten(x), 45));
         return g.dense(x, 150);
       }},
      {"pools_and_affine_end",
       [](RandomGraph& g) {
         NodeId x = g.input({3, 7, 8});
         x = g.max_pool(x, pool_params(3, 2, 2, 1, 1, 0, 1, 1));
         x = g.batch_norm(g.avg_pool(x, pool_params(2, 3, 1, 2, 0, 1, 1, 1)));
         return g.relu(g.conv(x, 2, 2, 2));  // margins subtract the bounds here
       }},
  };
  return all;
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                  double relative, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size());
  double scale = 0.0;
  for (float v : expected) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], relative * scale + 1e-7) << what << " element " << i;
  }
}

void make_boxes(std::int64_t n, std::int64_t in, std::uint32_t seed, std::vector<float>& lo,
                std::vector<float>& hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> centre(-1.0f, 1.0f), radius(0.01f, 0.2f);
  lo.resize(static_cast<std::size_t>(n * in));
  hi.resize(lo.size());
  for (std::size_t i = 0; i < lo.size(); ++i) {
    const float c = centre(gen), r = radius(gen);
    lo[i] = c - r;
    hi[i] = c + r;
  }
}

class NnCudaVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(NnCudaVsHost, ForwardBoundsAndMargins) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  RandomGraph graph(17, /*exact_folding=*/true);
  const NodeId output = GetParam().make(graph);
  const nn::Network host_net = graph.build(host, output);
  const nn::Network cuda_net = graph.build(cuda, output);
  EXPECT_EQ(cuda_net.backend(), Backend::cuda);
  EXPECT_EQ(cuda_net.summary(), host_net.summary());
  const std::int64_t in = host_net.input_shape().size(), k = host_net.output_shape().size();

  for (std::int64_t n : {1, 7, 70}) {
    const std::string where = std::string(GetParam().name) + " n " + std::to_string(n);
    std::vector<float> lo, hi;
    make_boxes(n, in, static_cast<std::uint32_t>(n), lo, hi);
    std::vector<int> targets;
    for (std::int64_t s = 0; s < n; ++s) targets.push_back(static_cast<int>((3 * s + 1) % k));
    const Buffer<float> lo_dev = test::upload(cuda, lo), hi_dev = test::upload(cuda, hi);

    // Forward.
    std::vector<float> y(static_cast<std::size_t>(n * k));
    host_net.forward(host, lo.data(), n, y.data());
    Buffer<float> y_dev = test::poisoned(cuda, n * k);
    cuda_net.forward(cuda, lo_dev.data(), n, y_dev.data());
    const std::vector<float> cuda_y = test::download(cuda, y_dev);
    EXPECT_GT(test::l2_norm(cuda_y), 0.0);
    expect_close(cuda_y, y, 1e-5, where + " forward");

    for (bool sound : {false, true}) {
      const std::string mode = where + (sound ? " sound" : " plain");
      nn::BoundsOptions options;
      options.sound = sound;
      std::vector<float> out_lo(static_cast<std::size_t>(n * k)), out_hi(out_lo.size()),
          margins(out_lo.size());
      host_net.bounds(host, lo.data(), hi.data(), n, out_lo.data(), out_hi.data(), options);
      host_net.margin_upper_bounds(host, lo.data(), hi.data(), n, targets, margins.data(), options);
      Buffer<float> out_lo_dev = test::poisoned(cuda, n * k), out_hi_dev = test::poisoned(cuda, n * k),
                    margins_dev = test::poisoned(cuda, n * k);
      cuda_net.bounds(cuda, lo_dev.data(), hi_dev.data(), n, out_lo_dev.data(), out_hi_dev.data(),
                      options);
      cuda_net.margin_upper_bounds(cuda, lo_dev.data(), hi_dev.data(), n, targets,
                                   margins_dev.data(), options);
      const std::vector<float> cuda_lo = test::download(cuda, out_lo_dev);
      const std::vector<float> cuda_hi = test::download(cuda, out_hi_dev);
      const std::vector<float> cuda_margins = test::download(cuda, margins_dev);
      expect_close(cuda_lo, out_lo, 1e-5, mode + " lower");
      expect_close(cuda_hi, out_hi, 1e-5, mode + " upper");
      expect_close(cuda_margins, margins, 1e-5, mode + " margins");

      // Sampled points: their exact outputs lie inside the CUDA bounds (sound:
      // up to the reference's double rounding; plain: up to float rounding).
      std::mt19937 gen(static_cast<std::uint32_t>(n) + 100);
      std::uniform_real_distribution<float> unit(0.0f, 1.0f);
      std::vector<float> x(static_cast<std::size_t>(in));
      const double tolerance = sound ? 1e-12 : 1e-5;
      for (std::int64_t s = 0; s < n; s += std::max<std::int64_t>(1, n / 4)) {
        const int t = targets[static_cast<std::size_t>(s)];
        for (int sample = 0; sample < 500; ++sample) {
          const bool vertex = sample % 4 == 0;
          for (std::int64_t i = 0; i < in; ++i) {
            const float a = lo[static_cast<std::size_t>(s * in + i)], b = hi[static_cast<std::size_t>(s * in + i)];
            const float v = unit(gen);
            x[static_cast<std::size_t>(i)] = vertex ? (v < 0.5f ? a : b) : std::clamp(a + v * (b - a), a, b);
          }
          const std::vector<double> exact = graph.reference(x.data(), output);
          for (std::int64_t j = 0; j < k; ++j) {
            const std::size_t e = static_cast<std::size_t>(s * k + j);
            const double value = exact[static_cast<std::size_t>(j)];
            const double unit_scale = 1.0 + std::fabs(value);
            ASSERT_GE(value, cuda_lo[e] - tolerance * unit_scale) << mode << " box " << s << " output " << j;
            ASSERT_LE(value, cuda_hi[e] + tolerance * unit_scale) << mode << " box " << s << " output " << j;
            ASSERT_LE(value - exact[static_cast<std::size_t>(t)], cuda_margins[e] + tolerance * unit_scale)
                << mode << " margin box " << s << " output " << j;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Networks, NnCudaVsHost, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(NnCuda, RadiusZeroBoundsBracketTheForwardPass) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  RandomGraph graph(23, /*exact_folding=*/true);
  const NodeId output = cases()[1].make(graph);
  const nn::Network net = graph.build(cuda, output);
  const std::int64_t n = 9, in = net.input_shape().size(), k = net.output_shape().size();
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * in), 4, -1.0f, 1.0f);
  const Buffer<float> x_dev = test::upload(cuda, x);
  Buffer<float> y_dev = test::poisoned(cuda, n * k), lo_dev = test::poisoned(cuda, n * k),
                hi_dev = test::poisoned(cuda, n * k);
  net.forward(cuda, x_dev.data(), n, y_dev.data());
  net.bounds(cuda, x_dev.data(), x_dev.data(), n, lo_dev.data(), hi_dev.data());
  const std::vector<float> y = test::download(cuda, y_dev);
  expect_close(test::download(cuda, lo_dev), y, 1e-6, "plain lower");
  expect_close(test::download(cuda, hi_dev), y, 1e-6, "plain upper");
  nn::BoundsOptions sound;
  sound.sound = true;
  net.bounds(cuda, x_dev.data(), x_dev.data(), n, lo_dev.data(), hi_dev.data(), sound);
  const std::vector<float> lo = test::download(cuda, lo_dev), hi = test::download(cuda, hi_dev);
  for (std::int64_t s = 0; s < n; ++s) {
    const std::vector<double> exact = graph.reference(x.data() + s * in, output);
    for (std::int64_t j = 0; j < k; ++j) {
      const std::size_t e = static_cast<std::size_t>(s * k + j);
      const double value = exact[static_cast<std::size_t>(j)];
      EXPECT_LE(lo[e], value + 1e-12 * (1.0 + std::fabs(value))) << s << " " << j;
      EXPECT_GE(hi[e], value - 1e-12 * (1.0 + std::fabs(value))) << s << " " << j;
      EXPECT_LE(hi[e] - lo[e], 1e-4 * (1.0 + std::fabs(value))) << s << " " << j;
    }
  }
}

TEST(NnCuda, ConvolutionChunksMatchHost) {
  // 1.2M column floats per sample: the batch of 5 runs in chunks of 3.
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  RandomGraph graph(5);
  const NodeId output = graph.conv(graph.input({16, 92, 92}), 3, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  const nn::Network host_net = graph.build(host, output), cuda_net = graph.build(cuda, output);
  const std::int64_t n = 5, in = host_net.input_shape().size(), k = host_net.output_shape().size();
  std::vector<float> lo, hi;
  make_boxes(n, in, 8, lo, hi);
  std::vector<float> out_lo(static_cast<std::size_t>(n * k)), out_hi(out_lo.size());
  host_net.bounds(host, lo.data(), hi.data(), n, out_lo.data(), out_hi.data());
  const Buffer<float> lo_dev = test::upload(cuda, lo), hi_dev = test::upload(cuda, hi);
  Buffer<float> out_lo_dev = test::poisoned(cuda, n * k), out_hi_dev = test::poisoned(cuda, n * k);
  cuda_net.bounds(cuda, lo_dev.data(), hi_dev.data(), n, out_lo_dev.data(), out_hi_dev.data());
  expect_close(test::download(cuda, out_lo_dev), out_lo, 1e-5, "lower");
  expect_close(test::download(cuda, out_hi_dev), out_hi, 1e-5, "upper");
  host_net.forward(host, lo.data(), n, out_lo.data());
  cuda_net.forward(cuda, lo_dev.data(), n, out_lo_dev.data());
  expect_close(test::download(cuda, out_lo_dev), out_lo, 1e-5, "forward");
}

TEST(NnCuda, CudnnAndHandWrittenConvolutionsAgree) {
  // The same networks built with cuDNN (when the build has it) and with
  // CUXPLAIN_NN_CUDNN=0 (im2col + cuBLAS), read when a network is built:
  // forward and plain bounds agree to float rounding, on convolutions and
  // pools with symmetric padding (cuDNN) and the asymmetric ones of "cnn"
  // (hand-written on both).
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  for (const Case& c : {cases()[0], cases()[1]}) {
    RandomGraph graph(31, /*exact_folding=*/true);
    const NodeId output = c.make(graph);
    const nn::Network library_net = graph.build(cuda, output);
    ASSERT_EQ(setenv("CUXPLAIN_NN_CUDNN", "0", 1), 0);
    const nn::Network hand_net = graph.build(cuda, output);
    ASSERT_EQ(unsetenv("CUXPLAIN_NN_CUDNN"), 0);
    const std::int64_t n = 33, in = library_net.input_shape().size();
    const std::int64_t k = library_net.output_shape().size();
    std::vector<float> lo, hi;
    make_boxes(n, in, 5, lo, hi);
    const Buffer<float> lo_dev = test::upload(cuda, lo), hi_dev = test::upload(cuda, hi);
    std::vector<std::vector<float>> results[2];
    const nn::Network* nets[2] = {&library_net, &hand_net};
    for (int i = 0; i < 2; ++i) {
      Buffer<float> y = test::poisoned(cuda, n * k), a = test::poisoned(cuda, n * k),
                    b = test::poisoned(cuda, n * k);
      nets[i]->forward(cuda, lo_dev.data(), n, y.data());
      nets[i]->bounds(cuda, lo_dev.data(), hi_dev.data(), n, a.data(), b.data());
      results[i] = {test::download(cuda, y), test::download(cuda, a), test::download(cuda, b)};
      EXPECT_GT(test::l2_norm(results[i][0]), 0.0);
    }
    const char* what[3] = {" forward", " lower", " upper"};
    for (int r = 0; r < 3; ++r) expect_close(results[0][r], results[1][r], 1e-5, c.name + std::string(what[r]));
  }
}

TEST(NnCuda, ArgumentErrors) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  RandomGraph graph(2);
  const NodeId output = graph.dense(graph.input({4, 1, 1}), 3);
  const nn::Network host_net = graph.build(host, output), cuda_net = graph.build(cuda, output);
  const std::vector<float> lo = {0, 0, 0, 0, 0, 0, 2, 0}, hi = {1, 1, 1, 1, 1, 1, 1, 1};
  const Buffer<float> lo_dev = test::upload(cuda, lo), hi_dev = test::upload(cuda, hi);
  Buffer<float> a = test::poisoned(cuda, 6), b = test::poisoned(cuda, 6);
  test::expect_error([&] { cuda_net.bounds(cuda, lo_dev.data(), hi_dev.data(), 2, a.data(), b.data()); },
                     "bounds: lower[6] = 2 and upper[6] = 1 do not form a box");
  for (float v : test::download(cuda, a)) EXPECT_TRUE(std::isnan(v));
  test::expect_error([&] { host_net.forward(cuda, lo_dev.data(), 1, a.data()); },
                     "forward: the network was built for the host backend but ctx is CUDA");
  test::expect_error([&] { cuda_net.forward(cuda, lo.data(), 1, a.data()); },
                     "forward: input points to host memory");
}

TEST(NnCuda, SplitNetworksMatchTheHostSplit) {
  // g = input -> cut and h = cut -> output on both backends, for a cut after
  // a pool, a cut at a conv whose batch norm then runs as an affine op in h,
  // a cut after the add of a residual block, and the identity (no layers).
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  RandomGraph graph(29, /*exact_folding=*/true);
  NodeId x = graph.input({3, 9, 8});
  const NodeId conv = graph.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  NodeId a = graph.relu(graph.batch_norm(conv));
  const NodeId pool = graph.max_pool(a, pool_params(2, 2, 2, 2));  // 4 x 4 x 4
  NodeId y = graph.relu(graph.batch_norm(graph.conv(pool, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1))));
  const NodeId sum = graph.relu(graph.add(pool, graph.conv(y, 4, 1, 1)));
  const NodeId output = graph.dense(graph.relu(graph.dense(graph.flatten(sum), 12)), 7);

  const std::int64_t n = 6;
  for (const NodeId cut : {pool, conv, sum, output}) {
    const std::string where = "cut at node " + std::to_string(cut);
    const nn::Network host_g = graph.builder().build(host, cut);
    const nn::Network host_h = graph.builder().build(host, cut, output);
    const nn::Network cuda_g = graph.builder().build(cuda, cut);
    const nn::Network cuda_h = graph.builder().build(cuda, cut, output);
    EXPECT_EQ(cuda_h.summary(), host_h.summary()) << where;
    const std::int64_t in = host_g.input_shape().size(), mid = host_h.input_shape().size(),
                       k = host_h.output_shape().size();
    std::vector<float> lo, hi;
    make_boxes(n, in, static_cast<std::uint32_t>(cut), lo, hi);
    const Buffer<float> lo_dev = test::upload(cuda, lo), hi_dev = test::upload(cuda, hi);

    // Forward through g then h.
    std::vector<float> host_mid(static_cast<std::size_t>(n * mid), test::poison());
    std::vector<float> host_y(static_cast<std::size_t>(n * k), test::poison());
    host_g.forward(host, lo.data(), n, host_mid.data());
    host_h.forward(host, host_mid.data(), n, host_y.data());
    Buffer<float> mid_dev = test::poisoned(cuda, n * mid), y_dev = test::poisoned(cuda, n * k);
    cuda_g.forward(cuda, lo_dev.data(), n, mid_dev.data());
    cuda_h.forward(cuda, mid_dev.data(), n, y_dev.data());
    expect_close(test::download(cuda, mid_dev), host_mid, 1e-5, where + " g forward");
    expect_close(test::download(cuda, y_dev), host_y, 1e-5, where + " h(g(x))");

    // Bounds (plain and sound) and margins of h on g's bounds.
    std::vector<int> targets;
    for (std::int64_t s = 0; s < n; ++s) targets.push_back(static_cast<int>((2 * s + 3) % k));
    for (bool sound : {false, true}) {
      const std::string mode = where + (sound ? " sound" : " plain");
      nn::BoundsOptions options;
      options.sound = sound;
      std::vector<float> mid_lo(static_cast<std::size_t>(n * mid), test::poison()), mid_hi(mid_lo);
      std::vector<float> out_lo(static_cast<std::size_t>(n * k), test::poison()), out_hi(out_lo),
          margins(out_lo);
      host_g.bounds(host, lo.data(), hi.data(), n, mid_lo.data(), mid_hi.data(), options);
      host_h.bounds(host, mid_lo.data(), mid_hi.data(), n, out_lo.data(), out_hi.data(), options);
      host_h.margin_upper_bounds(host, mid_lo.data(), mid_hi.data(), n, targets, margins.data(),
                                 options);
      Buffer<float> mid_lo_dev = test::poisoned(cuda, n * mid), mid_hi_dev = test::poisoned(cuda, n * mid);
      Buffer<float> out_lo_dev = test::poisoned(cuda, n * k), out_hi_dev = test::poisoned(cuda, n * k),
                    margins_dev = test::poisoned(cuda, n * k);
      cuda_g.bounds(cuda, lo_dev.data(), hi_dev.data(), n, mid_lo_dev.data(), mid_hi_dev.data(), options);
      cuda_h.bounds(cuda, mid_lo_dev.data(), mid_hi_dev.data(), n, out_lo_dev.data(),
                    out_hi_dev.data(), options);
      cuda_h.margin_upper_bounds(cuda, mid_lo_dev.data(), mid_hi_dev.data(), n, targets,
                                 margins_dev.data(), options);
      expect_close(test::download(cuda, mid_lo_dev), mid_lo, 1e-5, mode + " g lower");
      expect_close(test::download(cuda, mid_hi_dev), mid_hi, 1e-5, mode + " g upper");
      expect_close(test::download(cuda, out_lo_dev), out_lo, 1e-5, mode + " h lower");
      expect_close(test::download(cuda, out_hi_dev), out_hi, 1e-5, mode + " h upper");
      expect_close(test::download(cuda, margins_dev), margins, 1e-5, mode + " h margins");
    }
  }
}

}  // namespace
}  // namespace cuxplain
