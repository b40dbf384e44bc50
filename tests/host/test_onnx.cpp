// ONNX models into cuxplain::nn: the embedded Fashion-MNIST model reproduces
// the exporter's logits; unsupported ops, attributes and broken files are
// errors that name the problem; the tensor names and the split at one of
// them compose back to the whole network.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/fashion_mnist_fixture.hpp"
#include "common/test_utils.hpp"

#if CUXPLAIN_WITH_ONNX
#include "common/onnx_models.hpp"
#endif

namespace cuxplain {
namespace {

const std::string kModel = std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx";

using test::Fixture;
using test::read_fixture;

TEST(Onnx, EmbeddedModelReproducesTheExportersLogits) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const Fixture f = read_fixture();
  ASSERT_EQ(f.count, 64);
  ASSERT_EQ(static_cast<std::int64_t>(f.pixels.size()), f.count * f.h * f.w);
  ASSERT_EQ(static_cast<std::int64_t>(f.logits.size()), f.count * f.classes);
  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, kModel);
  EXPECT_EQ(net.input_shape(), (nn::Shape{1, 28, 28}));
  EXPECT_EQ(net.output_shape().size(), 10);
  std::vector<float> logits(f.logits.size(), test::poison());
  net.forward(ctx, f.pixels.data(), f.count, logits.data());
  double max_diff = 0.0;
  int correct = 0;
  for (std::int64_t i = 0; i < f.count; ++i) {
    for (std::int64_t k = 0; k < f.classes; ++k) {
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(logits[i * f.classes + k] -
                                                                  f.logits[i * f.classes + k])));
    }
    const auto row = logits.begin() + i * f.classes;
    const auto expected_row = f.logits.begin() + i * f.classes;
    EXPECT_EQ(std::max_element(row, row + f.classes) - row,
              std::max_element(expected_row, expected_row + f.classes) - expected_row)
        << "image " << i;
    correct += (std::max_element(row, row + f.classes) - row) == f.labels[i];
  }
  // float32 through the same ops; BatchNorm folded into the convolutions here.
  EXPECT_LT(max_diff, 1e-4) << "max abs logit difference " << max_diff;
  EXPECT_GT(correct, 55);  // the model is ~91% accurate
  RecordProperty("max_abs_logit_difference", std::to_string(max_diff));
  std::printf("max abs logit difference vs the exporter: %.3g (%d/64 correct)\n", max_diff, correct);
}

TEST(Onnx, MissingTruncatedAndEmptyFilesAreErrors) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  test::expect_error([] { nn::read_onnx("/nonexistent/model.onnx"); },
                     "cannot open ONNX model '/nonexistent/model.onnx'");
  std::ifstream in(kModel, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  ASSERT_GT(data.size(), 1000u);
  for (std::size_t cut : {data.size() / 2, data.size() - 7, std::size_t{10}}) {
    try {
      nn::read_onnx(data.data(), cut, "cut.onnx");
      ADD_FAILURE() << "a model cut at " << cut << " bytes was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos) << e.what();
    }
  }
  test::expect_error([] { nn::read_onnx("", 0, "empty.onnx"); }, "ONNX model 'empty.onnx' is empty");
}

#if CUXPLAIN_WITH_ONNX

using test::onnx_models::add_initializer;
using test::onnx_models::add_node;
using test::onnx_models::model_with_input;
using test::onnx_models::set_output;

nn::OnnxModel read(const onnx::ModelProto& model) {
  const std::string bytes = model.SerializeAsString();
  return nn::read_onnx(bytes.data(), bytes.size(), "test.onnx");
}

TEST(Onnx, UnsupportedOpNamesTheOpAndNode) {
  auto model = model_with_input(1, 4);
  add_node(model, "Relu", "first", {"x"}, "r");
  add_node(model, "Erf", "squash", {"r"}, "y");
  set_output(model, "y");
  test::expect_error([&] { read(model); }, "node 'squash' (Erf): op Erf is not supported");
}

TEST(Onnx, UnsupportedAttributeNamesItsValue) {
  auto model = model_with_input(2, 4);
  add_initializer(model, "w", {2, 1, 3, 3}, std::vector<float>(18, 0.1f));
  auto* conv = add_node(model, "Conv", "grouped", {"x", "w"}, "y");
  test::onnx_models::set_int(conv, "group", 2);
  auto* pad = conv->add_attribute();
  pad->set_name("auto_pad");
  pad->set_type(onnx::AttributeProto::STRING);
  pad->set_s("SAME");
  set_output(model, "y");
  test::expect_error([&] { read(model); },
                     "node 'grouped' (Conv): attribute auto_pad = SAME is not supported "
                     "(NOTSET, VALID, SAME_UPPER or SAME_LOWER)");

  auto pool_model = model_with_input(1, 4);
  auto* pool = add_node(pool_model, "MaxPool", "ceil", {"x"}, "y");
  auto* kernel = pool->add_attribute();
  kernel->set_name("kernel_shape");
  kernel->set_type(onnx::AttributeProto::INTS);
  kernel->add_ints(2);
  kernel->add_ints(2);
  auto* order = pool->add_attribute();
  order->set_name("storage_order");
  order->set_type(onnx::AttributeProto::INT);
  order->set_i(1);
  set_output(pool_model, "y");
  test::expect_error([&] { read(pool_model); }, "attribute storage_order = 1 is not supported");
}

TEST(Onnx, MatMulPlusAddAndGemmVariantsMatchTheBuilder) {
  // x (1 x 2 x 2) -> Flatten -> MatMul B [4 x 3] + bias -> Relu -> Gemm (transB = 0,
  // alpha 2, beta 0.5) -> y (2 outputs).
  auto model = model_with_input(1, 2);
  const std::vector<float> b{1, -2, 0.5f, 3, 0, -1, -0.5f, 2, 1, 0.25f, 1, -3};  // [in=4][out=3]
  const std::vector<float> bias{0.1f, -0.2f, 0.3f};
  const std::vector<float> g{1, -1, 2, 0.5f, -1, 3};  // [in=3][out=2]
  const std::vector<float> c{0.4f, -0.6f};
  add_initializer(model, "b", {4, 3}, b);
  add_initializer(model, "bias", {3}, bias);
  add_initializer(model, "g", {3, 2}, g);
  add_initializer(model, "c", {2}, c);
  add_node(model, "Flatten", "flat", {"x"}, "f");
  add_node(model, "MatMul", "mm", {"f", "b"}, "m");
  add_node(model, "Add", "plus", {"m", "bias"}, "a");
  add_node(model, "Relu", "act", {"a"}, "r");
  auto* gemm = add_node(model, "Gemm", "head", {"r", "g", "c"}, "y");
  auto* alpha = gemm->add_attribute();
  alpha->set_name("alpha");
  alpha->set_type(onnx::AttributeProto::FLOAT);
  alpha->set_f(2.0f);
  auto* beta = gemm->add_attribute();
  beta->set_name("beta");
  beta->set_type(onnx::AttributeProto::FLOAT);
  beta->set_f(0.5f);
  set_output(model, "y");
  nn::OnnxModel loaded = read(model);
  const Context ctx = Context::host();
  const nn::Network net = loaded.builder.build(ctx, loaded.output);

  const std::vector<float> x{0.3f, -1.2f, 0.8f, 2.0f};
  std::vector<float> y(2, test::poison());
  net.forward(ctx, x.data(), 1, y.data());
  std::vector<double> hidden(3);
  for (int o = 0; o < 3; ++o) {
    double s = bias[o];
    for (int i = 0; i < 4; ++i) s += x[i] * b[i * 3 + o];
    hidden[o] = std::max(0.0, s);
  }
  for (int o = 0; o < 2; ++o) {
    double s = 0.5 * c[o];
    for (int i = 0; i < 3; ++i) s += 2.0 * hidden[i] * g[i * 2 + o];
    EXPECT_NEAR(y[o], s, 1e-5) << o;
  }
}

TEST(Onnx, KerasDenseHeadWithSoftmaxOverItsFeatures) {
  // As tf2onnx writes GlobalAveragePooling2D, Dense(softmax): x (N x 3 x 2 x
  // 2) -> GlobalAveragePool -> Squeeze axes [2, 3] -> MatMul B [3 x 4] + bias
  // -> Softmax (opset 13+: axis -1, the features of N x 4).
  auto model = model_with_input(3, 2);
  const std::vector<float> b{1, -2, 0.5f, 3, 0, -1, -0.5f, 2, 1, 0.25f, 1, -3};  // [in=3][out=4]
  const std::vector<float> bias{0.1f, -0.2f, 0.3f, 0.0f};
  add_initializer(model, "b", {3, 4}, b);
  add_initializer(model, "bias", {4}, bias);
  test::onnx_models::add_keras_softmax_head(model, "x", "b", "bias", "y");
  set_output(model, "y");
  nn::OnnxModel loaded = read(model);
  EXPECT_EQ(loaded.builder.shape(loaded.output), (nn::Shape{4, 1, 1}));
  const Context ctx = Context::host();
  const nn::Network net = loaded.builder.build(ctx, loaded.output);
  const std::vector<float> x{0.3f, -1.2f, 0.8f, 2.0f, 1.5f, 0.5f, -0.5f, 0.0f, -2.0f, 1.0f, 0.25f, 3.0f};
  std::vector<float> y(4, test::poison());
  net.forward(ctx, x.data(), 1, y.data());
  double logits[4], total = 0.0;
  for (int o = 0; o < 4; ++o) {
    logits[o] = bias[o];
    for (int c = 0; c < 3; ++c) {
      const double mean = (x[c * 4] + x[c * 4 + 1] + x[c * 4 + 2] + x[c * 4 + 3]) / 4.0;
      logits[o] += mean * b[c * 4 + o];
    }
    total += std::exp(logits[o]);
  }
  for (int o = 0; o < 4; ++o) EXPECT_NEAR(y[o], std::exp(logits[o]) / total, 1e-6) << o;
}

TEST(Onnx, ChannelsLastInputReadAsNchw) {
  // x (N x H x W x C = N x 2 x 3 x 4) -> Mul k[c] -> Transpose to NCHW.
  // Read as exported, the network takes the NHWC sample; with
  // OnnxInput::channels_last_as_nchw it takes the same image as C x H x W.
  const std::int64_t H = 2, W = 3, C = 4;
  auto model = model_with_input({H, W, C});
  const std::vector<float> k{2.0f, -1.0f, 0.5f, 3.0f};
  add_initializer(model, "k", {1, 1, 1, C}, k);
  add_node(model, "Mul", "gain", {"x", "k"}, "a");
  test::onnx_models::set_ints(add_node(model, "Transpose", "to_nchw", {"a"}, "y"), "perm", {0, 3, 1, 2});
  set_output(model, "y");
  const std::string bytes = model.SerializeAsString();
  nn::OnnxModel as_nchw =
      nn::read_onnx(bytes.data(), bytes.size(), "test.onnx", nn::OnnxInput::channels_last_as_nchw);
  nn::OnnxModel as_exported = read(model);
  const Context ctx = Context::host();
  const nn::Network net = as_nchw.builder.build(ctx, as_nchw.output);
  const nn::Network exported = as_exported.builder.build(ctx, as_exported.output);
  EXPECT_EQ(net.input_shape(), (nn::Shape{C, H, W}));
  EXPECT_EQ(exported.input_shape(), (nn::Shape{H, W, C}));
  EXPECT_EQ(net.output_shape(), (nn::Shape{C, H, W}));
  // The input tensor is listed as the network takes it.
  EXPECT_EQ(as_nchw.builder.shape(as_nchw.node("x")), (nn::Shape{C, H, W}));
  EXPECT_EQ(as_nchw.tensors.front().first, "x");
  const std::int64_t d = C * H * W;
  std::vector<float> nchw(static_cast<std::size_t>(d)), nhwc(nchw.size());
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t h = 0; h < H; ++h) {
      for (std::int64_t w = 0; w < W; ++w) {
        const float v = 0.25f * static_cast<float>(c * 100 + h * 10 + w) - 7.0f;
        nchw[(c * H + h) * W + w] = v;
        nhwc[(h * W + w) * C + c] = v;
      }
    }
  }
  std::vector<float> y(nchw.size(), test::poison()), y_exported(nchw.size(), test::poison());
  net.forward(ctx, nchw.data(), 1, y.data());
  exported.forward(ctx, nhwc.data(), 1, y_exported.data());
  for (std::int64_t i = 0; i < d; ++i) {
    EXPECT_EQ(y[i], nchw[i] * k[i / (H * W)]) << i;
    EXPECT_EQ(y_exported[i], y[i]) << i;
  }
  // Bounds of the box [x - 1, x + 1] given in NCHW: the gain's ends.
  std::vector<float> lower(nchw), upper(nchw), lo(nchw.size(), test::poison()), hi(lo);
  for (std::int64_t i = 0; i < d; ++i) {
    lower[i] -= 1.0f;
    upper[i] += 1.0f;
  }
  net.bounds(ctx, lower.data(), upper.data(), 1, lo.data(), hi.data());
  for (std::int64_t i = 0; i < d; ++i) {
    const float g = k[i / (H * W)], a = lower[i] * g, b = upper[i] * g;
    EXPECT_EQ(lo[i], std::min(a, b)) << i;
    EXPECT_EQ(hi[i], std::max(a, b)) << i;
  }
  // An input that is not N x H x W x C cannot be read that way.
  auto flat = model_with_input({12});
  add_node(flat, "Relu", "act", {"x"}, "y");
  set_output(flat, "y");
  const std::string flat_bytes = flat.SerializeAsString();
  test::expect_error(
      [&] {
        nn::read_onnx(flat_bytes.data(), flat_bytes.size(), "flat.onnx", nn::OnnxInput::channels_last_as_nchw);
      },
      "ONNX model 'flat.onnx': input 'x' of shape N x [12] is not N x H x W x C");
}

TEST(Onnx, AutoPadIsTheExplicitPaddingOnnxDefines) {
  // x is 1 x 4 x 5; 3 x 3 windows at stride 2 give ceil(4 / 2) x ceil(5 / 2)
  // = 2 x 3 outputs with SAME padding: 1 row in all (SAME_UPPER: at the
  // bottom, SAME_LOWER: at the top) and 2 columns (one each side). VALID
  // pads nothing: 1 x 2 outputs.
  using test::onnx_models::set_int;
  using test::onnx_models::set_ints;
  using test::onnx_models::set_string;
  const std::int64_t H = 4, W = 5;
  std::vector<float> x(static_cast<std::size_t>(H * W));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 11) - 4.5f;
  const std::vector<float> k{1, -2, 0.5f, 3, 0.25f, -1, 2, 1, -0.5f};
  // The window at output (oy, ox), its top left corner at
  // (oy * 2 - top, ox * 2 - left), over the cells inside x.
  enum class Op { conv, max, mean };
  auto expected = [&](Op op, std::int64_t top, std::int64_t left, std::int64_t oh, std::int64_t ow) {
    std::vector<float> y;
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        double sum = 0.0, best = -1e30;
        int count = 0;
        for (std::int64_t ky = 0; ky < 3; ++ky) {
          for (std::int64_t kx = 0; kx < 3; ++kx) {
            const std::int64_t iy = oy * 2 - top + ky, ix = ox * 2 - left + kx;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x[static_cast<std::size_t>(iy * W + ix)];
            sum += op == Op::conv ? k[static_cast<std::size_t>(ky * 3 + kx)] * v : v;
            best = std::max(best, v);
            ++count;
          }
        }
        y.push_back(static_cast<float>(op == Op::max ? best : op == Op::mean ? sum / count : sum));
      }
    }
    return y;
  };
  struct Case {
    const char* op;
    const char* mode;
    Op kind;
    std::int64_t top, left, oh, ow;
  };
  const Case cases[] = {
      {"Conv", "SAME_UPPER", Op::conv, 0, 1, 2, 3},         {"Conv", "SAME_LOWER", Op::conv, 1, 1, 2, 3},
      {"Conv", "VALID", Op::conv, 0, 0, 1, 2},              {"MaxPool", "SAME_UPPER", Op::max, 0, 1, 2, 3},
      {"MaxPool", "SAME_LOWER", Op::max, 1, 1, 2, 3},       {"AveragePool", "SAME_UPPER", Op::mean, 0, 1, 2, 3},
      {"AveragePool", "SAME_LOWER", Op::mean, 1, 1, 2, 3}};
  const Context ctx = Context::host();
  for (const Case& c : cases) {
    auto model = model_with_input({1, H, W});
    const bool conv = std::string(c.op) == "Conv";
    if (conv) add_initializer(model, "k", {1, 1, 3, 3}, k);
    auto* node = add_node(model, c.op, "window", conv ? std::vector<std::string>{"x", "k"}
                                                      : std::vector<std::string>{"x"}, "y");
    set_ints(node, "kernel_shape", {3, 3});
    set_ints(node, "strides", {2, 2});
    set_string(node, "auto_pad", c.mode);
    set_output(model, "y");
    nn::OnnxModel loaded = read(model);
    ASSERT_EQ(loaded.builder.shape(loaded.output), (nn::Shape{1, c.oh, c.ow})) << c.op << " " << c.mode;
    const nn::Network net = loaded.builder.build(ctx, loaded.output);
    std::vector<float> y(static_cast<std::size_t>(c.oh * c.ow), test::poison());
    net.forward(ctx, x.data(), 1, y.data());
    const std::vector<float> want = expected(c.kind, c.top, c.left, c.oh, c.ow);
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5) << c.op << " " << c.mode << " " << i;
  }
  // auto_pad with nonzero pads, SAME with ceil_mode, and an unknown mode
  // are errors naming the node.
  auto both = model_with_input({1, H, W});
  auto* pool = add_node(both, "MaxPool", "pool", {"x"}, "y");
  set_ints(pool, "kernel_shape", {3, 3});
  set_ints(pool, "pads", {1, 1, 1, 1});
  set_string(pool, "auto_pad", "SAME_UPPER");
  set_output(both, "y");
  test::expect_error([&] { read(both); }, "node 'pool' (MaxPool): has both pads [1, 1, 1, 1] and auto_pad = SAME_UPPER");
  auto ceil = model_with_input({1, H, W});
  pool = add_node(ceil, "AveragePool", "pool", {"x"}, "y");
  set_ints(pool, "kernel_shape", {3, 3});
  set_int(pool, "ceil_mode", 1);
  set_string(pool, "auto_pad", "SAME_LOWER");
  set_output(ceil, "y");
  test::expect_error([&] { read(ceil); }, "node 'pool' (AveragePool): has both ceil_mode = 1 and auto_pad = SAME_LOWER");
}

TEST(Onnx, ReshapeWithInferredDimension) {
  auto model = model_with_input(2, 3);
  auto* shape = model.mutable_graph()->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(-1);
  shape->add_int64_data(18);
  add_node(model, "Reshape", "flat", {"x", "shape"}, "y");
  set_output(model, "y");
  nn::OnnxModel loaded = read(model);
  EXPECT_EQ(loaded.builder.shape(loaded.output), (nn::Shape{18, 1, 1}));
  EXPECT_EQ(loaded.input_name, "x");
  EXPECT_EQ(loaded.output_name, "y");
  EXPECT_EQ(loaded.opset, 17);
}

TEST(Onnx, ConstantArithmeticIsAPerChannelAffineMap) {
  // (k0 - x) * m / d + s per channel of x (2 x 1 x 2), constants broadcast
  // as [C, 1, 1] or scalars.
  auto model = model_with_input(2, 1);
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(3)->set_dim_value(2);
  add_initializer(model, "k0", {1, 2, 1, 1}, {1.0f, -2.0f});
  add_initializer(model, "m", {2, 1, 1}, {3.0f, 0.5f});
  add_initializer(model, "d", {}, {4.0f});
  add_initializer(model, "s", {1}, {0.25f});
  add_node(model, "Sub", "flip", {"k0", "x"}, "a");
  add_node(model, "Mul", "scale", {"a", "m"}, "b");
  add_node(model, "Div", "divide", {"b", "d"}, "c");
  add_node(model, "Add", "shift", {"s", "c"}, "y");
  set_output(model, "y");
  nn::OnnxModel m = read(model);
  const Context ctx = Context::host();
  const nn::Network net = m.builder.build(ctx, m.output);
  const std::vector<float> x{0.5f, -1.0f, 2.0f, 3.0f};
  std::vector<float> y(4, test::poison());
  net.forward(ctx, x.data(), 1, y.data());
  const float k0[2] = {1.0f, -2.0f}, mul[2] = {3.0f, 0.5f};
  for (int e = 0; e < 4; ++e) {
    EXPECT_FLOAT_EQ(y[e], (k0[e / 2] - x[e]) * mul[e / 2] / 4.0f + 0.25f) << e;
  }
  // A constant that does not broadcast to x's shape is refused.
  auto bad = model_with_input(2, 2);
  add_initializer(bad, "k", {1, 2, 2, 3}, std::vector<float>(12, 1.0f));
  add_node(bad, "Add", "shift", {"x", "k"}, "y");
  set_output(bad, "y");
  test::expect_error([&] { read(bad); }, "node 'shift' (Add): constant operand 'k' of dims [1, 2, 2, 3] "
                                         "does not broadcast over the tensor's N x [2, 2, 2]");
}

TEST(Onnx, ConstantsBroadcastAlongAnyAxisAsChannelsLastExportsHaveThem) {
  // tf2onnx normalizes a channels-last input before its Transpose to NCHW:
  // x is N x H x W x C = N x 2 x 3 x 4, then (x - m[c]) * r[c] + s[w],
  // constants [1, 1, 1, 4], [4] and [3, 1], then the Transpose.
  const std::int64_t H = 2, W = 3, C = 4;
  auto model = model_with_input({H, W, C});
  const std::vector<float> m{0.5f, -1.0f, 0.25f, 2.0f}, r{2.0f, -0.5f, 4.0f, 1.5f}, sw{1.0f, -3.0f, 0.125f};
  add_initializer(model, "m", {1, 1, 1, C}, m);
  add_initializer(model, "r", {C}, r);
  add_initializer(model, "s", {W, 1}, sw);
  add_node(model, "Sub", "center", {"x", "m"}, "a");
  add_node(model, "Mul", "scale", {"a", "r"}, "b");
  add_node(model, "Add", "shift", {"b", "s"}, "c");
  test::onnx_models::set_ints(add_node(model, "Transpose", "to_nchw", {"c"}, "y"), "perm", {0, 3, 1, 2});
  set_output(model, "y");
  nn::OnnxModel loaded = read(model);
  EXPECT_EQ(loaded.builder.shape(loaded.output), (nn::Shape{C, H, W}));
  const Context ctx = Context::host();
  const nn::Network net = loaded.builder.build(ctx, loaded.output);
  const std::int64_t d = H * W * C, n = 2;
  std::vector<float> x(static_cast<std::size_t>(n * d));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.37f * static_cast<float>(i) - 9.0f;
  // Independently: each element from its (h, w, c), written at (c, h, w).
  auto expected = [&](std::int64_t c, std::int64_t w, float v) { return (v - m[c]) * r[c] + sw[w]; };
  std::vector<float> y(x.size(), test::poison());
  net.forward(ctx, x.data(), n, y.data());
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t h = 0; h < H; ++h) {
      for (std::int64_t w = 0; w < W; ++w) {
        for (std::int64_t c = 0; c < C; ++c) {
          const float v = x[s * d + (h * W + w) * C + c];
          EXPECT_FLOAT_EQ(y[s * d + (c * H + h) * W + w], expected(c, w, v))
              << "sample " << s << " h " << h << " w " << w << " c " << c;
        }
      }
    }
  }
  // Interval bounds of an elementwise affine map are exact: the map of the
  // box's ends, ordered by the sign of the scale.
  std::vector<float> lower(x.begin(), x.begin() + d), upper(lower);
  for (std::int64_t i = 0; i < d; ++i) upper[i] += 0.5f + 0.01f * i;
  std::vector<float> lo(static_cast<std::size_t>(d), test::poison()), hi(lo);
  net.bounds(ctx, lower.data(), upper.data(), 1, lo.data(), hi.data());
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t w = 0; w < W; ++w) {
      for (std::int64_t c = 0; c < C; ++c) {
        const std::int64_t i = (h * W + w) * C + c, o = (c * H + h) * W + w;
        const float a = expected(c, w, lower[i]), b = expected(c, w, upper[i]);
        EXPECT_NEAR(lo[o], std::min(a, b), 1e-5f) << o;
        EXPECT_NEAR(hi[o], std::max(a, b), 1e-5f) << o;
      }
    }
  }
  // A constant with a batch extent other than 1, or an extent other than
  // the tensor's, is refused.
  for (const std::vector<std::int64_t>& dims : {std::vector<std::int64_t>{2, 1, 1, C},
                                                std::vector<std::int64_t>{1, 1, 1, 3}}) {
    auto bad = model_with_input({H, W, C});
    std::int64_t count = 1;
    for (std::int64_t e : dims) count *= e;
    add_initializer(bad, "k", dims, std::vector<float>(static_cast<std::size_t>(count), 1.0f));
    add_node(bad, "Mul", "gain", {"x", "k"}, "y");
    set_output(bad, "y");
    test::expect_error([&] { read(bad); }, "node 'gain' (Mul): constant operand 'k' of dims");
  }
}

#endif  // CUXPLAIN_WITH_ONNX

// ---- splitting the embedded model at a tensor ----

TEST(Onnx, EmbeddedModelListsItsTensorsInGraphOrder) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const nn::OnnxModel model = nn::read_onnx(kModel);
  const std::vector<std::pair<std::string, nn::Shape>> expected = {
      {"input", {1, 28, 28}},
      {"/features/features.0/Conv_output_0", {16, 28, 28}},
      {"/features/features.1/BatchNormalization_output_0", {16, 28, 28}},
      {"/features/features.2/Relu_output_0", {16, 28, 28}},
      {"/features/features.3/MaxPool_output_0", {16, 14, 14}},
      {"/features/features.4/Conv_output_0", {32, 14, 14}},
      {"/features/features.5/BatchNormalization_output_0", {32, 14, 14}},
      {"/features/features.6/Relu_output_0", {32, 14, 14}},
      {"/features/features.7/MaxPool_output_0", {32, 7, 7}},
      {"/classifier/classifier.0/Flatten_output_0", {1568, 1, 1}},
      {"/classifier/classifier.1/Gemm_output_0", {64, 1, 1}},
      {"/classifier/classifier.2/Relu_output_0", {64, 1, 1}},
      {"logits", {10, 1, 1}},
  };
  ASSERT_EQ(model.tensors.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(model.tensors[i].first, expected[i].first) << i;
    EXPECT_EQ(model.builder.shape(model.tensors[i].second), expected[i].second) << expected[i].first;
    EXPECT_EQ(model.node(expected[i].first), model.tensors[i].second) << expected[i].first;
  }
  EXPECT_EQ(model.tensors.front().first, model.input_name);
  EXPECT_EQ(model.tensors.back().first, model.output_name);
  EXPECT_EQ(model.tensors.back().second, model.output);
}

TEST(Onnx, EmbeddedModelSplitAtTheSecondPoolComposesToTheLogits) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const Fixture f = read_fixture();
  ASSERT_EQ(f.count, 64);
  const Context ctx = Context::host();
  const nn::OnnxModel model = nn::read_onnx(kModel);
  // The second MaxPool's output: the only 32 x 7 x 7 tensor.
  std::string pool;
  for (const auto& [name, id] : model.tensors) {
    if (model.builder.shape(id) == nn::Shape{32, 7, 7}) {
      EXPECT_TRUE(pool.empty()) << "two 32 x 7 x 7 tensors: " << pool << ", " << name;
      pool = name;
    }
  }
  ASSERT_FALSE(pool.empty());
  EXPECT_NE(pool.find("MaxPool"), std::string::npos) << pool;

  const nn::SplitNetwork split = nn::load_onnx_split(ctx, kModel, pool);
  const nn::Network full = nn::load_onnx(ctx, kModel);
  EXPECT_EQ(split.g.input_shape(), (nn::Shape{1, 28, 28}));
  EXPECT_EQ(split.g.output_shape(), (nn::Shape{32, 7, 7}));
  EXPECT_EQ(split.h.input_shape(), (nn::Shape{32, 7, 7}));
  EXPECT_EQ(split.h.output_shape(), (nn::Shape{10, 1, 1}));
  EXPECT_TRUE(split.h.folds_margins());

  const std::int64_t mid = 32 * 7 * 7;
  std::vector<float> activations(static_cast<std::size_t>(f.count * mid), test::poison());
  std::vector<float> composed(f.logits.size(), test::poison()), logits(f.logits.size(), test::poison());
  split.g.forward(ctx, f.pixels.data(), f.count, activations.data());
  split.h.forward(ctx, activations.data(), f.count, composed.data());
  full.forward(ctx, f.pixels.data(), f.count, logits.data());
  // The pooled activations follow a relu: non-negative, and not all zero.
  EXPECT_GE(*std::min_element(activations.begin(), activations.end()), 0.0f);
  EXPECT_GT(test::l2_norm(activations), 0.0);
  double scale = 0.0;
  for (float v : logits) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  ASSERT_GT(scale, 1.0);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    ASSERT_NEAR(composed[i], logits[i], 1e-5 * scale) << "logit " << i;
    ASSERT_NEAR(composed[i], f.logits[i], 1e-4 + 1e-5 * scale) << "exporter logit " << i;
  }

  // The same cut through OnnxModel::node and the builder.
  const nn::Network h = model.builder.build(ctx, model.node(pool), model.output);
  std::vector<float> again(f.logits.size(), test::poison());
  h.forward(ctx, activations.data(), f.count, again.data());
  EXPECT_EQ(again, composed);
}

TEST(Onnx, UnknownTensorNameListsTheNames) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const nn::OnnxModel model = nn::read_onnx(kModel);
  const std::string message = test::error_message([&] { (void)model.node("pool2"); });
  test::expect_mentions(message, "OnnxModel::node: the model has no tensor 'pool2'");
  test::expect_mentions(message, "'input' (1 x 28 x 28)");
  test::expect_mentions(message, "'/features/features.7/MaxPool_output_0' (32 x 7 x 7)");
  test::expect_mentions(message, "'logits' (10 x 1 x 1)");
  test::expect_error([&] { (void)nn::load_onnx_split(Context::host(), kModel, "pool2"); },
                     "no tensor 'pool2'; its tensors are 'input' (1 x 28 x 28), ");
}

#if CUXPLAIN_WITH_ONNX

TEST(Onnx, TensorsHoldTheFinalNodesOfMatMulLayers) {
  // x -> Flatten -> MatMul (no bias, pending until read) -> Relu -> MatMul +
  // Add (bias folded) -> Identity -> y.
  auto model = model_with_input(1, 2);
  add_initializer(model, "b1", {4, 3}, std::vector<float>(12, 0.5f));
  add_initializer(model, "b2", {3, 2}, std::vector<float>(6, -0.25f));
  add_initializer(model, "c2", {2}, {0.1f, 0.2f});
  add_node(model, "Flatten", "flat", {"x"}, "f");
  add_node(model, "MatMul", "mm1", {"f", "b1"}, "m1");
  add_node(model, "Relu", "act", {"m1"}, "r");
  add_node(model, "MatMul", "mm2", {"r", "b2"}, "m2");
  add_node(model, "Add", "bias2", {"m2", "c2"}, "a2");
  add_node(model, "Identity", "same", {"a2"}, "y");
  set_output(model, "y");
  const nn::OnnxModel loaded = read(model);
  std::vector<std::string> names;
  for (const auto& entry : loaded.tensors) names.push_back(entry.first);
  // m2 has no node of its own: the Add's bias is folded into its layer.
  EXPECT_EQ(names, (std::vector<std::string>{"x", "f", "m1", "r", "a2", "y"}));
  EXPECT_EQ(loaded.builder.shape(loaded.node("m1")), (nn::Shape{3, 1, 1}));
  EXPECT_EQ(loaded.node("y"), loaded.output);
  EXPECT_EQ(loaded.node("a2"), loaded.output);
  EXPECT_LT(loaded.node("m1"), loaded.node("r"));

  // Split at the first dense layer's output (before its relu).
  const Context ctx = Context::host();
  const nn::Network g = loaded.builder.build(ctx, loaded.node("m1"));
  const nn::Network h = loaded.builder.build(ctx, loaded.node("m1"), loaded.output);
  const nn::Network full = loaded.builder.build(ctx, loaded.output);
  const std::vector<float> x{0.3f, -1.2f, 0.8f, 2.0f, -0.4f, 0.1f, 0.9f, -2.0f};
  std::vector<float> mid(6, test::poison()), y(4, test::poison()), expected(4, test::poison());
  g.forward(ctx, x.data(), 2, mid.data());
  h.forward(ctx, mid.data(), 2, y.data());
  full.forward(ctx, x.data(), 2, expected.data());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected[i], 1e-6) << i;
  EXPECT_LT(*std::min_element(mid.begin(), mid.end()), 0.0f);  // before the relu
}

TEST(Onnx, SplitAroundAResidualConnectionIsAnError) {
  // x -> Relu (r) -> Relu (s) -> Add (r + s) -> y: cutting at s leaves the
  // skip from r around the cut.
  auto model = model_with_input(1, 2);
  add_node(model, "Relu", "first", {"x"}, "r");
  add_node(model, "Relu", "second", {"r"}, "s");
  add_node(model, "Add", "skip", {"r", "s"}, "y");
  set_output(model, "y");
  const std::string path = ::testing::TempDir() + "cuxplain_split_residual.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&out));
  }
  const std::string message =
      test::error_message([&] { (void)nn::load_onnx_split(Context::host(), path, "s"); });
  test::expect_mentions(message, "load_onnx_split: cannot split '" + path + "' at tensor 's' (node 2)");
  test::expect_mentions(message, "output node 3 depends on the network input (node 0) other than through node from = 2");
  // Cutting at r keeps the whole block in h.
  const nn::SplitNetwork split = nn::load_onnx_split(Context::host(), path, "r");
  EXPECT_EQ(split.h.input_shape(), (nn::Shape{1, 2, 2}));
  std::remove(path.c_str());
}

#endif  // CUXPLAIN_WITH_ONNX

}  // namespace
}  // namespace cuxplain
