#pragma once
// Small ONNX models built in memory with the protobuf classes, for the
// reader's tests and the fuzzers' seed corpus: an input, initializers,
// nodes and their attributes, one call each.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace cuxplain::test::onnx_models {

/// A model whose input x is N x (dims...), e.g. {channels, side, side}; the
/// caller adds nodes.
inline onnx::ModelProto model_with_input(const std::vector<std::int64_t>& dims) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  auto* input = model.mutable_graph()->add_input();
  input->set_name("x");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  type->mutable_shape()->add_dim()->set_dim_param("N");
  for (std::int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
  return model;
}

/// N x channels x side x side.
inline onnx::ModelProto model_with_input(std::int64_t channels, std::int64_t side) {
  return model_with_input({channels, side, side});
}

/// A float initializer; `values` go to float_data (they need not match dims,
/// so that a file claiming more than it holds can be written).
inline onnx::TensorProto* add_initializer(onnx::ModelProto& model, const std::string& name,
                                          const std::vector<std::int64_t>& dims,
                                          const std::vector<float>& values) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
  return t;
}

/// A float initializer whose values are raw_data bytes, as exporters write them.
inline onnx::TensorProto* add_raw_initializer(onnx::ModelProto& model, const std::string& name,
                                              const std::vector<std::int64_t>& dims,
                                              const std::vector<float>& values) {
  auto* t = add_initializer(model, name, dims, {});
  std::string raw(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(raw);
  return t;
}

/// An int64 initializer (Reshape's target shape).
inline onnx::TensorProto* add_int64_initializer(onnx::ModelProto& model, const std::string& name,
                                                const std::vector<std::int64_t>& dims,
                                                const std::vector<std::int64_t>& values) {
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (std::int64_t d : dims) t->add_dims(d);
  for (std::int64_t v : values) t->add_int64_data(v);
  return t;
}

/// A node of `op` reading `inputs` and writing `output` (none when empty).
inline onnx::NodeProto* add_node(onnx::ModelProto& model, const std::string& op,
                                 const std::string& name, const std::vector<std::string>& inputs,
                                 const std::string& output) {
  auto* node = model.mutable_graph()->add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  if (!output.empty()) node->add_output(output);
  return node;
}

inline void set_int(onnx::NodeProto* node, const std::string& name, std::int64_t value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

inline void set_float(onnx::NodeProto* node, const std::string& name, float value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

inline void set_ints(onnx::NodeProto* node, const std::string& name,
                     const std::vector<std::int64_t>& values) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : values) a->add_ints(v);
}

inline void set_string(onnx::NodeProto* node, const std::string& name, const std::string& value) {
  auto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

/// The head tf2onnx writes for Keras's GlobalAveragePooling2D and
/// Dense(activation="softmax"), from N x C x H x W `input` to `output`:
/// GlobalAveragePool, Squeeze of axes [2, 3] (an initializer "head_axes"),
/// MatMul by the initializer `weight` [C x K], Add of `bias` [K], Softmax.
inline void add_keras_softmax_head(onnx::ModelProto& model, const std::string& input,
                                   const std::string& weight, const std::string& bias,
                                   const std::string& output) {
  add_int64_initializer(model, "head_axes", {2}, {2, 3});
  add_node(model, "GlobalAveragePool", "head_gap", {input}, "head_g");
  add_node(model, "Squeeze", "head_squeeze", {"head_g", "head_axes"}, "head_s");
  add_node(model, "MatMul", "head_mm", {"head_s", weight}, "head_m");
  add_node(model, "Add", "head_bias", {"head_m", bias}, "head_a");
  add_node(model, "Softmax", "head_softmax", {"head_a"}, output);
}

inline void set_output(onnx::ModelProto& model, const std::string& name) {
  model.mutable_graph()->add_output()->set_name(name);
}

}  // namespace cuxplain::test::onnx_models
