// ONNX models into cuxplain::nn: the embedded Fashion-MNIST model reproduces
// the exporter's logits; unsupported ops, attributes and broken files are
// errors that name the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/test_utils.hpp"

#if CUXPLAIN_WITH_ONNX
#include <onnx/onnx_pb.h>
#endif

namespace cuxplain {
namespace {

const std::string kModel = std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx";

struct Fixture {
  std::int64_t count = 0, classes = 0, h = 0, w = 0;
  std::vector<int> labels;
  std::vector<float> pixels;  // count x 1 x h x w, byte / 255
  std::vector<float> logits;  // count x classes
};

Fixture read_fixture() {
  std::ifstream in(std::string(CUXPLAIN_TEST_DATA_DIR) + "/fashion_mnist_logits.txt");
  Fixture f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "fashion_mnist_fixture") {
      words >> f.count >> f.classes >> f.h >> f.w;
    } else if (key == "image") {
      int index = 0, label = 0;
      words >> index >> label;
      f.labels.push_back(label);
    } else if (key == "pixels") {
      std::string hex;
      words >> hex;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        f.pixels.push_back(static_cast<float>(std::stoi(hex.substr(i, 2), nullptr, 16)) / 255.0f);
      }
    } else if (key == "logits") {
      float v = 0.0f;
      while (words >> v) f.logits.push_back(v);
    }
  }
  return f;
}

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

/// A model: input x (N x channels x side x side), the caller adds nodes.
onnx::ModelProto model_with_input(std::int64_t channels, std::int64_t side) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  auto* input = model.mutable_graph()->add_input();
  input->set_name("x");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  for (std::int64_t d : {channels, side, side}) type->mutable_shape()->add_dim()->set_dim_value(d);
  return model;
}

void add_initializer(onnx::ModelProto& model, const std::string& name,
                     const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

onnx::NodeProto* add_node(onnx::ModelProto& model, const std::string& op, const std::string& name,
                          const std::vector<std::string>& inputs, const std::string& output) {
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  node->add_output(output);
  return node;
}

void set_output(onnx::ModelProto& model, const std::string& name) {
  model.mutable_graph()->add_output()->set_name(name);
}

nn::OnnxModel read(const onnx::ModelProto& model) {
  const std::string bytes = model.SerializeAsString();
  return nn::read_onnx(bytes.data(), bytes.size(), "test.onnx");
}

TEST(Onnx, UnsupportedOpNamesTheOpAndNode) {
  auto model = model_with_input(1, 4);
  add_node(model, "Relu", "first", {"x"}, "r");
  add_node(model, "Sigmoid", "squash", {"r"}, "y");
  set_output(model, "y");
  test::expect_error([&] { read(model); }, "node 'squash' (Sigmoid): op Sigmoid is not supported");
}

TEST(Onnx, UnsupportedAttributeNamesItsValue) {
  auto model = model_with_input(2, 4);
  add_initializer(model, "w", {2, 1, 3, 3}, std::vector<float>(18, 0.1f));
  auto* conv = add_node(model, "Conv", "grouped", {"x", "w"}, "y");
  auto* group = conv->add_attribute();
  group->set_name("group");
  group->set_type(onnx::AttributeProto::INT);
  group->set_i(2);
  set_output(model, "y");
  test::expect_error([&] { read(model); }, "node 'grouped' (Conv): attribute group = 2 is not supported");

  auto pool_model = model_with_input(1, 4);
  auto* pool = add_node(pool_model, "MaxPool", "ceil", {"x"}, "y");
  auto* kernel = pool->add_attribute();
  kernel->set_name("kernel_shape");
  kernel->set_type(onnx::AttributeProto::INTS);
  kernel->add_ints(2);
  kernel->add_ints(2);
  auto* ceil = pool->add_attribute();
  ceil->set_name("ceil_mode");
  ceil->set_type(onnx::AttributeProto::INT);
  ceil->set_i(1);
  set_output(pool_model, "y");
  test::expect_error([&] { read(pool_model); }, "attribute ceil_mode = 1 is not supported");
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

TEST(Onnx, ConstantAddOutsideAMatMulIsRefused) {
  auto model = model_with_input(1, 2);
  add_initializer(model, "k", {1}, {1.0f});
  add_node(model, "Add", "shift", {"x", "k"}, "y");
  set_output(model, "y");
  test::expect_error([&] { read(model); }, "node 'shift' (Add): adds the constant 'k'");
}

#endif  // CUXPLAIN_WITH_ONNX

}  // namespace
}  // namespace cuxplain
