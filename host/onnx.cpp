// ONNX models to cuxplain::nn networks, through Debian's libonnx protobuf
// classes. Only what the network stack supports is accepted; anything else is
// an error naming the node, the op and the attribute.
#include <cuxplain/core/error.hpp>
#include <cuxplain/onnx.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>

#if CUXPLAIN_WITH_ONNX
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>
#endif

namespace cuxplain::nn {

#if CUXPLAIN_WITH_ONNX
namespace {

/// A constant tensor (initializer or Constant node).
struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  bool is_int = false;

  std::int64_t count() const {
    std::int64_t n = 1;
    for (std::int64_t d : dims) n *= d;
    return n;
  }
};

/// A MatMul by a constant whose dense layer is not added yet, so that an Add
/// of a constant right after it can become its bias.
struct PendingDense {
  NodeId input = -1;
  std::int64_t out_features = 0;
  std::vector<float> weight;  // [out][in]
};

class Reader {
 public:
  Reader(const onnx::ModelProto& model, std::string file) : model_(model), file_(std::move(file)) {}

  OnnxModel read() {
    const onnx::GraphProto& graph = model_.graph();
    for (const auto& opset : model_.opset_import()) {
      if (opset.domain().empty() || opset.domain() == "ai.onnx") result_.opset = opset.version();
    }
    for (const auto& tensor : graph.initializer()) constants_[tensor.name()] = parse(tensor, "initializer");
    read_input(graph);
    for (const auto& node : graph.node()) read_node(node);
    expect(graph.output_size() == 1, "the graph has ", graph.output_size(),
           " outputs; cuxplain reads models with exactly one");
    result_.output_name = graph.output(0).name();
    result_.output = node_for(result_.output_name, "the graph output");
    // Tensor names in graph order, with their final nodes (a pending dense
    // layer gets its node only when it is read).
    std::set<std::string> listed;
    const auto list = [&](const std::string& name) {
      const auto it = nodes_.find(name);
      if (it != nodes_.end() && listed.insert(name).second) {
        result_.tensors.emplace_back(name, it->second);
      }
    };
    list(result_.input_name);
    for (const auto& node : graph.node()) {
      for (const auto& name : node.output()) list(name);
    }
    return std::move(result_);
  }

 private:
  template <class... Parts>
  void expect(bool cond, const Parts&... parts) const {
    if (!cond) CUXPLAIN_FAIL("ONNX model '", file_, "': ", parts...);
  }

  template <class... Parts>
  [[noreturn]] void fail_node(const onnx::NodeProto& node, const Parts&... parts) const {
    CUXPLAIN_FAIL("ONNX model '", file_, "': node '", node.name(), "' (", node.op_type(), "): ",
                  parts...);
  }

  Constant parse(const onnx::TensorProto& tensor, const char* what) const {
    Constant c;
    c.dims.assign(tensor.dims().begin(), tensor.dims().end());
    const std::int64_t count = c.count();
    expect(tensor.data_location() != onnx::TensorProto::EXTERNAL, what, " '", tensor.name(),
           "' is stored in an external file, which cuxplain does not read");
    const std::string& raw = tensor.raw_data();
    if (tensor.data_type() == onnx::TensorProto::FLOAT) {
      if (!raw.empty()) {
        expect(raw.size() == static_cast<std::size_t>(count) * sizeof(float), what, " '",
               tensor.name(), "' holds ", raw.size(), " bytes for ", count,
               " floats (truncated file?)");
        c.floats.resize(static_cast<std::size_t>(count));
        std::memcpy(c.floats.data(), raw.data(), raw.size());
      } else {
        expect(tensor.float_data_size() == count, what, " '", tensor.name(), "' holds ",
               tensor.float_data_size(), " floats for ", count, " (truncated file?)");
        c.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
      }
    } else if (tensor.data_type() == onnx::TensorProto::INT64) {
      c.is_int = true;
      if (!raw.empty()) {
        expect(raw.size() == static_cast<std::size_t>(count) * sizeof(std::int64_t), what, " '",
               tensor.name(), "' holds ", raw.size(), " bytes for ", count, " int64 values");
        c.ints.resize(static_cast<std::size_t>(count));
        std::memcpy(c.ints.data(), raw.data(), raw.size());
      } else {
        expect(tensor.int64_data_size() == count, what, " '", tensor.name(), "' holds ",
               tensor.int64_data_size(), " int64 values for ", count);
        c.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
      }
    } else {
      CUXPLAIN_FAIL("ONNX model '", file_, "': ", what, " '", tensor.name(), "' has data type ",
                    onnx::TensorProto::DataType_Name(
                        static_cast<onnx::TensorProto::DataType>(tensor.data_type())),
                    "; cuxplain reads float32 weights (and int64 shapes)");
    }
    return c;
  }

  void read_input(const onnx::GraphProto& graph) {
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& value : graph.input()) {
      if (constants_.count(value.name()) != 0) continue;  // older exporters list initializers
      expect(input == nullptr, "the graph has more than one non-constant input ('",
             input == nullptr ? "" : input->name(), "', '", value.name(), "')");
      input = &value;
    }
    expect(input != nullptr, "the graph has no input");
    const auto& type = input->type().tensor_type();
    expect(type.elem_type() == onnx::TensorProto::FLOAT, "input '", input->name(),
           "' is not float32");
    const auto& dims = type.shape().dim();
    std::vector<std::int64_t> sample;
    for (int i = 1; i < dims.size(); ++i) {
      expect(dims[i].has_dim_value() && dims[i].dim_value() > 0, "input '", input->name(),
             "' dimension ", i, " has no fixed size");
      sample.push_back(dims[i].dim_value());
    }
    expect(!sample.empty() && sample.size() <= 3, "input '", input->name(), "' has rank ",
           dims.size(), "; cuxplain reads N x F, N x C x L and N x C x H x W inputs");
    result_.input_name = input->name();
    nodes_[input->name()] = result_.builder.input(shape_of(sample));
  }

  static Shape shape_of(const std::vector<std::int64_t>& sample) {
    Shape s;
    s.c = sample[0];
    s.h = sample.size() > 1 ? sample[1] : 1;
    s.w = sample.size() > 2 ? sample[2] : 1;
    return s;
  }

  /// The builder node behind a tensor name, adding a pending dense layer
  /// (without bias) if that is what produces it.
  NodeId node_for(const std::string& name, const std::string& consumer) {
    if (auto pending = pending_.find(name); pending != pending_.end()) {
      const PendingDense dense = std::move(pending->second);
      pending_.erase(pending);
      const NodeId id = result_.builder.dense(dense.input, dense.out_features, dense.weight);
      nodes_[name] = id;
      return id;
    }
    const auto it = nodes_.find(name);
    expect(it != nodes_.end(), consumer, " reads tensor '", name,
           "', which no supported node produces (a truncated file, or a constant where a "
           "tensor computed from the input is expected)");
    return it->second;
  }

  const Constant* constant(const std::string& name) const {
    const auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : &it->second;
  }

  const Constant& required_constant(const onnx::NodeProto& node, int index, const char* role) const {
    if (node.input_size() <= index || node.input(index).empty()) fail_node(node, "has no ", role);
    const Constant* c = constant(node.input(index));
    if (c == nullptr) fail_node(node, role, " '", node.input(index), "' must be a constant initializer");
    if (c->is_int) fail_node(node, role, " '", node.input(index), "' must hold floats");
    return *c;
  }

  /// Attributes by name, refusing any the op does not list.
  std::unordered_map<std::string, const onnx::AttributeProto*> attributes(
      const onnx::NodeProto& node, const std::set<std::string>& known) const {
    std::unordered_map<std::string, const onnx::AttributeProto*> out;
    for (const auto& attribute : node.attribute()) {
      if (known.count(attribute.name()) == 0) {
        fail_node(node, "attribute '", attribute.name(), "' is not supported");
      }
      out[attribute.name()] = &attribute;
    }
    return out;
  }

  static std::int64_t int_attr(const std::unordered_map<std::string, const onnx::AttributeProto*>& a,
                               const char* name, std::int64_t fallback) {
    const auto it = a.find(name);
    return it == a.end() ? fallback : it->second->i();
  }
  static float float_attr(const std::unordered_map<std::string, const onnx::AttributeProto*>& a,
                          const char* name, float fallback) {
    const auto it = a.find(name);
    return it == a.end() ? fallback : it->second->f();
  }
  static std::vector<std::int64_t> ints_attr(
      const std::unordered_map<std::string, const onnx::AttributeProto*>& a, const char* name,
      std::vector<std::int64_t> fallback) {
    const auto it = a.find(name);
    if (it == a.end()) return fallback;
    return {it->second->ints().begin(), it->second->ints().end()};
  }

  void expect_attr(const onnx::NodeProto& node, bool cond, const char* name,
                   const std::string& value, const char* supported) const {
    if (!cond) fail_node(node, "attribute ", name, " = ", value, " is not supported (", supported, ")");
  }

  static std::string join(const std::vector<std::int64_t>& v) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
    out << "]";
    return out.str();
  }

  void check_auto_pad(const onnx::NodeProto& node,
                      const std::unordered_map<std::string, const onnx::AttributeProto*>& a) const {
    const auto it = a.find("auto_pad");
    if (it == a.end()) return;
    const std::string& mode = it->second->s();
    expect_attr(node, mode == "NOTSET" || mode == "VALID", "auto_pad", mode,
                "NOTSET or VALID; export with explicit pads");
  }

  void set_output(const onnx::NodeProto& node, NodeId id) {
    if (node.output_size() < 1) fail_node(node, "has no output");
    for (int i = 1; i < node.output_size(); ++i) {
      if (!node.output(i).empty()) fail_node(node, "output ", i, " ('", node.output(i), "') is not supported");
    }
    nodes_[node.output(0)] = id;
  }

  void read_node(const onnx::NodeProto& node) {
    static const std::unordered_map<std::string, void (Reader::*)(const onnx::NodeProto&)> ops = {
        {"Conv", &Reader::conv},         {"Gemm", &Reader::gemm},
        {"MatMul", &Reader::matmul},     {"Add", &Reader::add},
        {"Relu", &Reader::relu},         {"MaxPool", &Reader::max_pool},
        {"AveragePool", &Reader::average_pool}, {"GlobalAveragePool", &Reader::global_average_pool},
        {"Flatten", &Reader::flatten},   {"Reshape", &Reader::reshape},
        {"BatchNormalization", &Reader::batch_norm}, {"Identity", &Reader::pass_through},
        {"Dropout", &Reader::pass_through}, {"Constant", &Reader::constant_node}};
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      fail_node(node, "domain '", node.domain(), "' is not supported");
    }
    const auto op = ops.find(node.op_type());
    if (op == ops.end()) {
      fail_node(node, "op ", node.op_type(), " is not supported; cuxplain reads Conv, Gemm, "
                "MatMul, Add, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, "
                "BatchNormalization, Identity, Dropout and Constant");
    }
    (this->*(op->second))(node);
  }

  void conv(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
    check_auto_pad(node, a);
    const std::int64_t group = int_attr(a, "group", 1);
    expect_attr(node, group == 1, "group", std::to_string(group), "groups = 1 only");
    const auto dilations = ints_attr(a, "dilations", {1, 1});
    expect_attr(node, dilations == std::vector<std::int64_t>{1, 1}, "dilations", join(dilations), "dilation 1 only");
    const Constant& weight = required_constant(node, 1, "weight");
    if (weight.dims.size() != 4) fail_node(node, "weight has rank ", weight.dims.size(), "; 2D convolutions only");
    const auto kernel = ints_attr(a, "kernel_shape", {weight.dims[2], weight.dims[3]});
    expect_attr(node, kernel == std::vector<std::int64_t>{weight.dims[2], weight.dims[3]},
                "kernel_shape", join(kernel), "must match the weight");
    const auto strides = ints_attr(a, "strides", {1, 1});
    const auto pads = ints_attr(a, "pads", {0, 0, 0, 0});
    expect_attr(node, strides.size() == 2, "strides", join(strides), "two values");
    expect_attr(node, pads.size() == 4, "pads", join(pads), "four values");
    std::vector<float> bias;
    if (node.input_size() > 2 && !node.input(2).empty()) bias = required_constant(node, 2, "bias").floats;
    ConvParams params;
    params.stride_h = strides[0];
    params.stride_w = strides[1];
    params.pad_top = pads[0];
    params.pad_left = pads[1];
    params.pad_bottom = pads[2];
    params.pad_right = pads[3];
    const NodeId x = node_for(node.input(0), "Conv '" + node.name() + "'");
    set_output(node, result_.builder.conv(x, weight.dims[0], weight.dims[2], weight.dims[3],
                                          weight.floats, std::move(bias), params));
  }

  void gemm(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"alpha", "beta", "transA", "transB"});
    const std::int64_t trans_a = int_attr(a, "transA", 0);
    expect_attr(node, trans_a == 0, "transA", std::to_string(trans_a), "the activation is not transposed");
    const bool trans_b = int_attr(a, "transB", 0) != 0;
    const float alpha = float_attr(a, "alpha", 1.0f), beta = float_attr(a, "beta", 1.0f);
    const Constant& b = required_constant(node, 1, "weight B");
    if (b.dims.size() != 2) fail_node(node, "weight B has rank ", b.dims.size(), ", not 2");
    const std::int64_t out = trans_b ? b.dims[0] : b.dims[1];
    const std::int64_t in = trans_b ? b.dims[1] : b.dims[0];
    std::vector<float> weight(static_cast<std::size_t>(out * in));
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i)
        weight[o * in + i] = alpha * (trans_b ? b.floats[o * in + i] : b.floats[i * out + o]);
    std::vector<float> bias;
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const Constant& c = required_constant(node, 2, "bias C");
      if (c.count() != out && c.count() != 1) fail_node(node, "bias C has ", c.count(), " values for ", out, " outputs");
      bias.resize(static_cast<std::size_t>(out));
      for (std::int64_t o = 0; o < out; ++o) bias[o] = beta * c.floats[c.count() == 1 ? 0 : o];
    }
    const NodeId x = node_for(node.input(0), "Gemm '" + node.name() + "'");
    set_output(node, result_.builder.dense(x, out, std::move(weight), std::move(bias)));
  }

  void matmul(const onnx::NodeProto& node) {
    attributes(node, {});
    const Constant& b = required_constant(node, 1, "right operand B");
    if (b.dims.size() != 2) fail_node(node, "B has rank ", b.dims.size(), ", not 2");
    const std::int64_t in = b.dims[0], out = b.dims[1];
    PendingDense dense;
    dense.input = node_for(node.input(0), "MatMul '" + node.name() + "'");
    dense.out_features = out;
    dense.weight.resize(static_cast<std::size_t>(out * in));
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i) dense.weight[o * in + i] = b.floats[i * out + o];
    if (node.output_size() != 1) fail_node(node, "has ", node.output_size(), " outputs");
    pending_[node.output(0)] = std::move(dense);
  }

  void add(const onnx::NodeProto& node) {
    attributes(node, {});
    if (node.input_size() != 2) fail_node(node, "has ", node.input_size(), " inputs, not 2");
    for (int side = 0; side < 2; ++side) {
      const Constant* c = constant(node.input(side));
      if (c == nullptr) continue;
      const auto pending = pending_.find(node.input(1 - side));
      if (pending == pending_.end()) {
        fail_node(node, "adds the constant '", node.input(side), "'; cuxplain supports a constant "
                  "Add only as the bias of the MatMul just before it");
      }
      PendingDense dense = std::move(pending->second);
      pending_.erase(pending);
      if (c->is_int || (c->count() != dense.out_features && c->count() != 1)) {
        fail_node(node, "bias '", node.input(side), "' has ", c->count(), " values for ",
                  dense.out_features, " outputs");
      }
      std::vector<float> bias(static_cast<std::size_t>(dense.out_features));
      for (std::int64_t o = 0; o < dense.out_features; ++o) bias[o] = c->floats[c->count() == 1 ? 0 : o];
      set_output(node, result_.builder.dense(dense.input, dense.out_features,
                                             std::move(dense.weight), std::move(bias)));
      return;
    }
    const NodeId lhs = node_for(node.input(0), "Add '" + node.name() + "'");
    const NodeId rhs = node_for(node.input(1), "Add '" + node.name() + "'");
    set_output(node, result_.builder.add(lhs, rhs));
  }

  void relu(const onnx::NodeProto& node) {
    attributes(node, {});
    set_output(node, result_.builder.relu(node_for(node.input(0), "Relu '" + node.name() + "'")));
  }

  PoolParams pool_params(const onnx::NodeProto& node,
                         const std::unordered_map<std::string, const onnx::AttributeProto*>& a) const {
    check_auto_pad(node, a);
    const std::int64_t ceil_mode = int_attr(a, "ceil_mode", 0);
    expect_attr(node, ceil_mode == 0, "ceil_mode", std::to_string(ceil_mode), "floor mode only");
    const auto dilations = ints_attr(a, "dilations", {1, 1});
    expect_attr(node, dilations == std::vector<std::int64_t>{1, 1}, "dilations", join(dilations), "dilation 1 only");
    const auto kernel = ints_attr(a, "kernel_shape", {});
    expect_attr(node, kernel.size() == 2, "kernel_shape", join(kernel), "two values");
    const auto strides = ints_attr(a, "strides", {1, 1});
    const auto pads = ints_attr(a, "pads", {0, 0, 0, 0});
    expect_attr(node, strides.size() == 2, "strides", join(strides), "two values");
    expect_attr(node, pads.size() == 4, "pads", join(pads), "four values");
    PoolParams p;
    p.kernel_h = kernel[0];
    p.kernel_w = kernel[1];
    p.stride_h = strides[0];
    p.stride_w = strides[1];
    p.pad_top = pads[0];
    p.pad_left = pads[1];
    p.pad_bottom = pads[2];
    p.pad_right = pads[3];
    return p;
  }

  void max_pool(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode",
                                     "dilations", "storage_order"});
    const std::int64_t order = int_attr(a, "storage_order", 0);
    expect_attr(node, order == 0, "storage_order", std::to_string(order), "row major only");
    const PoolParams p = pool_params(node, a);
    set_output(node, result_.builder.max_pool(node_for(node.input(0), "MaxPool '" + node.name() + "'"), p));
  }

  void average_pool(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode",
                                     "dilations", "count_include_pad"});
    PoolParams p = pool_params(node, a);
    p.count_include_pad = int_attr(a, "count_include_pad", 0) != 0;
    set_output(node, result_.builder.avg_pool(node_for(node.input(0), "AveragePool '" + node.name() + "'"), p));
  }

  void global_average_pool(const onnx::NodeProto& node) {
    attributes(node, {});
    set_output(node, result_.builder.global_avg_pool(
                         node_for(node.input(0), "GlobalAveragePool '" + node.name() + "'")));
  }

  void flatten(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"axis"});
    const std::int64_t axis = int_attr(a, "axis", 1);
    expect_attr(node, axis == 1, "axis", std::to_string(axis), "axis 1 only: the batch stays first");
    set_output(node, result_.builder.flatten(node_for(node.input(0), "Flatten '" + node.name() + "'")));
  }

  void reshape(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"allowzero"});
    const std::int64_t allow_zero = int_attr(a, "allowzero", 0);
    expect_attr(node, allow_zero == 0, "allowzero", std::to_string(allow_zero), "0 only");
    if (node.input_size() < 2) fail_node(node, "has no shape input");
    const Constant* target = constant(node.input(1));
    if (target == nullptr || !target->is_int) fail_node(node, "shape '", node.input(1), "' must be a constant int64 tensor");
    const NodeId x = node_for(node.input(0), "Reshape '" + node.name() + "'");
    const Shape in = result_.builder.shape(x);
    const std::vector<std::int64_t> in_dims{in.c, in.h, in.w};
    const std::vector<std::int64_t>& t = target->ints;
    if (t.size() < 2 || t.size() > 4) fail_node(node, "target shape ", join(t), " must keep the batch first and have 1 to 3 more dimensions");
    if (t[0] != 0 && t[0] != -1 && t[0] < 1) fail_node(node, "target shape ", join(t), " has an invalid batch dimension");
    std::vector<std::int64_t> sample(t.begin() + 1, t.end());
    std::int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < sample.size(); ++i) {
      if (sample[i] == 0) sample[i] = in_dims[i];  // ONNX: 0 copies the input dimension
      if (sample[i] == -1) {
        if (infer >= 0) fail_node(node, "target shape ", join(t), " has two -1 dimensions");
        infer = static_cast<std::int64_t>(i);
      } else {
        known *= sample[i];
      }
    }
    if (infer >= 0) sample[static_cast<std::size_t>(infer)] = known > 0 ? in.size() / known : 0;
    set_output(node, result_.builder.reshape(x, shape_of(sample)));
  }

  void batch_norm(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"epsilon", "momentum", "training_mode", "spatial"});
    const std::int64_t training = int_attr(a, "training_mode", 0);
    expect_attr(node, training == 0, "training_mode", std::to_string(training), "inference only");
    const float epsilon = float_attr(a, "epsilon", 1e-5f);
    const NodeId x = node_for(node.input(0), "BatchNormalization '" + node.name() + "'");
    set_output(node, result_.builder.batch_norm(x, required_constant(node, 1, "scale").floats,
                                                required_constant(node, 2, "bias").floats,
                                                required_constant(node, 3, "mean").floats,
                                                required_constant(node, 4, "variance").floats,
                                                epsilon));
  }

  void pass_through(const onnx::NodeProto& node) {
    attributes(node, {"seed", "ratio", "training_mode"});
    if (node.input_size() > 2 && !node.input(2).empty()) {
      const Constant* training = constant(node.input(2));
      if (training == nullptr) fail_node(node, "training_mode must be a constant false");
    }
    set_output(node, node_for(node.input(0), node.op_type() + " '" + node.name() + "'"));
  }

  void constant_node(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"value"});
    const auto it = a.find("value");
    if (it == a.end()) fail_node(node, "only the 'value' form of Constant is supported");
    if (node.output_size() != 1) fail_node(node, "has ", node.output_size(), " outputs");
    constants_[node.output(0)] = parse(it->second->t(), "Constant");
  }

  const onnx::ModelProto& model_;
  std::string file_;
  OnnxModel result_;
  std::unordered_map<std::string, NodeId> nodes_;
  std::unordered_map<std::string, Constant> constants_;
  std::unordered_map<std::string, PendingDense> pending_;
};

}  // namespace

OnnxModel read_onnx(const void* data, std::size_t size, const std::string& name) {
  CUXPLAIN_EXPECTS(data != nullptr || size == 0, "read_onnx: data is null");
  CUXPLAIN_EXPECTS(size > 0, "ONNX model '", name, "' is empty");
  CUXPLAIN_EXPECTS(size <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                   "ONNX model '", name, "' is larger than 2 GiB, which protobuf cannot parse");
  onnx::ModelProto model;
  CUXPLAIN_EXPECTS(model.ParseFromArray(data, static_cast<int>(size)), "cannot parse '", name,
                   "' as an ONNX model: the file is truncated or not ONNX");
  CUXPLAIN_EXPECTS(model.has_graph() && model.graph().node_size() > 0, "ONNX model '", name,
                   "' has no graph nodes (truncated or empty)");
  return Reader(model, name).read();
}

bool onnx_available() { return true; }

#else

OnnxModel read_onnx(const void*, std::size_t, const std::string& name) {
  CUXPLAIN_FAIL("cannot read '", name, "': this cuxplain was built without ONNX support "
                "(install Debian's libonnx-dev and libprotobuf-dev and rebuild)");
}

bool onnx_available() { return false; }

#endif

OnnxModel read_onnx(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  CUXPLAIN_EXPECTS(!fs::is_directory(status), "ONNX model '", path, "' is a directory, not a file");
  // The size first: a file protobuf cannot parse is refused before it is read.
  constexpr std::uintmax_t kMaxBytes = static_cast<std::uintmax_t>(std::numeric_limits<int>::max());
  std::uintmax_t size = 0;
  if (fs::is_regular_file(status)) {
    size = fs::file_size(path, error);
    CUXPLAIN_EXPECTS(!error, "cannot read the size of ONNX model '", path, "': ", error.message());
    CUXPLAIN_EXPECTS(size <= kMaxBytes, "ONNX model '", path, "' is ", size, " bytes, larger than "
                     "the 2 GiB (", kMaxBytes, " bytes) protobuf can parse");
  }
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  CUXPLAIN_EXPECTS(file != nullptr, "cannot open ONNX model '", path, "': ",
                   errno != 0 ? std::strerror(errno) : "unknown error");
  // Read in chunks: the size of a pipe or device is not known beforehand.
  std::string data;
  data.reserve(static_cast<std::size_t>(size));
  char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) {
    data.append(chunk, got);
    CUXPLAIN_EXPECTS(data.size() <= kMaxBytes, "ONNX model '", path, "' is larger than the 2 GiB (",
                     kMaxBytes, " bytes) protobuf can parse");
  }
  CUXPLAIN_EXPECTS(!std::ferror(file.get()), "cannot read ONNX model '", path, "': ",
                   std::strerror(errno));
  return read_onnx(data.data(), data.size(), path);
}

Network load_onnx(const Context& ctx, const std::string& path) {
  OnnxModel model = read_onnx(path);
  return model.builder.build(ctx, model.output);
}

NodeId OnnxModel::node(const std::string& name) const {
  for (const auto& [tensor, id] : tensors) {
    if (tensor == name) return id;
  }
  std::ostringstream names;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    names << (i ? ", '" : "'") << tensors[i].first << "' ("
          << to_string(builder.shape(tensors[i].second)) << ")";
  }
  CUXPLAIN_FAIL("OnnxModel::node: the model has no tensor '", name, "'; its tensors are ",
                tensors.empty() ? std::string("(none)") : names.str());
}

SplitNetwork load_onnx_split(const Context& ctx, const std::string& path,
                             const std::string& tensor) {
  OnnxModel model = read_onnx(path);
  const NodeId split = model.node(tensor);
  SplitNetwork parts;
  parts.g = model.builder.build(ctx, split);
  try {
    parts.h = model.builder.build(ctx, split, model.output);
  } catch (const Error& error) {
    CUXPLAIN_FAIL("load_onnx_split: cannot split '", path, "' at tensor '", tensor, "' (node ",
                  split, "): ", error.what());
  }
  return parts;
}

}  // namespace cuxplain::nn
