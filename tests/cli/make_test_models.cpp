// Writes the small ONNX models that the cuxplain program's tests run on,
// built with the protobuf classes as tests/host/test_onnx.cpp builds its own.
// Every model but the last takes a 1 x 28 x 28 image, as the Fashion-MNIST
// one does:
//
//   feature_map.onnx         Conv (16, 3 x 3, pad 1) -> Relu: the graph output is a
//                            16 x 28 x 28 feature map, not a vector of class scores
//   layer_after_output.onnx  Conv (4, 3 x 3, pad 1) -> Relu -> Flatten -> Gemm: 10 logits,
//                            and a MaxPool of the Relu read after the Gemm, whose
//                            tensor `pooled_after_logits` (4 x 14 x 14) comes after
//                            the output
//   constant_output.onnx     Flatten -> Gemm with zero weights: 10 scores that do not
//                            depend on the image (Sobol's indices are 0, HSIC has no
//                            output kernel width and fails)
//   input_probe_3x3x4.onnx   Flatten of a 3 x 3 x 4 input: its 36 "class scores" are the
//                            model input itself, which scores.json's logits show (the
//                            preprocessing tests compare them with torchvision's
//                            transforms, check_preprocess.py)
//
// usage: make_test_models DIR
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

onnx::ModelProto model_with_input(const std::vector<std::int64_t>& dims = {1, 28, 28}) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  auto* input = model.mutable_graph()->add_input();
  input->set_name("image");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  for (std::int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
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

onnx::NodeProto* add_node(onnx::ModelProto& model, const std::string& op,
                          const std::vector<std::string>& inputs, const std::string& output) {
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type(op);
  node->set_name(output);
  for (const auto& in : inputs) node->add_input(in);
  node->add_output(output);
  return node;
}

void add_ints(onnx::NodeProto* node, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (std::int64_t x : v) a->add_ints(x);
}

/// A 3 x 3 convolution with padding 1 (the image size is kept) and small
/// deterministic weights of both signs.
void add_conv(onnx::ModelProto& model, const std::string& input, std::int64_t in_c,
              std::int64_t out_c, const std::string& output) {
  std::vector<float> weight(static_cast<std::size_t>(out_c * in_c * 9));
  for (std::size_t i = 0; i < weight.size(); ++i) {
    weight[i] = 0.05f * static_cast<float>(static_cast<int>(i * 7 % 11) - 5);
  }
  std::vector<float> bias(static_cast<std::size_t>(out_c), 0.01f);
  add_initializer(model, output + ".weight", {out_c, in_c, 3, 3}, weight);
  add_initializer(model, output + ".bias", {out_c}, bias);
  auto* conv = add_node(model, "Conv", {input, output + ".weight", output + ".bias"}, output);
  add_ints(conv, "kernel_shape", {3, 3});
  add_ints(conv, "pads", {1, 1, 1, 1});
}

/// Gemm (transB = 1) from `in` features to 10 outputs.
void add_gemm(onnx::ModelProto& model, const std::string& input, std::int64_t in,
              const std::vector<float>& weight, const std::string& output) {
  std::vector<float> bias(10);
  for (int k = 0; k < 10; ++k) bias[static_cast<std::size_t>(k)] = 0.1f * static_cast<float>(k);
  add_initializer(model, output + ".weight", {10, in}, weight);
  add_initializer(model, output + ".bias", {10}, bias);
  auto* gemm = add_node(model, "Gemm", {input, output + ".weight", output + ".bias"}, output);
  auto* trans_b = gemm->add_attribute();
  trans_b->set_name("transB");
  trans_b->set_type(onnx::AttributeProto::INT);
  trans_b->set_i(1);
}

void set_output(onnx::ModelProto& model, const std::string& name) {
  model.mutable_graph()->add_output()->set_name(name);
}

bool save(const onnx::ModelProto& model, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!model.SerializeToOstream(&out)) return false;
  out.close();
  if (!out) return false;
  std::printf("wrote %s\n", path.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_test_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::error_code error;
  std::filesystem::create_directories(dir, error);

  onnx::ModelProto feature_map = model_with_input();
  add_conv(feature_map, "image", 1, 16, "conv");
  add_node(feature_map, "Relu", {"conv"}, "features");
  set_output(feature_map, "features");

  onnx::ModelProto after = model_with_input();
  add_conv(after, "image", 1, 4, "conv");
  add_node(after, "Relu", {"conv"}, "relu");
  add_node(after, "Flatten", {"relu"}, "flat");
  std::vector<float> weight(static_cast<std::size_t>(10 * 4 * 28 * 28));
  for (std::size_t i = 0; i < weight.size(); ++i) {
    weight[i] = 0.01f * static_cast<float>(static_cast<int>(i * 13 % 17) - 8);
  }
  add_gemm(after, "flat", 4 * 28 * 28, weight, "logits");
  auto* pool = add_node(after, "MaxPool", {"relu"}, "pooled_after_logits");
  add_ints(pool, "kernel_shape", {2, 2});
  add_ints(pool, "strides", {2, 2});
  set_output(after, "logits");

  onnx::ModelProto constant = model_with_input();
  add_node(constant, "Flatten", {"image"}, "flat");
  add_gemm(constant, "flat", 28 * 28, std::vector<float>(10 * 28 * 28, 0.0f), "scores");
  set_output(constant, "scores");

  onnx::ModelProto probe = model_with_input({3, 3, 4});
  add_node(probe, "Flatten", {"image"}, "input_values");
  set_output(probe, "input_values");

  const bool ok = save(feature_map, dir + "/feature_map.onnx") &&
                  save(probe, dir + "/input_probe_3x3x4.onnx") &&
                  save(after, dir + "/layer_after_output.onnx") &&
                  save(constant, dir + "/constant_output.onnx");
  if (!ok) {
    std::fprintf(stderr, "make_test_models: cannot write the models into '%s'\n", dir.c_str());
    return 1;
  }
  return 0;
}
