// Network stack on the host backend: forward of every op against the
// double-precision reference (tests/reference/nn_reference.hpp), batch-norm
// folding, interval bounds that contain 10^4 sampled points per box (plain
// and sound float32), radius-0 bounds, folded margins, memory, errors, and
// networks split at a node composing back to the whole network.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

#include "common/counting_allocator.hpp"
#include "common/nn_graph.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using nn::NodeId;
using test::RandomGraph;

/// A graph and the node that is its output.
struct Net {
  std::shared_ptr<RandomGraph> graph;
  NodeId output;
};

using Maker = std::function<NodeId(RandomGraph&)>;

Net make(const Maker& maker, std::uint32_t seed, bool exact_folding = false) {
  auto graph = std::make_shared<RandomGraph>(seed, exact_folding);
  const NodeId output = maker(*graph);
  return {graph, output};
}

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

// ---- the networks: single ops (odd, non-square sizes, strides, padding) and
// ---- small networks that use every op ----

struct NamedMaker {
  const char* name;
  Maker maker;
};

void PrintTo(const NamedMaker& maker, std::ostream* out) { *out << maker.name; }

const std::vector<NamedMaker>& single_ops() {
  static const std::vector<NamedMaker> makers = {
      {"conv_3x3_stride2_asymmetric_pads",
       [](RandomGraph& g) {
         return g.conv(g.input({3, 7, 6}), 5, 3, 3, conv_params(2, 2, 1, 2, 0, 1));
       }},
      {"conv_2x3_stride_1x2",
       [](RandomGraph& g) {
         return g.conv(g.input({2, 9, 8}), 4, 2, 3, conv_params(1, 2, 0, 1, 1, 0));
       }},
      {"conv_1x1", [](RandomGraph& g) { return g.conv(g.input({5, 3, 4}), 3, 1, 1); }},
      {"dense_flat", [](RandomGraph& g) { return g.dense(g.input({13, 1, 1}), 7); }},
      {"dense_on_image", [](RandomGraph& g) { return g.dense(g.input({2, 3, 4}), 5); }},
      {"relu", [](RandomGraph& g) { return g.relu(g.input({3, 4, 5})); }},
      {"max_pool_3x2_stride_2x1_padded",
       [](RandomGraph& g) {
         return g.max_pool(g.input({3, 7, 8}), pool_params(3, 2, 2, 1, 1, 0, 1, 1));
       }},
      {"max_pool_2x2", [](RandomGraph& g) { return g.max_pool(g.input({2, 6, 5}), pool_params(2, 2, 2, 2)); }},
      {"avg_pool_3x3_stride2_padded",
       [](RandomGraph& g) {
         return g.avg_pool(g.input({2, 7, 9}), pool_params(3, 3, 2, 2, 1, 1, 1, 1));
       }},
      {"avg_pool_count_include_pad",
       [](RandomGraph& g) {
         return g.avg_pool(g.input({2, 7, 6}), pool_params(3, 2, 2, 2, 1, 1, 0, 1, true));
       }},
      {"global_avg_pool", [](RandomGraph& g) { return g.global_avg_pool(g.input({3, 5, 7})); }},
      {"batch_norm_unfolded", [](RandomGraph& g) { return g.batch_norm(g.input({3, 4, 3})); }},
      {"conv_batch_norm_folded",
       [](RandomGraph& g) {
         return g.batch_norm(g.conv(g.input({2, 6, 5}), 3, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
       }},
      {"dense_batch_norm_folded",
       [](RandomGraph& g) { return g.batch_norm(g.dense(g.input({9, 1, 1}), 6)); }},
      {"add_residual",
       [](RandomGraph& g) {
         const NodeId x = g.input({2, 4, 5});
         return g.add(x, g.conv(x, 2, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
       }},
      {"flatten_reshape",
       [](RandomGraph& g) {
         return g.dense(g.reshape(g.flatten(g.input({2, 3, 4})), {4, 3, 2}), 3);
       }},
  };
  return makers;
}

/// Conv, folded and unfolded batch norms, relu, both poolings with padding,
/// flatten, dense.
NodeId cnn(RandomGraph& g) {
  NodeId x = g.input({2, 9, 11});
  x = g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  x = g.batch_norm(x);
  x = g.relu(x);
  x = g.conv(x, 6, 3, 2, conv_params(2, 2, 1, 0, 0, 1));  // 6 x 4 x 6
  x = g.relu(x);
  x = g.max_pool(x, pool_params(3, 3, 1, 1, 1, 1, 1, 1));
  x = g.avg_pool(x, pool_params(2, 2, 2, 2));  // 6 x 2 x 3
  x = g.batch_norm(x);
  x = g.flatten(x);
  x = g.dense(x, 8);
  x = g.batch_norm(x);
  x = g.relu(x);
  return g.dense(x, 5);
}

/// A residual block (conv-bn-relu-conv-bn + skip, add + relu), a batch norm
/// after the add, average pooling counting pads, a reshape, max pooling,
/// global average pooling, dense.
NodeId residual(RandomGraph& g) {
  NodeId x = g.input({3, 8, 7});
  x = g.relu(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
  NodeId y = g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  y = g.relu(g.batch_norm(y));
  y = g.batch_norm(g.conv(y, 4, 1, 1));
  NodeId z = g.relu(g.add(x, y));
  z = g.batch_norm(z);
  z = g.avg_pool(z, pool_params(3, 3, 2, 2, 1, 1, 1, 1, true));  // 4 x 4 x 4
  z = g.reshape(z, {8, 4, 2});
  z = g.max_pool(z, pool_params(2, 2, 2, 2));  // 8 x 2 x 1
  z = g.global_avg_pool(z);
  return g.dense(z, 6);
}

/// Dense layers with a folded and an unfolded batch norm and a residual add.
NodeId mlp(RandomGraph& g) {
  NodeId x = g.input({12, 1, 1});
  NodeId h = g.relu(g.batch_norm(g.dense(x, 16)));
  NodeId h2 = g.batch_norm(g.relu(g.dense(h, 16)));
  return g.dense(g.add(h, h2), 4);
}

const std::vector<NamedMaker>& networks() {
  static const std::vector<NamedMaker> makers = {{"cnn", cnn}, {"residual", residual}, {"mlp", mlp}};
  return makers;
}

std::vector<NamedMaker> all_makers() {
  std::vector<NamedMaker> all = single_ops();
  for (const NamedMaker& m : networks()) all.push_back(m);
  return all;
}

std::vector<float> reference_batch(const Net& net, const std::vector<float>& inputs,
                                   std::int64_t n) {
  const std::int64_t in = net.graph->input_shape().size();
  std::vector<float> out;
  for (std::int64_t s = 0; s < n; ++s) {
    for (double v : net.graph->reference(inputs.data() + s * in, net.output))
      out.push_back(static_cast<float>(v));
  }
  return out;
}

double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

// ---------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------

class NnForward : public ::testing::TestWithParam<NamedMaker> {};

TEST_P(NnForward, MatchesReference) {
  const Context ctx = Context::host();
  const Net net = make(GetParam().maker, 11);
  const nn::Network network = net.graph->build(ctx, net.output);
  const std::int64_t n = 5;
  const std::int64_t in = network.input_shape().size(), out = network.output_shape().size();
  ASSERT_EQ(network.input_shape(), net.graph->input_shape());
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * in), 3, -1.0f, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n * out), test::poison());
  network.forward(ctx, x.data(), n, y.data());
  const std::vector<float> expected = reference_batch(net, x, n);
  ASSERT_EQ(expected.size(), y.size());
  const double scale = max_abs(expected);
  ASSERT_GT(scale, 0.0);
  EXPECT_GT(test::l2_norm(y), 0.0);
  for (std::size_t i = 0; i < y.size(); ++i) {
    ASSERT_NEAR(y[i], expected[i], 2e-6 * scale + 1e-7) << GetParam().name << " element " << i
                                                         << "\n" << network.summary();
  }
}

std::string maker_name(const ::testing::TestParamInfo<NamedMaker>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(EveryOp, NnForward, ::testing::ValuesIn(all_makers()), maker_name);

TEST(NnForward, ConvolutionChunksTheBatch) {
  // 16 x 92 x 92 input, 3 x 3 kernel: 1.2M column floats per sample, so the
  // 2^22-float panel budget takes 3 samples per chunk and a batch of 5 runs
  // as two chunks.
  const Context ctx = Context::host();
  const Net net = make([](RandomGraph& g) {
    return g.conv(g.input({16, 92, 92}), 3, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  }, 5);
  const nn::Network network = net.graph->build(ctx, net.output);
  const std::int64_t n = 5, in = network.input_shape().size(), out = network.output_shape().size();
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * in), 8, -1.0f, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n * out), test::poison());
  network.forward(ctx, x.data(), n, y.data());
  const std::vector<float> expected = reference_batch(net, x, n);
  const double scale = max_abs(expected);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], expected[i], 2e-6 * scale) << i;
  // The bounds walk chunks the same way.
  std::vector<float> lo(y.size(), test::poison()), hi(y.size(), test::poison());
  network.bounds(ctx, x.data(), x.data(), n, lo.data(), hi.data());
  for (std::size_t i = 0; i < y.size(); ++i) {
    ASSERT_EQ(lo[i], y[i]) << i;
    ASSERT_EQ(hi[i], y[i]) << i;
  }
}

TEST(NnForward, OutputThatIsTheInputIsCopied) {
  const Context ctx = Context::host();
  nn::NetworkBuilder b;
  const NodeId x = b.input({2, 3, 1});
  const nn::Network network = b.build(ctx, b.flatten(x));
  EXPECT_EQ(network.output_shape(), (nn::Shape{6, 1, 1}));
  const std::vector<float> in = test::random_uniform(12, 1);
  std::vector<float> out(12, test::poison());
  network.forward(ctx, in.data(), 2, out.data());
  EXPECT_EQ(out, in);
}

// ---------------------------------------------------------------------------
// Building: batch-norm folding, relu fusion, pruning
// ---------------------------------------------------------------------------

TEST(NnBuild, BatchNormFoldingEqualsTheUnfoldedOp) {
  // The same parameters twice: after the conv / dense directly (folded), and
  // behind an identity reshape (kept as a per-channel affine op).
  const Context ctx = Context::host();
  for (bool dense : {false, true}) {
    RandomGraph g(21);
    const NodeId x = g.input(dense ? nn::Shape{10, 1, 1} : nn::Shape{3, 7, 5});
    const NodeId affine = dense ? g.dense(x, 6) : g.conv(x, 4, 3, 3, conv_params(2, 1, 1, 0, 1, 1));
    const nn::Shape shape = g.builder().shape(affine);
    nn::NetworkBuilder other = g.builder();
    const NodeId kept = other.reshape(affine, shape);
    std::mt19937 gen(3);
    std::uniform_real_distribution<float> unit(0.5f, 1.5f);
    std::vector<float> gamma, beta, mean, var;
    for (std::int64_t c = 0; c < shape.c; ++c) {
      gamma.push_back(unit(gen));
      beta.push_back(unit(gen) - 1.0f);
      mean.push_back(unit(gen) - 1.0f);
      var.push_back(unit(gen));
    }
    nn::NetworkBuilder folding = g.builder();
    const nn::Network with_fold = folding.build(
        ctx, folding.batch_norm(affine, gamma, beta, mean, var, 1e-3f));
    const nn::Network without_fold =
        other.build(ctx, other.batch_norm(kept, gamma, beta, mean, var, 1e-3f));
    EXPECT_NE(with_fold.summary().find("batch_norm (folded)"), std::string::npos)
        << with_fold.summary();
    EXPECT_NE(without_fold.summary().find("per-channel affine"), std::string::npos)
        << without_fold.summary();
    const std::int64_t n = 4, in = with_fold.input_shape().size(), out = shape.size();
    const std::vector<float> xs = test::random_uniform(static_cast<std::size_t>(n * in), 5, -1.0f, 1.0f);
    std::vector<float> y1(static_cast<std::size_t>(n * out), test::poison()), y2(y1);
    with_fold.forward(ctx, xs.data(), n, y1.data());
    without_fold.forward(ctx, xs.data(), n, y2.data());
    const double scale = max_abs(y2);
    ASSERT_GT(scale, 0.0);
    for (std::size_t i = 0; i < y1.size(); ++i) EXPECT_NEAR(y1[i], y2[i], 2e-6 * scale) << i;
  }
}

TEST(NnBuild, SummaryShowsFusionFoldingAndPruning) {
  const Context ctx = Context::host();
  RandomGraph g(4);
  const NodeId x = g.input({1, 6, 6});
  const NodeId c = g.conv(x, 2, 3, 3);
  const NodeId unused = g.dense(g.flatten(x), 3);  // not an ancestor of the output
  const NodeId r = g.relu(g.batch_norm(c));
  const NodeId out = g.dense(g.flatten(r), 4);
  (void)unused;
  const nn::Network network = g.build(ctx, out);
  const std::string summary = network.summary();
  EXPECT_NE(summary.find("conv 2 x 3 x 3, stride 1 x 1, pads [0, 0, 0, 0] + batch_norm (folded) + relu -> 2 x 4 x 4"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("dense 32 -> 4 -> 4 x 1 x 1"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("dense 36"), std::string::npos) << summary;
  EXPECT_TRUE(network.folds_margins());
  EXPECT_FALSE(g.build(ctx, r).folds_margins());
}

// ---------------------------------------------------------------------------
// Interval bounds
// ---------------------------------------------------------------------------

/// n boxes around random centres in [-1, 1] with radii from 0.02 to 0.3,
/// varying per element.
void make_boxes(std::int64_t n, std::int64_t in, std::uint32_t seed, std::vector<float>& lo,
                std::vector<float>& hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> centre(-1.0f, 1.0f), factor(0.5f, 1.0f);
  const float radii[] = {0.02f, 0.1f, 0.3f};
  lo.resize(static_cast<std::size_t>(n * in));
  hi.resize(lo.size());
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t i = 0; i < in; ++i) {
      const float c = centre(gen), r = radii[s % 3] * factor(gen);
      lo[static_cast<std::size_t>(s * in + i)] = c - r;
      hi[static_cast<std::size_t>(s * in + i)] = c + r;
    }
  }
}

/// A point of the box: a vertex one time in four (where single affine
/// layers reach their bounds), uniform otherwise.
void sample_point(const float* lo, const float* hi, std::int64_t in, std::mt19937& gen,
                  std::vector<float>& x) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const bool vertex = unit(gen) < 0.25f;
  x.resize(static_cast<std::size_t>(in));
  for (std::int64_t i = 0; i < in; ++i) {
    const float t = unit(gen);
    x[static_cast<std::size_t>(i)] =
        vertex ? (t < 0.5f ? lo[i] : hi[i]) : std::clamp(lo[i] + t * (hi[i] - lo[i]), lo[i], hi[i]);
  }
}

constexpr int kSamplesPerBox = 10000;

class NnBounds : public ::testing::TestWithParam<NamedMaker> {};

TEST_P(NnBounds, ContainSampledOutputsAndFoldedMarginsAreTighter) {
  // Parameters on a binary grid (exact folding): the network cuxplain runs is
  // the one the reference evaluates, so sound bounds must contain every
  // sampled output exactly (up to the reference's double rounding).
  const Context ctx = Context::host();
  const Net net = make(GetParam().maker, 31, /*exact_folding=*/true);
  const nn::Network network = net.graph->build(ctx, net.output);
  const std::int64_t n = 3, in = network.input_shape().size(), k = network.output_shape().size();
  std::vector<float> lo, hi;
  make_boxes(n, in, 9, lo, hi);
  std::vector<int> targets(static_cast<std::size_t>(n));
  for (std::int64_t s = 0; s < n; ++s) targets[static_cast<std::size_t>(s)] = static_cast<int>((s * 7 + 1) % k);

  struct ModeResult {
    std::vector<float> lo, hi, margins;
  };
  ModeResult modes[2];
  for (int sound = 0; sound < 2; ++sound) {
    nn::BoundsOptions options;
    options.sound = sound != 0;
    ModeResult& r = modes[sound];
    r.lo.assign(static_cast<std::size_t>(n * k), test::poison());
    r.hi = r.lo;
    r.margins = r.lo;
    network.bounds(ctx, lo.data(), hi.data(), n, r.lo.data(), r.hi.data(), options);
    network.margin_upper_bounds(ctx, lo.data(), hi.data(), n, targets, r.margins.data(), options);
    for (std::int64_t s = 0; s < n; ++s) {
      const int t = targets[static_cast<std::size_t>(s)];
      for (std::int64_t j = 0; j < k; ++j) {
        const std::size_t e = static_cast<std::size_t>(s * k + j);
        ASSERT_LE(r.lo[e], r.hi[e]) << "box " << s << " output " << j;
        if (j == t) {
          EXPECT_EQ(r.margins[e], 0.0f);
          continue;
        }
        // Folding is never looser than subtracting the bounds (equal up to
        // rounding when the folded weights keep the signs of both rows).
        const double subtracted = static_cast<double>(r.hi[e]) - r.lo[static_cast<std::size_t>(s * k + t)];
        EXPECT_LE(r.margins[e], subtracted + 1e-5 * (1.0 + std::fabs(subtracted)))
            << (sound ? "sound" : "plain") << " box " << s << " output " << j;
      }
    }
  }

  std::mt19937 gen(77);
  std::vector<float> x;
  double worst_plain = 0.0, worst_sound = 0.0;  // largest violation, relative
  for (std::int64_t s = 0; s < n; ++s) {
    const int t = targets[static_cast<std::size_t>(s)];
    for (int sample = 0; sample < kSamplesPerBox; ++sample) {
      sample_point(lo.data() + s * in, hi.data() + s * in, in, gen, x);
      const std::vector<double> y = net.graph->reference(x.data(), net.output);
      for (std::int64_t j = 0; j < k; ++j) {
        const std::size_t e = static_cast<std::size_t>(s * k + j);
        const double value = y[static_cast<std::size_t>(j)];
        const double margin = value - y[static_cast<std::size_t>(t)];
        const double unit = 1.0 + std::fabs(value);
        for (int sound = 0; sound < 2; ++sound) {
          const ModeResult& r = modes[sound];
          double violation = std::max({r.lo[e] - value, value - r.hi[e], margin - r.margins[e]});
          violation /= unit;
          (sound ? worst_sound : worst_plain) = std::max(sound ? worst_sound : worst_plain, violation);
        }
      }
    }
  }
  // Plain float bounds are exact up to a few ulps; sound ones up to the
  // reference's own double rounding.
  EXPECT_LE(worst_plain, 1e-5) << GetParam().name;
  EXPECT_LE(worst_sound, 1e-12) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(EveryOp, NnBounds, ::testing::ValuesIn(all_makers()), maker_name);

class NnRadiusZero : public ::testing::TestWithParam<NamedMaker> {};

TEST_P(NnRadiusZero, BoundsAreTheForwardPass) {
  const Context ctx = Context::host();
  const Net net = make(GetParam().maker, 41, /*exact_folding=*/true);
  const nn::Network network = net.graph->build(ctx, net.output);
  const std::int64_t n = 4, in = network.input_shape().size(), k = network.output_shape().size();
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * in), 6, -1.0f, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n * k), test::poison());
  network.forward(ctx, x.data(), n, y.data());
  std::vector<float> lo(y.size(), test::poison()), hi(y.size(), test::poison());
  network.bounds(ctx, x.data(), x.data(), n, lo.data(), hi.data());
  const double scale = max_abs(y);
  for (std::size_t e = 0; e < y.size(); ++e) {
    EXPECT_NEAR(lo[e], y[e], 1e-6 * scale) << e;
    EXPECT_NEAR(hi[e], y[e], 1e-6 * scale) << e;
  }
  // Sound: the bounds bracket the exact value, within the documented widening.
  nn::BoundsOptions sound;
  sound.sound = true;
  network.bounds(ctx, x.data(), x.data(), n, lo.data(), hi.data(), sound);
  for (std::int64_t s = 0; s < n; ++s) {
    const std::vector<double> exact = net.graph->reference(x.data() + s * in, net.output);
    for (std::int64_t j = 0; j < k; ++j) {
      const std::size_t e = static_cast<std::size_t>(s * k + j);
      const double value = exact[static_cast<std::size_t>(j)];
      const double tiny = 1e-12 * (1.0 + std::fabs(value));
      EXPECT_LE(lo[e], value + tiny) << "sample " << s << " output " << j;
      EXPECT_GE(hi[e], value - tiny) << "sample " << s << " output " << j;
      EXPECT_LE(hi[e] - lo[e], 1e-4 * (1.0 + scale)) << "sample " << s << " output " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryOp, NnRadiusZero, ::testing::ValuesIn(all_makers()), maker_name);

TEST(NnBounds, GenericParametersContainSamples) {
  // Parameters off the binary grid: folding rounds, so the plain-mode check
  // keeps a tolerance; every op as in the grid case.
  const Context ctx = Context::host();
  for (const NamedMaker& maker : networks()) {
    const Net net = make(maker.maker, 51);
    const nn::Network network = net.graph->build(ctx, net.output);
    const std::int64_t n = 3, in = network.input_shape().size(), k = network.output_shape().size();
    std::vector<float> lo, hi;
    make_boxes(n, in, 2, lo, hi);
    std::vector<float> out_lo(static_cast<std::size_t>(n * k)), out_hi(out_lo.size());
    network.bounds(ctx, lo.data(), hi.data(), n, out_lo.data(), out_hi.data());
    std::mt19937 gen(5);
    std::vector<float> x;
    for (std::int64_t s = 0; s < n; ++s) {
      for (int sample = 0; sample < 2000; ++sample) {
        sample_point(lo.data() + s * in, hi.data() + s * in, in, gen, x);
        const std::vector<double> y = net.graph->reference(x.data(), net.output);
        for (std::int64_t j = 0; j < k; ++j) {
          const std::size_t e = static_cast<std::size_t>(s * k + j);
          const double tol = 1e-5 * (1.0 + std::fabs(y[static_cast<std::size_t>(j)]));
          ASSERT_GE(y[static_cast<std::size_t>(j)], out_lo[e] - tol) << maker.name;
          ASSERT_LE(y[static_cast<std::size_t>(j)], out_hi[e] + tol) << maker.name;
        }
      }
    }
  }
}

TEST(NnMargins, FoldingIsTighterThanSubtractingOnNetworks) {
  // On the multi-layer networks the folded margin is strictly smaller for
  // most (box, class) pairs: the last layer's rows share their input box.
  const Context ctx = Context::host();
  for (const NamedMaker& maker : networks()) {
    const Net net = make(maker.maker, 61);
    const nn::Network network = net.graph->build(ctx, net.output);
    ASSERT_TRUE(network.folds_margins()) << maker.name;
    const std::int64_t n = 6, in = network.input_shape().size(), k = network.output_shape().size();
    std::vector<float> lo, hi;
    make_boxes(n, in, 4, lo, hi);
    std::vector<int> targets;
    for (std::int64_t s = 0; s < n; ++s) targets.push_back(static_cast<int>(s % k));
    for (bool sound : {false, true}) {
      nn::BoundsOptions options;
      options.sound = sound;
      std::vector<float> out_lo(static_cast<std::size_t>(n * k)), out_hi(out_lo.size()),
          margins(out_lo.size(), test::poison());
      network.bounds(ctx, lo.data(), hi.data(), n, out_lo.data(), out_hi.data(), options);
      network.margin_upper_bounds(ctx, lo.data(), hi.data(), n, targets, margins.data(), options);
      int tighter = 0, pairs = 0;
      for (std::int64_t s = 0; s < n; ++s) {
        for (std::int64_t j = 0; j < k; ++j) {
          if (j == targets[static_cast<std::size_t>(s)]) continue;
          const float subtracted = out_hi[static_cast<std::size_t>(s * k + j)] -
                                   out_lo[static_cast<std::size_t>(s * k + targets[static_cast<std::size_t>(s)])];
          const float folded = margins[static_cast<std::size_t>(s * k + j)];
          EXPECT_LE(folded, subtracted + 1e-5f * (1.0f + std::fabs(subtracted))) << maker.name;
          tighter += folded < subtracted - 1e-4f * (1.0f + std::fabs(subtracted));
          ++pairs;
        }
      }
      EXPECT_GT(tighter, pairs / 2) << maker.name << (sound ? " sound" : " plain");
    }
  }
}

TEST(NnMargins, WithoutAFinalDenseLayerTheBoundsAreSubtracted) {
  const Context ctx = Context::host();
  RandomGraph g(8);
  const NodeId out = g.relu(g.dense(g.input({6, 1, 1}), 4));
  const nn::Network network = g.build(ctx, out);
  ASSERT_FALSE(network.folds_margins());
  std::vector<float> lo, hi;
  make_boxes(3, 6, 1, lo, hi);
  const std::vector<int> targets = {0, 3, 1};
  std::vector<float> out_lo(12), out_hi(12), margins(12, test::poison());
  network.bounds(ctx, lo.data(), hi.data(), 3, out_lo.data(), out_hi.data());
  network.margin_upper_bounds(ctx, lo.data(), hi.data(), 3, targets, margins.data());
  for (int s = 0; s < 3; ++s) {
    for (int j = 0; j < 4; ++j) {
      const float expected = j == targets[s] ? 0.0f : out_hi[s * 4 + j] - out_lo[s * 4 + targets[s]];
      EXPECT_EQ(margins[s * 4 + j], expected);
    }
  }
}

// ---------------------------------------------------------------------------
// Sound arithmetic primitives
// ---------------------------------------------------------------------------

TEST(NnSoundArithmetic, DirectedResultsBracketTheExactValue) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::uniform_int_distribution<int> exponent(-30, 30);
  using detail::Rounding;
  for (int i = 0; i < 200000; ++i) {
    const float a = std::ldexp(dist(gen), exponent(gen)), b = dist(gen);
    const float c = std::ldexp(dist(gen), exponent(gen));
    // a * b + c in long double (64-bit mantissa): rounding to it is monotone
    // and keeps every float, so the directed floats must bracket it.
    const long double exact = static_cast<long double>(a) * b + c;
    const float fd = detail::fma_rounded<Rounding::down>(a, b, c);
    const float fu = detail::fma_rounded<Rounding::up>(a, b, c);
    ASSERT_LE(static_cast<long double>(fd), exact);
    ASSERT_GE(static_cast<long double>(fu), exact);
    // One ulp apart, or equal only when the result is a float.
    if (fd == fu) ASSERT_EQ(static_cast<long double>(fd), exact);
    ASSERT_TRUE(fu == fd || fu == detail::next_float_up(fd));
    const long double sum = static_cast<long double>(a) + c;
    ASSERT_LE(static_cast<long double>(detail::add_rounded<Rounding::down>(a, c)), sum);
    ASSERT_GE(static_cast<long double>(detail::add_rounded<Rounding::up>(a, c)), sum);
    const long double product = static_cast<long double>(a) * b;
    ASSERT_LE(static_cast<long double>(detail::mul_rounded<Rounding::down>(a, b)), product);
    ASSERT_GE(static_cast<long double>(detail::mul_rounded<Rounding::up>(a, b)), product);
    const float divisor = static_cast<float>(1 + i % 25);
    const long double quotient = static_cast<long double>(a) / divisor;
    const float qd = detail::div_rounded<Rounding::down>(a, divisor);
    const float qu = detail::div_rounded<Rounding::up>(a, divisor);
    ASSERT_LE(static_cast<long double>(qd), quotient);
    ASSERT_GE(static_cast<long double>(qu), quotient);
    ASSERT_TRUE(qu == qd || qu == detail::next_float_up(qd));
  }
  // Overflow rounds to the largest float downward and to infinity upward.
  const float big = 3.0e38f;
  EXPECT_EQ(detail::add_rounded<Rounding::down>(big, big), std::numeric_limits<float>::max());
  EXPECT_EQ(detail::add_rounded<Rounding::up>(big, big), std::numeric_limits<float>::infinity());
  EXPECT_EQ(detail::next_float_up(0.0f), std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(detail::next_float_down(0.0f), -std::numeric_limits<float>::denorm_min());
}

TEST(NnSoundArithmetic, NearestFmaIsFusedAndTheOtherOpsRoundOnce) {
  // The CUDA side computes these with __fmaf_rn, __fadd_rn, __fmul_rn and
  // __fdiv_rn; the host must give the same bits: one rounding per op.
  using detail::Rounding;
  // (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly; rounding the product first
  // (a * b + c) gives 0.
  volatile float one_plus = 1.0f + std::ldexp(1.0f, -12);
  volatile float minus_square = -(1.0f + std::ldexp(1.0f, -11));
  EXPECT_EQ(detail::fma_rounded<Rounding::nearest>(one_plus, one_plus, minus_square),
            std::ldexp(1.0f, -24));
  std::mt19937 gen(2);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::uniform_int_distribution<int> exponent(-30, 30);
  int fused_differs = 0;
  for (int i = 0; i < 200000; ++i) {
    const float a = std::ldexp(dist(gen), exponent(gen)), b = dist(gen);
    const float c = std::ldexp(dist(gen), exponent(gen));
    // Nearest lies between the directed results and is the closer of the two.
    const long double exact = static_cast<long double>(a) * b + c;
    const float fd = detail::fma_rounded<Rounding::down>(a, b, c);
    const float fu = detail::fma_rounded<Rounding::up>(a, b, c);
    const float fn = detail::fma_rounded<Rounding::nearest>(a, b, c);
    ASSERT_TRUE(fn == fd || fn == fu) << a << " " << b << " " << c;
    const float other = fn == fd ? fu : fd;
    ASSERT_LE(std::fabs(static_cast<long double>(fn) - exact),
              std::fabs(static_cast<long double>(other) - exact));
    fused_differs += fn != static_cast<float>(static_cast<float>(a * b) + c);
    // For +, * and / rounding through double first is exact rounding for float.
    ASSERT_EQ(detail::add_rounded<Rounding::nearest>(a, c),
              static_cast<float>(static_cast<double>(a) + c));
    ASSERT_EQ(detail::mul_rounded<Rounding::nearest>(a, b),
              static_cast<float>(static_cast<double>(a) * b));
    ASSERT_EQ(detail::div_rounded<Rounding::nearest>(a, b),
              static_cast<float>(static_cast<double>(a) / b));
  }
  EXPECT_GT(fused_differs, 0);  // the cases where fusing matters were exercised
}

// ---------------------------------------------------------------------------
// Memory and errors
// ---------------------------------------------------------------------------

using test::CountingAllocator;

TEST(NnMemory, TemporariesStayWithinTemporaryBytesAndAreReused) {
  for (const NamedMaker& maker : all_makers()) {
    Context ctx = Context::host();
    const Net net = make(maker.maker, 3);
    auto counting = std::make_shared<CountingAllocator>();
    {
      const nn::Network network = net.graph->build(ctx, net.output);
      ctx.set_allocator(counting);
      for (std::int64_t n : {1, 7, 64}) {
        const std::int64_t in = network.input_shape().size(), k = network.output_shape().size();
        std::vector<float> lo, hi;
        make_boxes(n, in, 3, lo, hi);
        std::vector<float> out_lo(static_cast<std::size_t>(n * k)), out_hi(out_lo.size());
        const std::vector<int> targets(static_cast<std::size_t>(n), 0);
        const auto calls = [&] {
          for (bool sound : {false, true}) {
            nn::BoundsOptions options;
            options.sound = sound;
            network.forward(ctx, lo.data(), n, out_lo.data());
            network.bounds(ctx, lo.data(), hi.data(), n, out_lo.data(), out_hi.data(), options);
            network.margin_upper_bounds(ctx, lo.data(), hi.data(), n, targets, out_lo.data(),
                                        options);
          }
        };
        // What the calls of batch n add to what earlier batch sizes left.
        counting->reset_peak();
        const std::int64_t held = counting->live();
        calls();
        EXPECT_LE(counting->peak() - held, static_cast<std::int64_t>(network.temporary_bytes(n)))
            << maker.name << " n " << n;
        // The same calls again reuse what the first ones kept.
        const std::int64_t allocations = counting->allocations();
        calls();
        EXPECT_EQ(counting->allocations(), allocations) << maker.name << " n " << n;
      }
    }
    // Kept workspaces go with the network.
    EXPECT_EQ(counting->live(), 0) << maker.name;
  }
}

TEST(NnErrors, BuilderArgumentsAreChecked) {
  nn::NetworkBuilder b;
  test::expect_error([&] { b.relu(0); }, "relu: input node 0 does not exist (the builder has 0 nodes)");
  test::expect_error([&] { b.input({0, 1, 1}); }, "input: every extent of the shape must be >= 1, got 0 x 1 x 1");
  const NodeId x = b.input({3, 5, 5});
  test::expect_error([&] { b.input({1, 1, 1}); }, "already has an input (node 0)");
  test::expect_error([&] { b.conv(x, 2, 3, 3, std::vector<float>(10)); },
                     "conv: weight has 10 floats but out_channels x in_channels / groups x kernel_h x kernel_w = 2 x 3 x 3 x 3 = 54");
  nn::ConvParams two_groups;
  two_groups.groups = 2;
  test::expect_error([&] { b.conv(x, 2, 3, 3, std::vector<float>(54), {}, two_groups); },
                     "conv: groups = 2 must be >= 1 and divide the input channels (3) and out_channels (2)");
  nn::ConvParams depthwise;
  depthwise.groups = 3;
  depthwise.dilation_h = 0;
  test::expect_error([&] { b.conv(x, 3, 3, 3, std::vector<float>(27), {}, depthwise); },
                     "conv: dilations must be >= 1, got 0 x 1");
  test::expect_error([&] { b.conv(x, 2, 3, 3, std::vector<float>(54), std::vector<float>(3)); },
                     "conv: bias has 3 floats but out_channels = 2");
  test::expect_error([&] { b.conv(x, 1, 7, 1, std::vector<float>(21)); }, "does not fit the 5 x 5 input");
  nn::ConvParams zero_stride;
  zero_stride.stride_w = 0;
  test::expect_error([&] { b.conv(x, 1, 1, 1, std::vector<float>(3), {}, zero_stride); }, "strides must be >= 1, got 1 x 0");
  std::vector<float> bad(54, 0.0f);
  bad[7] = std::nanf("");
  test::expect_error([&] { b.conv(x, 2, 3, 3, bad); }, "conv: weight[7] = nan is not finite");
  test::expect_error([&] { b.dense(x, 4, std::vector<float>(74)); },
                     "dense: weight has 74 floats but out_features x in_features = 4 x 75 = 300");
  test::expect_error([&] { b.dense(42, 4, std::vector<float>(4)); }, "dense: input node 42 does not exist (the builder has 1 nodes: 0..0)");
  test::expect_error([&] { b.batch_norm(x, {1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}); },
                     "batch_norm: gamma has 2 floats but the input (3 x 5 x 5) has 3 channels");
  test::expect_error([&] { b.batch_norm(x, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, -1, 1}); }, "var[1] = -1");
  test::expect_error([&] { b.max_pool(x, pool_params(2, 2, 2, 2, 2, 0, 0, 0)); },
                     "max_pool: pads [2, 0, 0, 0] must be smaller than the 2 x 2 kernel");
  test::expect_error([&] { b.avg_pool(x, pool_params(6, 1, 1, 1)); }, "avg_pool: the 6 x 1 kernel does not fit");
  test::expect_error([&] { b.reshape(x, {7, 1, 1}); }, "reshape: shape 7 x 1 x 1 has 7 elements but the input (3 x 5 x 5) has 75");
  const NodeId f = b.flatten(x);
  test::expect_error([&] { b.add(x, f); },
                     "add: node 1 (75 x 1 x 1) does not broadcast over node 0 (3 x 5 x 5)");
  test::expect_error([&] { b.mul(x, f); },
                     "mul: node 1 (75 x 1 x 1) does not broadcast over node 0 (3 x 5 x 5)");
  test::expect_error([&] { b.clip(x, 2.0f, 1.0f); }, "clip: min (2) must be <= max (1)");
  test::expect_error([&] { b.hard_sigmoid(x, -1.0f, 0.5f); }, "hard_sigmoid: alpha must be finite and >= 0");
  test::expect_error([&] { b.channel_affine(x, {1, 2}, {0, 0, 0}); },
                     "channel_affine: scale has 2 and shift 3 floats but the input (3 x 5 x 5) has 3 channels");
  test::expect_error([&] { b.concat({x, f}); }, "concat: input 1 (node 1) is 75 x 1 x 1 but input 0 is 3 x 5 x 5");
  nn::PadParams reflect;
  reflect.mode = nn::PadMode::reflect;
  reflect.pad_top = 5;
  test::expect_error([&] { b.pad(x, reflect); }, "pad: reflect pads [5, 0, 0, 0] must be smaller than the 5 x 5 input");
  test::expect_error([&] { b.transpose(x, {0, 0, 1}); }, "transpose: perm must be a permutation of {0, 1, 2}");
  test::expect_error([&] { b.softmax(x); }, "softmax: the input must be a flat vector F x 1 x 1, got 3 x 5 x 5");
  test::expect_error([&] { b.add(x, 9); }, "add: second input node 9 does not exist");
  test::expect_error([&] { (void)b.build(Context::host(), 5); }, "build: output node 5 does not exist");
  nn::NetworkBuilder empty;
  test::expect_error([&] { (void)empty.build(Context::host(), 0); }, "build: the builder has no input node");
}

TEST(NnErrors, CallArgumentsAreCheckedAndOutputsUntouched) {
  const Context ctx = Context::host();
  RandomGraph g(2);
  const NodeId out = g.dense(g.relu(g.dense(g.input({4, 1, 1}), 5)), 3);
  const nn::Network network = g.build(ctx, out);
  std::vector<float> lo = {0, 0, 0, 0, 0, 0, 2, 0}, hi = {1, 1, 1, 1, 1, 1, 1, 1};
  std::vector<float> a(6, test::poison()), b(6, test::poison());
  test::expect_error([&] { network.bounds(ctx, lo.data(), hi.data(), 2, a.data(), b.data()); },
                     "bounds: lower[6] = 2 and upper[6] = 1 do not form a box");
  lo[6] = std::nanf("");
  test::expect_error([&] { network.margin_upper_bounds(ctx, lo.data(), hi.data(), 2, {0, 1}, a.data()); },
                     "margin_upper_bounds: lower[6] = nan");
  for (float v : a) EXPECT_TRUE(std::isnan(v));
  for (float v : b) EXPECT_TRUE(std::isnan(v));
  lo[6] = -std::numeric_limits<float>::infinity();
  test::expect_error([&] { network.bounds(ctx, lo.data(), hi.data(), 2, a.data(), b.data()); },
                     "bounds: lower[6] = -inf and upper[6] = 1 do not form a box (finite lower <= upper is required)");
  lo[6] = 0.0f;
  test::expect_error([&] { network.margin_upper_bounds(ctx, lo.data(), hi.data(), 2, {0, 3}, a.data()); },
                     "targets[1] = 3 is outside [0, 3)");
  test::expect_error([&] { network.margin_upper_bounds(ctx, lo.data(), hi.data(), 2, {0}, a.data()); },
                     "targets has 1 entries but n = 2");
  test::expect_error([&] { network.forward(ctx, lo.data(), 0, a.data()); }, "forward: n must be >= 1, got 0");
  test::expect_error([&] { network.forward(ctx, nullptr, 1, a.data()); }, "forward: input is null");
  nn::BoundsOptions unchecked;
  unchecked.check_boxes = false;
  lo[6] = 2.0f;
  network.bounds(ctx, lo.data(), hi.data(), 2, a.data(), b.data(), unchecked);  // no check, no throw
  const nn::Network none;
  test::expect_error([&] { none.forward(ctx, lo.data(), 1, a.data()); }, "forward: the network is empty");
}

// ---------------------------------------------------------------------------
// Splitting a network at a node: g = input -> cut, h = cut -> output
// ---------------------------------------------------------------------------

/// conv + batch norm + relu + max pool + conv + relu + flatten + dense +
/// relu + dense; the nodes, in order, in `nodes`.
NodeId split_chain(RandomGraph& g, std::vector<NodeId>& nodes) {
  const auto keep = [&](NodeId id) {
    nodes.push_back(id);
    return id;
  };
  NodeId x = keep(g.input({2, 10, 9}));
  x = keep(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
  x = keep(g.batch_norm(x));
  x = keep(g.relu(x));
  x = keep(g.max_pool(x, pool_params(2, 2, 2, 2)));  // 4 x 5 x 4
  x = keep(g.conv(x, 5, 3, 2, conv_params(1, 1, 1, 0, 1, 1)));
  x = keep(g.relu(x));
  x = keep(g.flatten(x));
  x = keep(g.dense(x, 12));
  x = keep(g.relu(x));
  return keep(g.dense(x, 6));
}

/// A residual block whose skip starts at `block_input` (conv + relu), then
/// flatten and dense; `inside` is a node of the block's second branch.
struct ResidualSplit {
  NodeId block_input, inside, sum, output;
};

ResidualSplit split_residual(RandomGraph& g) {
  ResidualSplit r;
  const NodeId x = g.input({3, 6, 5});
  r.block_input = g.relu(g.conv(x, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
  r.inside = g.relu(g.batch_norm(g.conv(r.block_input, 4, 3, 3, conv_params(1, 1, 1, 1, 1, 1))));
  const NodeId y = g.batch_norm(g.conv(r.inside, 4, 1, 1));
  r.sum = g.relu(g.add(r.block_input, y));
  r.output = g.dense(g.flatten(r.sum), 5);
  return r;
}

/// Checks that h = build(cut, output) after g = build(cut) is the whole
/// network: shapes, forward within 1e-5 of the largest logit, plain bounds
/// of h on g's bounds enclosing the whole network's up to 1e-5 (and equal
/// up to rounding), margins never tighter, and (exact_folding graphs, whose
/// stored parameters are the reference's) sound bounds of the composition
/// containing the exact outputs of sampled points.
void expect_split_composes(const RandomGraph& graph, NodeId output, NodeId cut,
                           const std::string& where, bool check_sound = true) {
  SCOPED_TRACE(where);
  const Context ctx = Context::host();
  const nn::Network full = graph.build(ctx, output);
  const nn::Network g = graph.builder().build(ctx, cut);
  const nn::Network h = graph.builder().build(ctx, cut, output);
  const nn::Shape cut_shape = graph.builder().shape(cut);
  EXPECT_EQ(g.input_shape(), full.input_shape());
  EXPECT_EQ(g.output_shape(), cut_shape);
  EXPECT_EQ(h.input_shape(), cut_shape);
  EXPECT_EQ(h.output_shape(), full.output_shape());
  const std::int64_t n = 5, in = full.input_shape().size(), mid = cut_shape.size(),
                     k = full.output_shape().size();

  // Forward.
  const std::vector<float> x =
      test::random_uniform(static_cast<std::size_t>(n * in), 11, -1.0f, 1.0f);
  std::vector<float> expected(static_cast<std::size_t>(n * k), test::poison());
  std::vector<float> activations(static_cast<std::size_t>(n * mid), test::poison());
  std::vector<float> composed(expected.size(), test::poison());
  full.forward(ctx, x.data(), n, expected.data());
  g.forward(ctx, x.data(), n, activations.data());
  h.forward(ctx, activations.data(), n, composed.data());
  const double scale = max_abs(expected);
  ASSERT_GT(scale, 0.0);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(composed[i], expected[i], 1e-5 * scale) << "forward element " << i;
  }

  // Plain bounds and margins.
  std::vector<float> lo, hi;
  make_boxes(n, in, 13, lo, hi);
  std::vector<int> targets;
  for (std::int64_t s = 0; s < n; ++s) targets.push_back(static_cast<int>((2 * s + 1) % k));
  std::vector<float> full_lo(static_cast<std::size_t>(n * k), test::poison()), full_hi(full_lo);
  std::vector<float> mid_lo(static_cast<std::size_t>(n * mid), test::poison()), mid_hi(mid_lo);
  std::vector<float> comp_lo(full_lo), comp_hi(full_lo), full_margins(full_lo), comp_margins(full_lo);
  full.bounds(ctx, lo.data(), hi.data(), n, full_lo.data(), full_hi.data());
  full.margin_upper_bounds(ctx, lo.data(), hi.data(), n, targets, full_margins.data());
  g.bounds(ctx, lo.data(), hi.data(), n, mid_lo.data(), mid_hi.data());
  h.bounds(ctx, mid_lo.data(), mid_hi.data(), n, comp_lo.data(), comp_hi.data());
  h.margin_upper_bounds(ctx, mid_lo.data(), mid_hi.data(), n, targets, comp_margins.data());
  const double bound_scale = std::max(max_abs(full_lo), max_abs(full_hi));
  const double tol = 1e-5 * bound_scale;
  for (std::size_t e = 0; e < full_lo.size(); ++e) {
    ASSERT_LE(comp_lo[e], full_lo[e] + tol) << "lower " << e;
    ASSERT_GE(comp_hi[e], full_hi[e] - tol) << "upper " << e;
    // Interval propagation works op by op: the same bounds up to rounding.
    EXPECT_NEAR(comp_lo[e], full_lo[e], 1e-4 * bound_scale) << "lower " << e;
    EXPECT_NEAR(comp_hi[e], full_hi[e], 1e-4 * bound_scale) << "upper " << e;
    ASSERT_GE(comp_margins[e], full_margins[e] - tol) << "margin " << e;
  }

  // Sound mode: the composition encloses the exact outputs of sampled points.
  if (!check_sound) return;
  nn::BoundsOptions sound;
  sound.sound = true;
  g.bounds(ctx, lo.data(), hi.data(), n, mid_lo.data(), mid_hi.data(), sound);
  h.bounds(ctx, mid_lo.data(), mid_hi.data(), n, comp_lo.data(), comp_hi.data(), sound);
  std::mt19937 gen(5);
  std::vector<float> point;
  for (std::int64_t s = 0; s < n; ++s) {
    for (int sample = 0; sample < 200; ++sample) {
      sample_point(lo.data() + s * in, hi.data() + s * in, in, gen, point);
      const std::vector<double> y = graph.reference(point.data(), output);
      for (std::int64_t j = 0; j < k; ++j) {
        const std::size_t e = static_cast<std::size_t>(s * k + j);
        const double value = y[static_cast<std::size_t>(j)];
        const double unit = 1.0 + std::fabs(value);
        ASSERT_GE(value, comp_lo[e] - 1e-12 * unit) << "sound box " << s << " output " << j;
        ASSERT_LE(value, comp_hi[e] + 1e-12 * unit) << "sound box " << s << " output " << j;
      }
    }
  }
}

TEST(NnSplit, EveryCutOfAChainComposesToTheWholeNetwork) {
  // Parameters on a binary grid so that folding rounds nothing and the sound
  // checks compare against the exact reference.
  RandomGraph graph(41, /*exact_folding=*/true);
  std::vector<NodeId> nodes;
  const NodeId output = split_chain(graph, nodes);
  for (const NodeId cut : nodes) {
    expect_split_composes(graph, output, cut, "cut at node " + std::to_string(cut));
  }
}

TEST(NnSplit, ResidualBlockComposesWhenTheCutIsOutsideTheSkip) {
  RandomGraph graph(43, /*exact_folding=*/true);
  const ResidualSplit r = split_residual(graph);
  // The skip starts at block_input: cutting there keeps both branches in h.
  expect_split_composes(graph, r.output, r.block_input, "cut at the block input");
  expect_split_composes(graph, r.output, r.sum, "cut after the add");
  const nn::Network h = graph.builder().build(Context::host(), r.block_input, r.output);
  EXPECT_NE(h.summary().find("add"), std::string::npos) << h.summary();
}

TEST(NnSplit, BatchNormAndReluRightAfterTheCutRunAsTheirOwnOps) {
  const Context ctx = Context::host();
  RandomGraph graph(47);
  std::vector<NodeId> nodes;
  const NodeId output = split_chain(graph, nodes);
  const NodeId conv = nodes[1], bn = nodes[2];
  const std::string full = graph.build(ctx, output).summary();
  EXPECT_NE(full.find("batch_norm (folded) + relu"), std::string::npos) << full;

  // Cut at the conv: the batch norm has no layer to fold into in h.
  const nn::Network after_conv = graph.builder().build(ctx, conv, output);
  const std::string summary = after_conv.summary();
  EXPECT_EQ(summary.rfind("input 4 x 10 x 9\nbatch_norm (per-channel affine) + relu -> 4 x 10 x 9\n", 0), 0u)
      << summary;
  EXPECT_EQ(summary.find("folded"), std::string::npos) << summary;
  expect_split_composes(graph, output, conv, "cut at the conv (plain parameters)", false);

  // Cut at the batch norm: the relu has no layer to fuse into in h.
  const std::string after_bn = graph.builder().build(ctx, bn, output).summary();
  EXPECT_EQ(after_bn.rfind("input 4 x 10 x 9\nrelu -> 4 x 10 x 9\n", 0), 0u) << after_bn;
  expect_split_composes(graph, output, bn, "cut at the batch norm (plain parameters)", false);

  // g keeps the conv with the batch norm folded, without the relu after it.
  const std::string g = graph.builder().build(ctx, bn).summary();
  EXPECT_NE(g.find("+ batch_norm (folded) -> 4 x 10 x 9"), std::string::npos) << g;
  EXPECT_EQ(g.find("relu"), std::string::npos) << g;
}

TEST(NnSplit, FromTheInputNodeIsTheWholeNetwork) {
  const Context ctx = Context::host();
  RandomGraph graph(53);
  std::vector<NodeId> nodes;
  const NodeId output = split_chain(graph, nodes);
  const nn::Network whole = graph.build(ctx, output);
  const nn::Network from_input = graph.builder().build(ctx, nodes[0], output);
  EXPECT_EQ(from_input.summary(), whole.summary());
  EXPECT_EQ(from_input.folds_margins(), whole.folds_margins());
}

TEST(NnSplit, FromTheOutputIsTheIdentity) {
  const Context ctx = Context::host();
  RandomGraph graph(59);
  std::vector<NodeId> nodes;
  split_chain(graph, nodes);
  const NodeId cut = nodes[4];  // the max pool, 4 x 5 x 4
  const nn::Network identity = graph.builder().build(ctx, cut, cut);
  EXPECT_EQ(identity.input_shape(), (nn::Shape{4, 5, 4}));
  EXPECT_EQ(identity.output_shape(), (nn::Shape{4, 5, 4}));
  EXPECT_FALSE(identity.folds_margins());
  EXPECT_NE(identity.summary().find("(the input)"), std::string::npos) << identity.summary();
  const std::int64_t n = 3, size = 80;
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * size), 2, -1.0f, 1.0f);
  std::vector<float> y(x.size(), test::poison());
  identity.forward(ctx, x.data(), n, y.data());
  EXPECT_EQ(y, x);
  std::vector<float> lo, hi;
  make_boxes(n, size, 3, lo, hi);
  std::vector<float> out_lo(lo.size(), test::poison()), out_hi(lo.size(), test::poison());
  identity.bounds(ctx, lo.data(), hi.data(), n, out_lo.data(), out_hi.data());
  EXPECT_EQ(out_lo, lo);
  EXPECT_EQ(out_hi, hi);
  const std::vector<int> targets = {0, 7, 79};
  std::vector<float> margins(lo.size(), test::poison());
  identity.margin_upper_bounds(ctx, lo.data(), hi.data(), n, targets, margins.data());
  for (std::int64_t s = 0; s < n; ++s) {
    const int t = targets[static_cast<std::size_t>(s)];
    for (std::int64_t j = 0; j < size; ++j) {
      const std::size_t e = static_cast<std::size_t>(s * size + j);
      const float expected = j == t ? 0.0f : hi[e] - lo[static_cast<std::size_t>(s * size + t)];
      EXPECT_NEAR(margins[e], expected, 1e-6) << s << " " << j;
    }
  }
  EXPECT_LE(identity.temporary_bytes(n), 4096u);
}

// ---------------------------------------------------------------------------
// Layouts: a host forward keeps oneDNN's layouts (nChw16c, NHWC) between its
// oneDNN layers and reorders to NCHW where a hand-written layer reads a
// value (host/nn/dnnl.hpp). These networks cross that boundary both ways;
// each forward is checked against the double reference and against the
// hand-written path (CUXPLAIN_NN_DNNL=0), whole and split.
// ---------------------------------------------------------------------------

/// Sets CUXPLAIN_NN_DNNL=0 while it lives (networks plan on their first
/// call, so a network first called meanwhile runs hand-written).
class HandWrittenPath {
 public:
  HandWrittenPath() {
    const char* old = std::getenv("CUXPLAIN_NN_DNNL");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("CUXPLAIN_NN_DNNL", "0", 1);
  }
  ~HandWrittenPath() {
    if (had_) {
      setenv("CUXPLAIN_NN_DNNL", old_.c_str(), 1);
    } else {
      unsetenv("CUXPLAIN_NN_DNNL");
    }
  }
  HandWrittenPath(const HandWrittenPath&) = delete;
  HandWrittenPath& operator=(const HandWrittenPath&) = delete;

 private:
  bool had_ = false;
  std::string old_;
};

/// 16-channel convolutions (nChw16c), a floor-mode 1 x 1 stride-2
/// convolution, max and counting-pads average pooling, an add of a kept
/// value and an NCHW one (an unfolded batch norm, hand-written, between),
/// a kept value that a hand-written layer also reads, a 5-channel
/// convolution (NHWC) and dense layers reading NHWC and nChw16c values.
NodeId layout_mix(RandomGraph& g) {
  const NodeId x = g.input({3, 12, 10});
  const NodeId a = g.relu(g.conv(x, 16, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
  const NodeId p = g.max_pool(a, pool_params(2, 2, 2, 2));                        // 16 x 6 x 5
  const NodeId d = g.conv(p, 16, 1, 1, conv_params(2, 2, 0, 0, 0, 0));           // 16 x 3 x 3
  const NodeId b = g.batch_norm(g.relu(g.conv(p, 16, 3, 3, conv_params(2, 2, 1, 1, 1, 1))));
  const NodeId s = g.relu(g.add(d, b));
  const NodeId c5 = g.relu(g.conv(s, 5, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));  // 5 x 3 x 3
  const NodeId avg = g.avg_pool(c5, pool_params(3, 3, 1, 1, 1, 1, 1, 1, true));
  const NodeId t = g.relu(g.conv(g.batch_norm(s), 16, 3, 3, conv_params(1, 1, 1, 1, 1, 1)));
  const NodeId f = g.add(g.dense(g.flatten(avg), 7), g.dense(g.flatten(t), 7));
  return g.dense(g.relu(f), 4);
}

/// An input of 16 channels reordered in, a relu of its own after a pool
/// (oneDNN eltwise), a residual add over 64 channels (NHWC for a single
/// sample, nChw16c otherwise), a reshape that a convolution reads in
/// another shape (NCHW there), pooling on NCHW again, global average
/// pooling on a kept value, and a dense layer after it.
NodeId layout_residual(RandomGraph& g) {
  const NodeId x = g.input({16, 8, 8});
  const NodeId a = g.conv(x, 64, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  const NodeId m = g.relu(g.max_pool(a, pool_params(3, 3, 2, 2, 1, 1, 1, 1)));   // 64 x 4 x 4
  const NodeId r = g.relu(g.add(m, g.relu(g.conv(m, 64, 3, 3, conv_params(1, 1, 1, 1, 1, 1)))));
  const NodeId z = g.conv(g.reshape(r, {32, 8, 4}), 16, 3, 3, conv_params(1, 1, 1, 1, 1, 1));
  const NodeId q = g.relu(g.conv(g.avg_pool(z, pool_params(2, 2, 2, 2)), 64, 1, 1));  // 64 x 4 x 2
  const NodeId gap = g.global_avg_pool(q);
  return g.dense(g.relu(g.add(gap, g.global_avg_pool(r))), 6);
}

const std::vector<NamedMaker>& layout_networks() {
  static const std::vector<NamedMaker> makers = {{"layout_mix", layout_mix},
                                                 {"layout_residual", layout_residual}};
  return makers;
}

/// `network` (oneDNN where built with it) and the same network built and
/// first called on the hand-written path, on n samples of x: both within
/// float tolerance of the double reference at `output`, and of each other.
void expect_paths_agree(const RandomGraph& graph, const nn::Network& network,
                        const nn::Network& hand_written, NodeId from, NodeId output,
                        const std::vector<float>& x, std::int64_t n, const std::string& where) {
  SCOPED_TRACE(where);
  const Context ctx = Context::host();
  const std::int64_t out = network.output_shape().size();
  std::vector<float> y(static_cast<std::size_t>(n * out), test::poison());
  std::vector<float> y_hand(y.size(), test::poison());
  // Twice: the second call reuses the execution the first one planned.
  for (int call = 0; call < 2; ++call) {
    std::fill(y.begin(), y.end(), test::poison());
    network.forward(ctx, x.data(), n, y.data());
  }
  {
    const HandWrittenPath hand;
    hand_written.forward(ctx, x.data(), n, y_hand.data());
  }
  std::vector<float> expected;  // from the input only (the reference starts there)
  const std::int64_t in = network.input_shape().size();
  for (std::int64_t s = 0; from < 0 && s < n; ++s) {
    for (const double v : graph.reference(x.data() + s * in, output)) {
      expected.push_back(static_cast<float>(v));
    }
  }
  const double scale = std::max(max_abs(y_hand), expected.empty() ? 0.0 : max_abs(expected));
  ASSERT_GT(scale, 0.0);
  for (std::size_t i = 0; i < y.size(); ++i) {
    ASSERT_NEAR(y[i], y_hand[i], 1e-5 * scale) << "element " << i << "\n" << network.summary();
    if (!expected.empty()) {
      ASSERT_NEAR(y[i], expected[i], 1e-5 * scale) << "element " << i << "\n"
                                                    << network.summary();
    }
  }
}

class NnLayouts : public ::testing::TestWithParam<NamedMaker> {};

TEST_P(NnLayouts, KeptLayoutsGiveTheHandWrittenValues) {
  const Context ctx = Context::host();
  RandomGraph graph(71);
  const NodeId output = GetParam().maker(graph);
  const std::int64_t in = graph.input_shape().size();
  for (const std::int64_t n : {1, 7, 40}) {
    const nn::Network network = graph.build(ctx, output);
    nn::Network hand_written;
    {
      const HandWrittenPath hand;
      hand_written = graph.build(ctx, output);
    }
    const std::vector<float> x =
        test::random_uniform(static_cast<std::size_t>(n * in), 5, -1.0f, 1.0f);
    expect_paths_agree(graph, network, hand_written, -1, output, x, n,
                       "n = " + std::to_string(n));
  }
}

TEST_P(NnLayouts, SplitHalvesGiveTheHandWrittenValues) {
  // Every cut: g's output (a value oneDNN may keep in its layout inside the
  // whole network) must come out NCHW, and h must read it so.
  const Context ctx = Context::host();
  RandomGraph graph(73);
  const NodeId output = GetParam().maker(graph);
  const std::int64_t n = 6, in = graph.input_shape().size();
  const std::vector<float> x = test::random_uniform(static_cast<std::size_t>(n * in), 9, -1.0f, 1.0f);
  int splits = 0;
  for (NodeId cut = 1; cut < output; ++cut) {
    const std::string where = "cut at node " + std::to_string(cut);
    nn::Network g, h;
    try {
      g = graph.builder().build(ctx, cut);
      h = graph.builder().build(ctx, cut, output);
    } catch (const Error&) {
      continue;  // a cut inside a skip connection: not a split
    }
    nn::Network g_hand, h_hand;
    {
      const HandWrittenPath hand;
      g_hand = graph.builder().build(ctx, cut);
      h_hand = graph.builder().build(ctx, cut, output);
    }
    expect_paths_agree(graph, g, g_hand, -1, cut, x, n, where + ", g");
    std::vector<float> mid(static_cast<std::size_t>(n * g.output_shape().size()), test::poison());
    g.forward(ctx, x.data(), n, mid.data());
    expect_paths_agree(graph, h, h_hand, cut, output, mid, n, where + ", h");
    expect_split_composes(graph, output, cut, where, /*check_sound=*/false);
    ++splits;
  }
  // Seven in each network (layout_mix's max pool among them, a value the
  // whole network keeps in nChw16c).
  EXPECT_GE(splits, 7) << "cuts that split the network";
}

INSTANTIATE_TEST_SUITE_P(Networks, NnLayouts, ::testing::ValuesIn(layout_networks()), maker_name);

TEST(NnSplit, BadCutsAreErrorsNamingTheNodes) {
  const Context ctx = Context::host();
  RandomGraph graph(61);
  const ResidualSplit r = split_residual(graph);
  const nn::NetworkBuilder& b = graph.builder();
  // inside the block: the skip from block_input reaches the add around it.
  const std::string around = test::error_message([&] { (void)b.build(ctx, r.inside, r.output); });
  test::expect_mentions(around, "build: output node " + std::to_string(r.output) +
                                    " depends on the network input (node 0) other than through node from = " +
                                    std::to_string(r.inside));
  test::expect_error([&] { (void)b.build(ctx, r.output, r.sum); },
                     "build: node from = " + std::to_string(r.output) + " comes after output node " +
                         std::to_string(r.sum));
  test::expect_error([&] { (void)b.build(ctx, 99, r.output); }, "build: from node 99 does not exist");
  test::expect_error([&] { (void)b.build(ctx, r.sum, 99); }, "build: output node 99 does not exist");
  test::expect_error([&] { (void)b.build(ctx, -1, r.output); }, "build: from node -1 does not exist");
  // A node on a branch the output does not read.
  nn::NetworkBuilder branches = b;
  const NodeId side = branches.relu(r.block_input);
  const NodeId out = branches.dense(branches.flatten(r.block_input), 3, std::vector<float>(3 * 120, 0.5f));
  test::expect_error([&] { (void)branches.build(ctx, side, out); },
                     "build: output node " + std::to_string(out) + " does not depend on node from = " +
                         std::to_string(side));
  nn::NetworkBuilder empty;
  test::expect_error([&] { (void)empty.build(ctx, 0, 0); }, "build: the builder has no input node");
}

}  // namespace
}  // namespace cuxplain
