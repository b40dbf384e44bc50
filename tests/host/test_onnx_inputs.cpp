// Malformed ONNX files: dims whose element count overflows or that the data
// does not back, nodes without their inputs, attributes of the wrong type or
// out of range, files that are directories or too large. Each is a
// cuxplain::Error naming the file, the node, the op and the tensor or
// attribute, never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/test_utils.hpp"

#if CUXPLAIN_WITH_ONNX
#include "common/onnx_models.hpp"
#endif

namespace cuxplain {
namespace {

namespace fs = std::filesystem;

TEST(OnnxInputs, DirectoryIsAnError) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const fs::path dir = fs::path(::testing::TempDir()) / "cuxplain_model_dir.onnx";
  fs::create_directories(dir);
  const std::string message = test::error_message([&] { nn::read_onnx(dir.string()); });
  test::expect_mentions(message, "ONNX model '" + dir.string() + "' is a directory");
  fs::remove(dir);
}

TEST(OnnxInputs, FileBelowANonDirectoryIsAnErrorWithTheSystemsReason) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_plain_file";
  { std::ofstream(file) << "x"; }
  const std::string path = (file / "model.onnx").string();
  const std::string message = test::error_message([&] { nn::read_onnx(path); });
  test::expect_mentions(message, "cannot open ONNX model '" + path + "': Not a directory");
  fs::remove(file);
}

TEST(OnnxInputs, UnreadableFileIsAnError) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  if (geteuid() == 0) GTEST_SKIP() << "running as root: file permissions do not deny reading";
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_unreadable.onnx";
  { std::ofstream(file) << "x"; }
  fs::permissions(file, fs::perms::none);
  const std::string message = test::error_message([&] { nn::read_onnx(file.string()); });
  test::expect_mentions(message, "cannot open ONNX model '" + file.string() + "': Permission denied");
  fs::remove(file);
}

TEST(OnnxInputs, FileLargerThanProtobufParsesIsRefusedBeforeReadingIt) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  // 3 GiB, sparse: reading it whole took 21 s and 6.4 GB before the size check.
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_3gib.onnx";
  { std::ofstream(file) << "x"; }
  fs::resize_file(file, std::uintmax_t{3} << 30);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = test::error_message([&] { nn::read_onnx(file.string()); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove(file);
  test::expect_mentions(message, "ONNX model '" + file.string() + "' is 3221225472 bytes");
  test::expect_mentions(message, "2 GiB");
  // Reading 3 GiB takes seconds; the size check alone takes microseconds.
  EXPECT_LT(seconds, 2.0);
}

TEST(NetworkBuilderInputs, WindowsBeyondIntAreErrors) {
  // in + pads - kernel overflowed int64 with pads near 2^62 (undefined behaviour).
  const std::int64_t huge = std::int64_t{1} << 62;
  nn::NetworkBuilder b;
  const nn::NodeId x = b.input({1, 4, 4});
  nn::ConvParams conv;
  conv.pad_top = conv.pad_bottom = huge;
  test::expect_error([&] { b.conv(x, 1, 3, 3, std::vector<float>(9, 0.1f), {}, conv); },
                     "conv: kernel, strides and pads must be <= 2147483647, got kernel 3 x 3, "
                     "strides 1 x 1, pads [4611686018427387904, 0, 4611686018427387904, 0]");
  nn::PoolParams pool;
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride_w = huge;
  test::expect_error([&] { b.max_pool(x, pool); }, "max_pool: kernel, strides and pads must be <= ");
  pool.stride_w = 1;
  pool.kernel_h = huge;
  test::expect_error([&] { b.avg_pool(x, pool); }, "got kernel 4611686018427387904 x 2");
  EXPECT_EQ(b.size(), 1);
}

TEST(NetworkBuilderInputs, BatchNormIsNotFoldedWhereFoldingOverflows) {
  // 3e36 x 158 (0.5 / sqrt(1e-5)) overflows float as a folded weight, while
  // the conv's output on a small input times 158 does not: folding made the
  // output infinite (found by the ONNX fuzzer).
  nn::NetworkBuilder b;
  const nn::NodeId x = b.input({1, 1, 1});
  const nn::NodeId conv = b.conv(x, 1, 1, 1, {3e36f}, {0.0f});
  const nn::NodeId bn = b.batch_norm(conv, {0.5f}, {0.0f}, {0.0f}, {0.0f}, 1e-5f);
  const Context ctx = Context::host();
  const nn::Network net = b.build(ctx, bn);
  test::expect_mentions(net.summary(), "batch_norm (per-channel affine)");
  const float in = 1e-3f;
  float out = test::poison();
  net.forward(ctx, &in, 1, &out);
  const double expected = 3e36 * 1e-3 * (0.5 / std::sqrt(1e-5));
  EXPECT_TRUE(std::isfinite(out)) << out;
  EXPECT_NEAR(out / expected, 1.0, 1e-5) << out;
  // A foldable one still folds.
  nn::NetworkBuilder small;
  const nn::NodeId y = small.input({1, 1, 1});
  const nn::Network folded = small.build(
      ctx, small.batch_norm(small.conv(y, 1, 1, 1, {2.0f}), {0.5f}, {0.0f}, {0.0f}, {1.0f}));
  test::expect_mentions(folded.summary(), "batch_norm (folded)");
}

TEST(NetworkBuilderInputs, BatchNormWhoseScaleOverflowsFloatIsAnError) {
  // gamma / sqrt(var + epsilon) = 3e38 / sqrt(1e-5) is about 9.5e40.
  nn::NetworkBuilder b;
  const nn::NodeId x = b.input({2, 1, 1});
  const nn::NodeId bn = b.batch_norm(x, {1.0f, 3e38f}, {0.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 0.0f});
  test::expect_error([&] { b.build(Context::host(), bn); },
                     "build: batch_norm node 1 channel 1: y = 9.48");
}

#if CUXPLAIN_WITH_ONNX

using test::onnx_models::add_initializer;
using test::onnx_models::add_int64_initializer;
using test::onnx_models::add_node;
using test::onnx_models::add_raw_initializer;
using test::onnx_models::model_with_input;
using test::onnx_models::set_float;
using test::onnx_models::set_int;
using test::onnx_models::set_ints;
using test::onnx_models::set_output;
using test::onnx_models::set_string;

constexpr std::int64_t k2p32 = std::int64_t{1} << 32;

std::string read_error(const onnx::ModelProto& model) {
  const std::string bytes = model.SerializeAsString();
  return test::error_message([&] { nn::read_onnx(bytes.data(), bytes.size(), "test.onnx"); });
}

void expect_all(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& part : parts) test::expect_mentions(message, part);
}

/// x (N x 4) -> op(x, w[, c]) -> y.
onnx::ModelProto dense_model(const std::string& op, const std::vector<std::string>& inputs) {
  auto model = model_with_input(std::vector<std::int64_t>{4});
  add_node(model, op, "head", inputs, "y");
  set_output(model, "y");
  return model;
}

TEST(OnnxInputs, WeightDimsWhoseElementCountOverflowsAreErrors) {
  // [2^32, 2^32] has 2^64 elements, which wrapped to 0 in int64 and matched
  // the empty data: the reader then indexed an empty vector.
  for (const std::string op : {"Gemm", "MatMul"}) {
    auto model = dense_model(op, {"x", "w"});
    add_initializer(model, "w", {k2p32, k2p32}, {});
    expect_all(read_error(model), {"ONNX model 'test.onnx': node 'head' (" + op + ")", "'w'",
                                   "[4294967296, 4294967296]", "more than 2^63"});
  }
  auto conv = model_with_input(1, 4);
  add_initializer(conv, "w", {1 << 16, 1 << 16, 1 << 16, 1 << 16}, {});
  add_node(conv, "Conv", "conv", {"x", "w"}, "y");
  set_output(conv, "y");
  expect_all(read_error(conv), {"node 'conv' (Conv)", "weight 'w'", "[65536, 65536, 65536, 65536]",
                                "more than 2^63"});
  auto bn = model_with_input(2, 2);
  add_initializer(bn, "scale", {k2p32, k2p32}, {});
  for (const char* name : {"bias", "mean", "var"}) add_initializer(bn, name, {2}, {0.0f, 1.0f});
  add_node(bn, "BatchNormalization", "bn", {"x", "scale", "bias", "mean", "var"}, "y");
  set_output(bn, "y");
  expect_all(read_error(bn), {"node 'bn' (BatchNormalization)", "scale 'scale'",
                              "[4294967296, 4294967296]"});
}

TEST(OnnxInputs, BiasDimsWhoseElementCountOverflowsAreErrors) {
  // (2^62 + 5) * 2 floats wrap to 40 bytes, which the raw data held: the
  // reader then resized a vector to 2^63 + 10 elements.
  auto model = dense_model("Gemm", {"x", "w", "c"});
  add_initializer(model, "w", {4, 2}, std::vector<float>(8, 0.5f));
  add_raw_initializer(model, "c", {(std::int64_t{1} << 62) + 5, 2}, std::vector<float>(10, 1.0f));
  expect_all(read_error(model), {"node 'head' (Gemm)", "bias C 'c'", "[4611686018427387909, 2]",
                                 "more than 2^63"});
}

TEST(OnnxInputs, NegativeDimsAreErrors) {
  // [-2, -2] claims 4 elements, which the data held.
  auto model = dense_model("Gemm", {"x", "w"});
  add_initializer(model, "w", {-2, -2}, std::vector<float>(4, 0.5f));
  expect_all(read_error(model), {"node 'head' (Gemm)", "weight B 'w'", "[-2, -2]", "negative"});
  auto shape = model_with_input(1, 2);
  add_int64_initializer(shape, "shape", {-1}, {});
  add_node(shape, "Reshape", "reshape", {"x", "shape"}, "y");
  set_output(shape, "y");
  expect_all(read_error(shape), {"node 'reshape' (Reshape)", "shape 'shape'", "[-1]", "negative"});
}

TEST(OnnxInputs, ConstantsHoldingOtherThanTheirDimsSayAreErrors) {
  auto fewer = dense_model("Gemm", {"x", "w"});
  add_initializer(fewer, "w", {4, 3}, std::vector<float>(11, 0.5f));
  expect_all(read_error(fewer), {"node 'head' (Gemm)", "weight B 'w'", "[4, 3]",
                                 "holds 11 floats for 12"});
  auto raw = dense_model("MatMul", {"x", "w"});
  add_raw_initializer(raw, "w", {4, 3}, std::vector<float>(13, 0.5f));
  expect_all(read_error(raw), {"node 'head' (MatMul)", "'w'", "holds 52 bytes for 12 floats"});
  // Not a whole number of floats.
  auto odd = dense_model("MatMul", {"x", "w"});
  add_initializer(odd, "w", {4, 3}, {})->set_raw_data(std::string(47, '\0'));
  expect_all(read_error(odd), {"node 'head' (MatMul)", "'w'", "holds 47 bytes for 12 floats"});
}

TEST(OnnxInputs, LayerWeightsWithAnEmptyDimensionAreErrors) {
  // out = 0 with in = 2^40: the transposition loops ran over 2^40 rows of
  // nothing.
  auto model = dense_model("Gemm", {"x", "w"});
  add_initializer(model, "w", {std::int64_t{1} << 40, 0}, {});
  set_int(model.mutable_graph()->mutable_node(0), "transB", 1);
  expect_all(read_error(model), {"node 'head' (Gemm)", "weight B 'w'", "[1099511627776, 0]",
                                 "must be >= 1"});
  auto matmul = dense_model("MatMul", {"x", "w"});
  add_initializer(matmul, "w", {4, 0}, {});
  expect_all(read_error(matmul), {"node 'head' (MatMul)", "'w'", "[4, 0]", "must be >= 1"});
}

TEST(OnnxInputs, ParameterCountsAreCheckedAgainstTheLayer) {
  // A 3-channel kernel on a 1-channel input.
  auto conv = model_with_input(1, 4);
  add_initializer(conv, "w", {2, 3, 3, 3}, std::vector<float>(54, 0.1f));
  add_node(conv, "Conv", "conv", {"x", "w"}, "y");
  set_output(conv, "y");
  expect_all(read_error(conv), {"node 'conv' (Conv)", "weight 'w'", "[2, 3, 3, 3]",
                                "input has 1 channel"});
  // A weight for 5 inputs on 4 features.
  auto gemm = dense_model("Gemm", {"x", "w"});
  add_initializer(gemm, "w", {5, 2}, std::vector<float>(10, 0.1f));
  expect_all(read_error(gemm), {"node 'head' (Gemm)", "weight B 'w'", "[5, 2]", "4 features"});
  // Three batch-norm scales for two channels: the builder's check, named.
  auto bn = model_with_input(2, 2);
  add_initializer(bn, "scale", {3}, {1.0f, 1.0f, 1.0f});
  for (const char* name : {"bias", "mean", "var"}) add_initializer(bn, name, {2}, {0.0f, 1.0f});
  add_node(bn, "BatchNormalization", "bn", {"x", "scale", "bias", "mean", "var"}, "y");
  set_output(bn, "y");
  expect_all(read_error(bn), {"ONNX model 'test.onnx': node 'bn' (BatchNormalization)",
                              "gamma has 3 floats but the input (2 x 2 x 2) has 2 channels"});
  // Conv bias of 3 values for 2 output channels.
  auto bias = model_with_input(1, 4);
  add_initializer(bias, "w", {2, 1, 3, 3}, std::vector<float>(18, 0.1f));
  add_initializer(bias, "b", {3}, {0.0f, 0.0f, 0.0f});
  add_node(bias, "Conv", "conv", {"x", "w", "b"}, "y");
  set_output(bias, "y");
  expect_all(read_error(bias), {"node 'conv' (Conv)", "bias has 3 floats but out_channels = 2"});
}

TEST(OnnxInputs, ReshapeTargetsWhoseProductOverflowsAreErrors) {
  // 2^62 x 4 overflowed the product of the known dimensions (undefined
  // behaviour) before the element counts were compared.
  auto model = model_with_input(1, 2);
  add_int64_initializer(model, "shape", {4}, {1, std::int64_t{1} << 62, 4, -1});
  add_node(model, "Reshape", "reshape", {"x", "shape"}, "y");
  set_output(model, "y");
  expect_all(read_error(model), {"node 'reshape' (Reshape)",
                                 "target shape [1, 4611686018427387904, 4, -1]", "overflows"});
  // Negative dimensions other than -1.
  auto negative = model_with_input(1, 2);
  add_int64_initializer(negative, "shape", {3}, {1, -4, -1});
  add_node(negative, "Reshape", "reshape", {"x", "shape"}, "y");
  set_output(negative, "y");
  expect_all(read_error(negative), {"node 'reshape' (Reshape)", "target shape [1, -4, -1]",
                                    "dimension 1 is -4"});
  // -1 that no whole dimension satisfies: 4 elements into 3 x ?.
  auto uneven = model_with_input(1, 2);
  add_int64_initializer(uneven, "shape", {3}, {1, 3, -1});
  add_node(uneven, "Reshape", "reshape", {"x", "shape"}, "y");
  set_output(uneven, "y");
  expect_all(read_error(uneven), {"node 'reshape' (Reshape)", "target shape [1, 3, -1]",
                                  "4 elements"});
}

TEST(OnnxInputs, NodesWithoutInputsAreErrors) {
  // node.input(0) on an empty list was protobuf's CHECK failure (abort).
  const std::vector<std::string> ops = {
      "Relu",    "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "BatchNormalization",
      "Identity", "Dropout", "Conv",       "Gemm",              "MatMul",  "Add",
      "Reshape"};
  for (const std::string& op : ops) {
    auto model = model_with_input(1, 4);
    auto* node = add_node(model, op, "lonely", {}, "y");
    if (op == "MaxPool" || op == "AveragePool") set_ints(node, "kernel_shape", {2, 2});
    set_output(model, "y");
    expect_all(read_error(model), {"ONNX model 'test.onnx': node 'lonely' (" + op + "): has 0 inputs"});
  }
}

TEST(OnnxInputs, FoldedNodesWithTooFewInputsAreErrors) {
  // Ops on constants are folded before the op table is consulted; a folded
  // Reshape with only its data read input(1) past the end (protobuf abort).
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"Reshape", "has 1 inputs; Reshape takes 2"}, {"Gather", "has 1 inputs; Gather takes 2"},
      {"Mul", "has 1 inputs; Mul takes 2"},         {"Slice", "has 1 inputs; Slice takes 3 to 5"}};
  for (const auto& [op, message] : ops) {
    auto model = model_with_input(1, 4);
    add_int64_initializer(model, "c", {2}, {1, 4});
    add_node(model, op, "folded", {"c"}, "y");
    set_output(model, "y");
    expect_all(read_error(model), {"node 'folded' (" + op + "): " + message});
  }
}

TEST(OnnxInputs, FoldedReshapeWithAnOverflowingShapeIsAnError) {
  auto model = model_with_input(1, 4);
  add_int64_initializer(model, "c", {2}, {1, 4});
  add_int64_initializer(model, "shape", {3}, {std::int64_t{1} << 40, std::int64_t{1} << 40, -1});
  add_node(model, "Reshape", "folded", {"c", "shape"}, "y");
  set_output(model, "y");
  expect_all(read_error(model), {"node 'folded' (Reshape)", "more elements than int64 counts"});
}

TEST(OnnxInputs, NodesWithTooManyOrEmptyInputsAreErrors) {
  auto many = model_with_input(1, 4);
  add_node(many, "Relu", "twice", {"x", "x"}, "y");
  set_output(many, "y");
  expect_all(read_error(many), {"node 'twice' (Relu): has 2 inputs; Relu takes 1"});
  auto empty = model_with_input(1, 4);
  add_node(empty, "Relu", "unnamed", {""}, "y");
  set_output(empty, "y");
  expect_all(read_error(empty), {"node 'unnamed' (Relu): input 0 has no name"});
}

TEST(OnnxInputs, AttributesOfTheWrongTypeAreErrors) {
  // Conv strides given as one INT instead of INTS.
  auto conv = model_with_input(1, 4);
  add_initializer(conv, "w", {1, 1, 3, 3}, std::vector<float>(9, 0.1f));
  set_int(add_node(conv, "Conv", "conv", {"x", "w"}, "y"), "strides", 2);
  set_output(conv, "y");
  expect_all(read_error(conv), {"node 'conv' (Conv): attribute strides has type INT, expected INTS"});
  // Gemm transB as a FLOAT.
  auto gemm = dense_model("Gemm", {"x", "w"});
  add_initializer(gemm, "w", {2, 4}, std::vector<float>(8, 0.1f));
  set_float(gemm.mutable_graph()->mutable_node(0), "transB", 1.0f);
  expect_all(read_error(gemm), {"node 'head' (Gemm): attribute transB has type FLOAT, expected INT"});
  // Gemm alpha as an INT.
  auto alpha = dense_model("Gemm", {"x", "w"});
  add_initializer(alpha, "w", {4, 2}, std::vector<float>(8, 0.1f));
  set_int(alpha.mutable_graph()->mutable_node(0), "alpha", 2);
  expect_all(read_error(alpha), {"node 'head' (Gemm): attribute alpha has type INT, expected FLOAT"});
  // MaxPool auto_pad as INTS.
  auto pool = model_with_input(1, 4);
  auto* max_pool = add_node(pool, "MaxPool", "pool", {"x"}, "y");
  set_ints(max_pool, "kernel_shape", {2, 2});
  set_ints(max_pool, "auto_pad", {1});
  set_output(pool, "y");
  expect_all(read_error(pool), {"node 'pool' (MaxPool): attribute auto_pad has type INTS, expected STRING"});
  // Constant's value as a string.
  auto constant = model_with_input(1, 4);
  set_string(add_node(constant, "Constant", "k", {}, "c"), "value", "3");
  add_node(constant, "Relu", "r", {"x"}, "y");
  set_output(constant, "y");
  expect_all(read_error(constant), {"node 'k' (Constant): attribute value has type STRING, expected TENSOR"});
}

TEST(OnnxInputs, AttributeValuesOutOfRangeAreErrors) {
  const auto conv_with = [](const std::string& name, const std::vector<std::int64_t>& values) {
    auto model = model_with_input(1, 4);
    add_initializer(model, "w", {1, 1, 3, 3}, std::vector<float>(9, 0.1f));
    set_ints(add_node(model, "Conv", "conv", {"x", "w"}, "y"), name, values);
    set_output(model, "y");
    return model;
  };
  expect_all(read_error(conv_with("strides", {0, 1})),
             {"node 'conv' (Conv)", "strides must be >= 1, got 0 x 1"});
  expect_all(read_error(conv_with("strides", {1})), {"node 'conv' (Conv)", "strides = [1]"});
  expect_all(read_error(conv_with("pads", {-1, 0, 0, 0})),
             {"node 'conv' (Conv)", "pads must be >= 0, got [-1, 0, 0, 0]"});
  // in + pads overflowed int64 in the output extent.
  const std::int64_t huge = std::int64_t{1} << 62;
  expect_all(read_error(conv_with("pads", {huge, 0, huge, 0})),
             {"node 'conv' (Conv)", "pads", "4611686018427387904"});
  expect_all(read_error(conv_with("kernel_shape", {3})), {"node 'conv' (Conv)", "kernel_shape = [3]"});

  const auto pool_with = [](const std::vector<std::int64_t>& kernel,
                            const std::vector<std::int64_t>& strides) {
    auto model = model_with_input(1, 4);
    auto* node = add_node(model, "MaxPool", "pool", {"x"}, "y");
    set_ints(node, "kernel_shape", kernel);
    set_ints(node, "strides", strides);
    set_output(model, "y");
    return model;
  };
  expect_all(read_error(pool_with({3}, {1, 1})), {"node 'pool' (MaxPool)", "kernel_shape = [3]"});
  expect_all(read_error(pool_with({2, 2}, {huge, 1})),
             {"node 'pool' (MaxPool)", "strides", "4611686018427387904"});
  expect_all(read_error(pool_with({huge, 2}, {1, 1})),
             {"node 'pool' (MaxPool)", "kernel", "4611686018427387904"});
}

#endif  // CUXPLAIN_WITH_ONNX

}  // namespace
}  // namespace cuxplain
