// ONNX models to cuxplain::nn networks, through Debian's libonnx protobuf
// classes. Only what the network stack supports is accepted; anything else is
// an error naming the node, the op and the attribute.
#include <cuxplain/core/error.hpp>
#include <cuxplain/onnx.hpp>

#include <cerrno>
#include <cmath>
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
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>
#endif

namespace cuxplain::nn {

#if CUXPLAIN_WITH_ONNX
namespace {

/// A constant tensor (initializer or Constant node), its element count
/// checked against its dims and its data.
struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  bool is_int = false;

  std::int64_t count() const {
    return static_cast<std::int64_t>(is_int ? ints.size() : floats.size());
  }
};

/// "[a, b, c]".
std::string join(const std::vector<std::int64_t>& v) {
  std::ostringstream out;
  out << "[";
  for (std::size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

/// The product of file-supplied dims, or an empty string replaced by what is
/// wrong with them: a negative dimension, or more than 2^63 - 1 elements
/// (the product is never formed past that, so it cannot wrap).
std::string element_count(const std::vector<std::int64_t>& dims, std::int64_t& count) {
  count = 1;
  for (std::int64_t d : dims) {
    if (d < 0) return "a negative dimension";
  }
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
    count = 0;
    return {};
  }
  for (std::int64_t d : dims) {
    if (count > std::numeric_limits<std::int64_t>::max() / d) return "more than 2^63 - 1 elements";
    count *= d;
  }
  return {};
}

/// A MatMul by a constant whose dense layer is not added yet, so that an Add
/// of a constant right after it can become its bias.
struct PendingDense {
  NodeId input = -1;
  std::int64_t out_features = 0;
  std::vector<float> weight;  // [out][in]
};

class Reader {
 public:
  Reader(const onnx::ModelProto& model, std::string file, OnnxInput layout)
      : model_(model), file_(std::move(file)), layout_(layout) {}

  OnnxModel read() {
    const onnx::GraphProto& graph = model_.graph();
    for (const auto& opset : model_.opset_import()) {
      if (opset.domain().empty() || opset.domain() == "ai.onnx") result_.opset = opset.version();
    }
    // Parsed when a node reads them, so that errors name the node.
    for (const auto& tensor : graph.initializer()) initializers_[tensor.name()] = &tensor;
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
    // The graph input as the network takes it (with channels_last_as_nchw,
    // the N x C x H x W input ahead of the transpose).
    result_.tensors.emplace_back(result_.input_name, input_node_);
    listed.insert(result_.input_name);
    for (const auto& node : graph.node()) {
      for (const auto& name : node.output()) list(name);
    }
    return std::move(result_);
  }

 private:
  using Attributes = std::unordered_map<std::string, const onnx::AttributeProto*>;

  template <class... Parts>
  void expect(bool cond, const Parts&... parts) const {
    if (!cond) CUXPLAIN_FAIL("ONNX model '", file_, "': ", parts...);
  }

  template <class... Parts>
  [[noreturn]] void fail_node(const onnx::NodeProto& node, const Parts&... parts) const {
    CUXPLAIN_FAIL("ONNX model '", file_, "': node '", node.name(), "' (", node.op_type(), "): ",
                  parts...);
  }

  /// Adds a layer with `add` (a NetworkBuilder call), naming the node in the
  /// builder's errors (parameter counts, windows, shapes).
  template <class Add>
  NodeId layer(const onnx::NodeProto& node, Add&& add) const {
    try {
      return add();
    } catch (const Error& error) {
      std::string what = error.what();
      const std::string prefix = "cuxplain: ";
      if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
      fail_node(node, what);
    }
  }

  /// Decodes a tensor for `node`, which reads it as `role`: every dimension
  /// >= 0, their product without overflow, and exactly that many values.
  Constant parse(const onnx::NodeProto& node, const onnx::TensorProto& tensor,
                 const char* role) const {
    Constant c;
    c.dims.assign(tensor.dims().begin(), tensor.dims().end());
    std::int64_t count = 0;
    const std::string problem = element_count(c.dims, count);
    if (!problem.empty()) {
      fail_node(node, role, " '", tensor.name(), "' has dims ", join(c.dims), ": ", problem);
    }
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
      fail_node(node, role, " '", tensor.name(), "' is stored in an external file, which cuxplain "
                "does not read");
    }
    const std::string& raw = tensor.raw_data();
    const auto from_raw = [&](auto& values, const char* type) {
      using Value = typename std::decay_t<decltype(values)>::value_type;
      // Compared by division: count * sizeof could wrap.
      if (raw.size() % sizeof(Value) != 0 ||
          raw.size() / sizeof(Value) != static_cast<std::uint64_t>(count)) {
        fail_node(node, role, " '", tensor.name(), "' has dims ", join(c.dims), " but holds ",
                  raw.size(), " bytes for ", count, " ", type, " (truncated file?)");
      }
      values.resize(static_cast<std::size_t>(count));
      if (count > 0) std::memcpy(values.data(), raw.data(), raw.size());
    };
    const auto from_field = [&](auto& values, const auto& field, const char* type) {
      if (static_cast<std::int64_t>(field.size()) != count) {
        fail_node(node, role, " '", tensor.name(), "' has dims ", join(c.dims), " but holds ",
                  field.size(), " ", type, " for ", count, " (truncated file?)");
      }
      values.assign(field.begin(), field.end());
    };
    if (tensor.data_type() == onnx::TensorProto::FLOAT) {
      if (!raw.empty()) {
        from_raw(c.floats, "floats");
      } else {
        from_field(c.floats, tensor.float_data(), "floats");
      }
    } else if (tensor.data_type() == onnx::TensorProto::INT64) {
      c.is_int = true;
      if (!raw.empty()) {
        from_raw(c.ints, "int64 values");
      } else {
        from_field(c.ints, tensor.int64_data(), "int64 values");
      }
    } else {
      fail_node(node, role, " '", tensor.name(), "' has data type ",
                onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(tensor.data_type())),
                "; cuxplain reads float32 weights (and int64 shapes)");
    }
    return c;
  }

  void read_input(const onnx::GraphProto& graph) {
    const onnx::ValueInfoProto* input = nullptr;
    for (const auto& value : graph.input()) {
      if (initializers_.count(value.name()) != 0) continue;  // older exporters list initializers
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
    const bool transposed = layout_ == OnnxInput::channels_last_as_nchw;
    expect(!transposed || sample.size() == 3, "input '", input->name(), "' of shape N x ", join(sample),
           " is not N x H x W x C, which OnnxInput::channels_last_as_nchw reads as N x C x H x W");
    try {
      if (transposed) {
        // The network's input is C x H x W; its first layer lays it out as
        // the graph's H x W x C (output axis k = input axis perm[k]).
        input_node_ = result_.builder.input({sample[2], sample[0], sample[1]});
        nodes_[input->name()] = result_.builder.transpose(input_node_, {1, 2, 0});
      } else {
        input_node_ = result_.builder.input(shape_of(sample));
        nodes_[input->name()] = input_node_;
      }
      dims_[input->name()] = sample;
    } catch (const Error& error) {
      CUXPLAIN_FAIL("ONNX model '", file_, "': input '", input->name(), "' of shape N x ",
                    join(sample), ": ", error.what());
    }
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
      dims_[name] = {dense.out_features};
      return id;
    }
    const auto it = nodes_.find(name);
    expect(it != nodes_.end(), consumer, " reads tensor '", name,
           "', which no supported node produces (a truncated file, or a constant where a "
           "tensor computed from the input is expected)");
    return it->second;
  }

  /// Checks that the node has min..max inputs before any is read (reading
  /// past the end of protobuf's list aborts the process).
  void expect_inputs(const onnx::NodeProto& node, int min, int max, const char* names) const {
    if (node.input_size() >= min && node.input_size() <= max) return;
    const std::string takes = min == max ? std::to_string(min)
                              : max == min + 1 ? std::to_string(min) + " or " + std::to_string(max)
                                               : std::to_string(min) + " to " + std::to_string(max);
    fail_node(node, "has ", node.input_size(), " inputs; ", node.op_type(), " takes ", takes, " (",
              names, ")");
  }

  /// The name of required input `index`. expect_inputs names the inputs an op
  /// takes; the bounds check here keeps a missed case an error, not an abort.
  const std::string& input(const onnx::NodeProto& node, int index) const {
    if (index < 0 || index >= node.input_size()) {
      fail_node(node, "has ", node.input_size(), " inputs; ", node.op_type(), " reads input ", index);
    }
    const std::string& name = node.input(index);
    if (name.empty()) fail_node(node, "input ", index, " has no name");
    return name;
  }

  /// The tensor computed from the network's input that `node` reads first.
  NodeId data_input(const onnx::NodeProto& node) {
    return node_for(input(node, 0), node.op_type() + " '" + node.name() + "'");
  }

  /// Whether optional input `index` is given.
  static bool has_input(const onnx::NodeProto& node, int index) {
    return node.input_size() > index && !node.input(index).empty();
  }

  /// The constant called `name`, parsed for `node` on first use; null when no
  /// initializer or Constant node has that name.
  const Constant* constant(const onnx::NodeProto& node, const std::string& name, const char* role) {
    if (const auto it = constants_.find(name); it != constants_.end()) return &it->second;
    const auto tensor = initializers_.find(name);
    if (tensor == initializers_.end()) return nullptr;
    return &constants_.emplace(name, parse(node, *tensor->second, role)).first->second;
  }

  const Constant& required_constant(const onnx::NodeProto& node, int index, const char* role) {
    if (!has_input(node, index)) fail_node(node, "has no ", role);
    const Constant* c = constant(node, node.input(index), role);
    if (c == nullptr) fail_node(node, role, " '", node.input(index), "' must be a constant initializer");
    if (c->is_int) fail_node(node, role, " '", node.input(index), "' must hold floats");
    return *c;
  }

  /// Every dimension of a layer's weight >= 1 (a zero one is an empty layer).
  void expect_nonempty(const onnx::NodeProto& node, const Constant& c, int index,
                       const char* role) const {
    for (std::int64_t d : c.dims) {
      if (d < 1) {
        fail_node(node, role, " '", node.input(index), "' has dims ", join(c.dims),
                  ": every dimension must be >= 1");
      }
    }
  }

  /// Attributes by name, refusing any the op does not list.
  Attributes attributes(const onnx::NodeProto& node, const std::set<std::string>& known) const {
    Attributes out;
    for (const auto& attribute : node.attribute()) {
      if (known.count(attribute.name()) == 0) {
        fail_node(node, "attribute '", attribute.name(), "' is not supported");
      }
      out[attribute.name()] = &attribute;
    }
    return out;
  }

  /// The attribute `name` when present, checked to be of `type` (a value of
  /// another type would read as the field's default).
  const onnx::AttributeProto* typed(const onnx::NodeProto& node, const Attributes& a,
                                    const char* name, onnx::AttributeProto::AttributeType type) const {
    const auto it = a.find(name);
    if (it == a.end()) return nullptr;
    if (it->second->type() != type) {
      fail_node(node, "attribute ", name, " has type ",
                onnx::AttributeProto::AttributeType_Name(it->second->type()), ", expected ",
                onnx::AttributeProto::AttributeType_Name(type));
    }
    return it->second;
  }

  std::int64_t int_attr(const onnx::NodeProto& node, const Attributes& a, const char* name,
                        std::int64_t fallback) const {
    const auto* attribute = typed(node, a, name, onnx::AttributeProto::INT);
    return attribute == nullptr ? fallback : attribute->i();
  }
  float float_attr(const onnx::NodeProto& node, const Attributes& a, const char* name,
                   float fallback) const {
    const auto* attribute = typed(node, a, name, onnx::AttributeProto::FLOAT);
    return attribute == nullptr ? fallback : attribute->f();
  }
  std::vector<std::int64_t> ints_attr(const onnx::NodeProto& node, const Attributes& a,
                                      const char* name, std::vector<std::int64_t> fallback) const {
    const auto* attribute = typed(node, a, name, onnx::AttributeProto::INTS);
    if (attribute == nullptr) return fallback;
    return {attribute->ints().begin(), attribute->ints().end()};
  }

  void expect_attr(const onnx::NodeProto& node, bool cond, const char* name,
                   const std::string& value, const char* supported) const {
    if (!cond) fail_node(node, "attribute ", name, " = ", value, " is not supported (", supported, ")");
  }

  /// The pads [top, left, bottom, right] of a Conv or pool over an H x W
  /// input: the explicit `pads` attribute, or those auto_pad implies (ONNX:
  /// VALID none; SAME_UPPER and SAME_LOWER the least total padding that
  /// makes the output ceil(in / stride), split evenly with the odd one at
  /// the end, resp. the start). Nonzero pads given with auto_pad are an
  /// error, as ONNX forbids both.
  std::vector<std::int64_t> pads_of(const onnx::NodeProto& node, const Attributes& a, const Shape& in,
                                    const std::vector<std::int64_t>& kernel,
                                    const std::vector<std::int64_t>& strides,
                                    const std::vector<std::int64_t>& dilations) const {
    std::vector<std::int64_t> pads = ints_attr(node, a, "pads", {0, 0, 0, 0});
    expect_attr(node, pads.size() == 4, "pads", join(pads), "four values");
    const auto* attribute = typed(node, a, "auto_pad", onnx::AttributeProto::STRING);
    const std::string mode = attribute == nullptr ? "NOTSET" : attribute->s();
    expect_attr(node, mode == "NOTSET" || mode == "VALID" || mode == "SAME_UPPER" || mode == "SAME_LOWER",
                "auto_pad", mode, "NOTSET, VALID, SAME_UPPER or SAME_LOWER");
    if (mode == "NOTSET") return pads;
    if (pads != std::vector<std::int64_t>{0, 0, 0, 0}) {
      fail_node(node, "has both pads ", join(pads), " and auto_pad = ", mode);
    }
    pads.assign(4, 0);
    if (mode == "VALID") return pads;
    const std::int64_t size[2] = {in.h, in.w};
    for (int axis = 0; axis < 2; ++axis) {
      if (strides[axis] < 1 || kernel[axis] < 1 || dilations[axis] < 1) {
        fail_node(node, "auto_pad = ", mode, " with kernel_shape ", join(kernel), ", strides ",
                  join(strides), " and dilations ", join(dilations), ": each must be >= 1");
      }
      // Ordered so that nothing wraps: (out - 1) stride < size.
      const std::int64_t out = (size[axis] - 1) / strides[axis] + 1;
      if (kernel[axis] > 1 && dilations[axis] > (std::numeric_limits<std::int64_t>::max() - 1) / (kernel[axis] - 1)) {
        fail_node(node, "kernel_shape ", join(kernel), " with dilations ", join(dilations), " overflows");
      }
      const std::int64_t extent = (kernel[axis] - 1) * dilations[axis] + 1;
      const std::int64_t total = std::max<std::int64_t>(0, ((out - 1) * strides[axis] - size[axis]) + extent);
      const std::int64_t small = total / 2, large = total - small;
      pads[axis] = mode == "SAME_UPPER" ? small : large;
      pads[axis + 2] = mode == "SAME_UPPER" ? large : small;
    }
    return pads;
  }

  /// Records the node's output: builder node `id`, whose ONNX dims (without
  /// the batch) are `dims`, or, when empty, the builder shape at the rank of
  /// the node's first input (1: a flat vector).
  void set_output(const onnx::NodeProto& node, NodeId id, std::vector<std::int64_t> dims = {}) {
    if (node.output_size() < 1) fail_node(node, "has no output");
    for (int i = 1; i < node.output_size(); ++i) {
      if (!node.output(i).empty()) fail_node(node, "output ", i, " ('", node.output(i), "') is not supported");
    }
    if (dims.empty()) {
      const Shape shape = result_.builder.shape(id);
      const std::size_t rank =
          node.input_size() > 0 && dims_.count(node.input(0)) ? dims_[node.input(0)].size() : 3;
      dims = rank == 1   ? std::vector<std::int64_t>{shape.size()}
             : rank == 2 ? std::vector<std::int64_t>{shape.c, shape.h * shape.w}
                         : std::vector<std::int64_t>{shape.c, shape.h, shape.w};
    }
    dims_[node.output(0)] = std::move(dims);
    nodes_[node.output(0)] = id;
  }

  /// The ONNX dims (without the batch) of a computed tensor.
  std::vector<std::int64_t> dims_of(const std::string& name) {
    const auto it = dims_.find(name);
    if (it != dims_.end()) return it->second;
    const Shape shape = result_.builder.shape(node_for(name, "a shape query"));
    return {shape.c, shape.h, shape.w};
  }

  /// An axis of a rank-`rank` tensor (batch included), negative ones counted
  /// from the end.
  std::int64_t axis_of(const onnx::NodeProto& node, std::int64_t axis, std::size_t rank) const {
    const auto r = static_cast<std::int64_t>(rank);
    if (axis < -r || axis >= r) fail_node(node, "axis ", axis, " is outside a rank-", r, " tensor");
    return axis < 0 ? axis + r : axis;
  }

  /// Whether every named input of the node is a constant.
  bool all_constant(const onnx::NodeProto& node) {
    for (const auto& name : node.input()) {
      if (!name.empty() && constant(node, name, "input") == nullptr) return false;
    }
    return node.input_size() > 0;
  }

  void read_node(const onnx::NodeProto& node) {
    static const std::unordered_map<std::string, void (Reader::*)(const onnx::NodeProto&)> ops = {
        {"Conv", &Reader::conv},         {"Gemm", &Reader::gemm},
        {"MatMul", &Reader::matmul},     {"Add", &Reader::add},
        {"Relu", &Reader::relu},         {"MaxPool", &Reader::max_pool},
        {"AveragePool", &Reader::average_pool}, {"GlobalAveragePool", &Reader::global_average_pool},
        {"Flatten", &Reader::flatten},   {"Reshape", &Reader::reshape},
        {"BatchNormalization", &Reader::batch_norm}, {"Identity", &Reader::pass_through},
        {"Dropout", &Reader::pass_through}, {"Constant", &Reader::constant_node},
        {"Clip", &Reader::activation},   {"LeakyRelu", &Reader::activation},
        {"Sigmoid", &Reader::activation}, {"Tanh", &Reader::activation},
        {"HardSigmoid", &Reader::activation}, {"HardSwish", &Reader::activation},
        {"Mul", &Reader::arithmetic},    {"Sub", &Reader::arithmetic},
        {"Div", &Reader::arithmetic},    {"Concat", &Reader::concat},
        {"Pad", &Reader::pad},           {"ReduceMean", &Reader::reduce_mean},
        {"Softmax", &Reader::softmax},   {"Transpose", &Reader::transpose},
        {"Squeeze", &Reader::squeeze},   {"Unsqueeze", &Reader::squeeze},
        {"Shape", &Reader::shape_node}};
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      fail_node(node, "domain '", node.domain(), "' is not supported");
    }
    // Shape computations on constants (the chains exporters emit around
    // Reshape and Pad) are folded here.
    static const std::set<std::string> foldable = {
        "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Slice", "Transpose", "Cast",
        "ConstantOfShape", "Identity", "Mul", "Add", "Sub", "Div"};
    if (foldable.count(node.op_type()) != 0 && all_constant(node)) {
      fold(node);
      return;
    }
    const auto op = ops.find(node.op_type());
    if (op == ops.end()) {
      fail_node(node, "op ", node.op_type(), " is not supported; cuxplain reads Conv, Gemm, "
                "MatMul, Add, Sub, Mul, Div, Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, "
                "HardSwish, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Concat, Pad, "
                "Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Softmax, BatchNormalization, "
                "Identity, Dropout and Constant (and folds Shape, Gather, Slice, Cast, "
                "ConstantOfShape on constants)");
    }
    (this->*(op->second))(node);
  }

  // -------------------------------------------------------------------------
  // Constant folding
  // -------------------------------------------------------------------------

  /// The batch dimension in a folded shape: Shape of a tensor computed from
  /// the input gives {kBatch, dims...}; Reshape reads kBatch as "keep".
  static constexpr std::int64_t kBatch = std::numeric_limits<std::int64_t>::min() / 2;

  void shape_node(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "data");
    attributes(node, {});
    Constant c;
    c.is_int = true;
    c.ints.push_back(kBatch);
    for (std::int64_t d : dims_of(input(node, 0))) c.ints.push_back(d);
    c.dims = {static_cast<std::int64_t>(c.ints.size())};
    define_constant(node, std::move(c));
  }

  void define_constant(const onnx::NodeProto& node, Constant c) {
    if (node.output_size() != 1) fail_node(node, "has ", node.output_size(), " outputs");
    constants_.insert_or_assign(node.output(0), std::move(c));
  }

  /// The values of a constant as doubles (ints exactly up to 2^53; kBatch is
  /// refused by the arithmetic that would read it).
  static std::vector<double> as_doubles(const Constant& c) {
    std::vector<double> v;
    if (c.is_int) v.assign(c.ints.begin(), c.ints.end()); else v.assign(c.floats.begin(), c.floats.end());
    return v;
  }

  static Constant make_constant(std::vector<std::int64_t> dims, const std::vector<double>& values,
                                bool is_int) {
    Constant c;
    c.dims = std::move(dims);
    c.is_int = is_int;
    if (is_int) {
      c.ints.reserve(values.size());
      for (double v : values) c.ints.push_back(static_cast<std::int64_t>(v));
    } else {
      c.floats.assign(values.begin(), values.end());
    }
    return c;
  }

  /// Row-major strides of dims.
  static std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& dims) {
    std::vector<std::int64_t> strides(dims.size(), 1);
    for (std::size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
    return strides;
  }

  std::vector<std::int64_t> int_input(const onnx::NodeProto& node, int index, const char* role) {
    const Constant* c = constant(node, input(node, index), role);
    if (c == nullptr || !c->is_int) fail_node(node, role, " '", node.input(index), "' must be a constant int64 tensor");
    return c->ints;
  }

  std::vector<std::int64_t> axes_of(const onnx::NodeProto& node, const Attributes& a, int index) {
    if (has_input(node, index)) return int_input(node, index, "axes");
    return ints_attr(node, a, "axes", {});
  }

  void fold(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    if (op == "Reshape") expect_inputs(node, 2, 2, "data and shape");
    else if (op == "Gather") expect_inputs(node, 2, 2, "data and indices");
    else if (op == "Unsqueeze" || op == "Squeeze") expect_inputs(node, 1, 2, "data and optional axes");
    else if (op == "Slice") expect_inputs(node, 3, 5, "data, starts, ends, optional axes and steps");
    else if (op == "Mul" || op == "Add" || op == "Sub" || op == "Div") expect_inputs(node, 2, 2, "A and B");
    else if (op != "Concat") expect_inputs(node, 1, 1, "input");
    const Constant& x = *constant(node, input(node, 0), "input");
    const bool keeps_batch = x.is_int && std::find(x.ints.begin(), x.ints.end(), kBatch) != x.ints.end();
    if (op == "Identity") {
      attributes(node, {});
      define_constant(node, x);
    } else if (op == "Cast") {
      const auto a = attributes(node, {"to", "saturate"});
      const std::int64_t to = int_attr(node, a, "to", 0);
      if (to != onnx::TensorProto::INT64 && to != onnx::TensorProto::FLOAT) fail_node(node, "casts a constant to type ", to, "; cuxplain folds casts to float and int64");
      if (to == onnx::TensorProto::INT64 && x.is_int) { define_constant(node, x); return; }
      if (keeps_batch) fail_node(node, "casts the batch size");
      define_constant(node, make_constant(x.dims, as_doubles(x), to == onnx::TensorProto::INT64));
    } else if (op == "ConstantOfShape") {
      const auto a = attributes(node, {"value"});
      const auto* value = typed(node, a, "value", onnx::AttributeProto::TENSOR);
      Constant fill = value != nullptr ? parse(node, value->t(), "value") : make_constant({1}, {0.0}, false);
      if (fill.count() != 1) fail_node(node, "value must hold one element");
      if (keeps_batch || !x.is_int) fail_node(node, "the shape must be a constant without the batch");
      std::int64_t count = 0;
      const std::string problem = element_count(x.ints, count);
      if (!problem.empty() || count > (std::int64_t{1} << 24)) fail_node(node, "shape ", join(x.ints), " is not a small constant");
      define_constant(node, make_constant(x.ints, std::vector<double>(static_cast<std::size_t>(count), as_doubles(fill)[0]), fill.is_int));
    } else if (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape") {
      const auto a = attributes(node, {"axes", "allowzero"});
      std::vector<std::int64_t> dims = x.dims;
      if (op == "Reshape") {
        dims = int_input(node, 1, "shape");
        std::int64_t known = 1, infer = -1;
        for (std::size_t i = 0; i < dims.size(); ++i) {
          if (dims[i] == 0 && i < x.dims.size()) dims[i] = x.dims[i];
          if (dims[i] == -1) { infer = static_cast<std::int64_t>(i); continue; }
          if (dims[i] < 0) fail_node(node, "shape ", join(dims), " has a negative extent other than -1");
          if (dims[i] != 0 && known > std::numeric_limits<std::int64_t>::max() / dims[i]) {
            fail_node(node, "shape ", join(dims), " holds more elements than int64 counts");
          }
          known *= dims[i];
        }
        if (infer >= 0) dims[static_cast<std::size_t>(infer)] = known == 0 ? 0 : x.count() / known;
      } else {
        std::vector<std::int64_t> axes = axes_of(node, a, 1);
        const std::size_t rank = op == "Unsqueeze" ? dims.size() + axes.size() : dims.size();
        for (auto& axis : axes) axis = axis_of(node, axis, rank);
        std::sort(axes.begin(), axes.end());
        if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail_node(node, "axes ", join(axes), " repeat an axis");
        if (op == "Unsqueeze") {
          for (std::int64_t axis : axes) dims.insert(dims.begin() + axis, 1);
        } else {
          if (axes.empty()) { dims.erase(std::remove(dims.begin(), dims.end(), 1), dims.end()); }
          for (std::size_t i = axes.size(); i-- > 0;) {
            if (dims[static_cast<std::size_t>(axes[i])] != 1) fail_node(node, "squeezes axis ", axes[i], " of extent ", dims[static_cast<std::size_t>(axes[i])]);
            dims.erase(dims.begin() + axes[i]);
          }
        }
      }
      Constant c = x;
      c.dims = dims;
      std::int64_t count = 0;
      if (!element_count(dims, count).empty() || count != x.count()) fail_node(node, "dims ", join(dims), " do not hold the constant's ", x.count(), " values");
      define_constant(node, std::move(c));
    } else if (op == "Gather") {
      const auto a = attributes(node, {"axis"});
      const std::int64_t axis = axis_of(node, int_attr(node, a, "axis", 0), x.dims.size());
      const std::vector<std::int64_t> indices = int_input(node, 1, "indices");
      const Constant& ic = *constant(node, input(node, 1), "indices");
      const auto strides = strides_of(x.dims);
      const std::int64_t extent = x.dims[static_cast<std::size_t>(axis)];
      const std::int64_t outer = x.count() / std::max<std::int64_t>(1, extent * strides[static_cast<std::size_t>(axis)]);
      const std::int64_t inner = strides[static_cast<std::size_t>(axis)];
      const std::vector<double> v = as_doubles(x);
      std::vector<double> out;
      std::vector<std::int64_t> ints;
      for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t index : indices) {
          if (index < -extent || index >= extent) fail_node(node, "index ", index, " is outside ", extent);
          const std::int64_t at = index < 0 ? index + extent : index;
          for (std::int64_t i = 0; i < inner; ++i) {
            const std::size_t e = static_cast<std::size_t>((o * extent + at) * inner + i);
            out.push_back(v[e]);
            if (x.is_int) ints.push_back(x.ints[e]);
          }
        }
      std::vector<std::int64_t> dims(x.dims.begin(), x.dims.begin() + axis);
      dims.insert(dims.end(), ic.dims.begin(), ic.dims.end());
      dims.insert(dims.end(), x.dims.begin() + axis + 1, x.dims.end());
      Constant c = make_constant(dims, out, x.is_int);
      if (x.is_int) c.ints = ints;  // exact, kBatch included
      define_constant(node, std::move(c));
    } else if (op == "Concat") {
      const auto a = attributes(node, {"axis"});
      const std::int64_t axis = axis_of(node, int_attr(node, a, "axis", 0), x.dims.size());
      if (axis != 0) fail_node(node, "concatenates constants along axis ", axis, "; cuxplain folds axis 0");
      Constant c;
      c.is_int = x.is_int;
      c.dims = x.dims;
      c.dims[0] = 0;
      for (int i = 0; i < node.input_size(); ++i) {
        const Constant& part = *constant(node, input(node, i), "input");
        if (part.is_int != c.is_int) fail_node(node, "concatenates ints and floats");
        c.ints.insert(c.ints.end(), part.ints.begin(), part.ints.end());
        c.floats.insert(c.floats.end(), part.floats.begin(), part.floats.end());
        c.dims[0] += part.dims.empty() ? 1 : part.dims[0];
      }
      define_constant(node, std::move(c));
    } else if (op == "Slice" || op == "Transpose") {
      const auto a = attributes(node, {"perm"});
      const std::size_t rank = x.dims.size();
      std::vector<std::int64_t> out_dims(rank), start(rank, 0), step(rank, 1), source(rank);
      for (std::size_t i = 0; i < rank; ++i) source[i] = static_cast<std::int64_t>(i);
      if (op == "Transpose") {
        std::vector<std::int64_t> perm = ints_attr(node, a, "perm", {});
        if (perm.empty()) for (std::size_t i = 0; i < rank; ++i) perm.push_back(static_cast<std::int64_t>(rank - 1 - i));
        std::vector<std::int64_t> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t i = 0; i < sorted.size(); ++i) {
          if (sorted[i] != static_cast<std::int64_t>(i)) fail_node(node, "perm ", join(perm), " is not a permutation");
        }
        if (perm.size() != rank) fail_node(node, "perm ", join(perm), " does not fit rank ", rank);
        for (std::size_t i = 0; i < rank; ++i) { source[i] = perm[i]; out_dims[i] = x.dims[static_cast<std::size_t>(perm[i])]; }
      } else {
        const auto starts = int_input(node, 1, "starts"), ends = int_input(node, 2, "ends");
        std::vector<std::int64_t> axes, steps(starts.size(), 1);
        if (has_input(node, 3)) axes = int_input(node, 3, "axes");
        else for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
        if (has_input(node, 4)) steps = int_input(node, 4, "steps");
        if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size()) {
          fail_node(node, "starts, ends, axes and steps differ in length");
        }
        out_dims = x.dims;
        for (std::size_t j = 0; j < axes.size(); ++j) {
          const auto ax = static_cast<std::size_t>(axis_of(node, axes[j], rank));
          const std::int64_t d = x.dims[ax], st = steps[j];
          if (st == 0) fail_node(node, "step 0");
          // ONNX's clamping of starts and ends.
          std::int64_t b = starts[j] < 0 ? starts[j] + d : starts[j];
          std::int64_t e = ends[j] < 0 ? std::max<std::int64_t>(ends[j], -d - 1) + d : ends[j];
          if (st > 0) { b = std::clamp<std::int64_t>(b, 0, d); e = std::clamp<std::int64_t>(e, 0, d); }
          else { b = std::clamp<std::int64_t>(b, 0, d - 1); e = std::clamp<std::int64_t>(e, -1, d - 1); }
          const std::int64_t n = st > 0 ? (e - b + st - 1) / st : (b - e - st - 1) / -st;
          out_dims[ax] = std::max<std::int64_t>(n, 0);
          start[ax] = b;
          step[ax] = st;
        }
      }
      const auto in_strides = strides_of(x.dims);
      std::int64_t count = 1;
      for (std::int64_t d : out_dims) count *= d;
      Constant c;
      c.is_int = x.is_int;
      c.dims = out_dims;
      for (std::int64_t e = 0; e < count; ++e) {
        std::int64_t rest = e, offset = 0;
        for (std::size_t i = rank; i-- > 0;) {
          const std::int64_t index = rest % out_dims[i];
          rest /= out_dims[i];
          const auto from = static_cast<std::size_t>(source[i]);
          offset += (start[from] + index * step[from]) * in_strides[from];
        }
        if (x.is_int) c.ints.push_back(x.ints[static_cast<std::size_t>(offset)]);
        else c.floats.push_back(x.floats[static_cast<std::size_t>(offset)]);
      }
      define_constant(node, std::move(c));
    } else {  // Mul, Add, Sub, Div of constants: elementwise, one side a scalar or equal shapes
      attributes(node, {});
      const Constant& y = *constant(node, input(node, 1), "input");
      if (keeps_batch || (y.is_int && std::find(y.ints.begin(), y.ints.end(), kBatch) != y.ints.end())) {
        fail_node(node, "computes with the batch size, which cuxplain leaves open");
      }
      if (x.count() == 0 || y.count() == 0) fail_node(node, "computes with an empty constant");
      if (x.count() != y.count() && x.count() != 1 && y.count() != 1) fail_node(node, "broadcasts constants of dims ", join(x.dims), " and ", join(y.dims));
      const auto a = as_doubles(x), b = as_doubles(y);
      const std::size_t count = std::max(a.size(), b.size());
      std::vector<double> out(count);
      for (std::size_t i = 0; i < count; ++i) {
        const double u = a[a.size() == 1 ? 0 : i], v = b[b.size() == 1 ? 0 : i];
        out[i] = op == "Mul" ? u * v : op == "Add" ? u + v : op == "Sub" ? u - v : (x.is_int ? std::trunc(u / v) : u / v);
      }
      Constant c = make_constant(x.count() >= y.count() ? x.dims : y.dims, out, x.is_int && y.is_int);
      if (!c.is_int) for (std::size_t i = 0; i < count; ++i) c.floats[i] = static_cast<float>(out[i]);
      define_constant(node, std::move(c));
    }
  }

  // -------------------------------------------------------------------------
  // Elementwise ops, concatenation, padding, reductions
  // -------------------------------------------------------------------------

  void activation(const onnx::NodeProto& node) {
    const std::string& op = node.op_type();
    expect_inputs(node, 1, op == "Clip" ? 3 : 1, op == "Clip" ? "input, optional min and max" : "X");
    const auto a = attributes(node, op == "LeakyRelu" ? std::set<std::string>{"alpha"}
                                    : op == "HardSigmoid" ? std::set<std::string>{"alpha", "beta"}
                                    : op == "Clip" ? std::set<std::string>{"min", "max"}
                                                   : std::set<std::string>{});
    const NodeId x = data_input(node);
    NodeId id = -1;
    if (op == "Clip") {
      float bounds[2] = {float_attr(node, a, "min", -std::numeric_limits<float>::infinity()),
                         float_attr(node, a, "max", std::numeric_limits<float>::infinity())};
      for (int i = 1; i <= 2; ++i) {
        if (!has_input(node, i)) continue;
        const Constant& c = required_constant(node, i, i == 1 ? "min" : "max");
        if (c.count() != 1) fail_node(node, i == 1 ? "min" : "max", " must be a scalar");
        bounds[i - 1] = c.floats[0];
      }
      id = layer(node, [&] { return result_.builder.clip(x, bounds[0], bounds[1]); });
    } else if (op == "LeakyRelu") {
      const float alpha = float_attr(node, a, "alpha", 0.01f);
      id = layer(node, [&] { return result_.builder.leaky_relu(x, alpha); });
    } else if (op == "Sigmoid") {
      sigmoid_of_[node.output(0)] = node.input(0);
      id = layer(node, [&] { return result_.builder.sigmoid(x); });
    } else if (op == "Tanh") {
      id = layer(node, [&] { return result_.builder.tanh(x); });
    } else if (op == "HardSigmoid") {
      const float alpha = float_attr(node, a, "alpha", 0.2f), beta = float_attr(node, a, "beta", 0.5f);
      id = layer(node, [&] { return result_.builder.hard_sigmoid(x, alpha, beta); });
    } else {
      id = layer(node, [&] { return result_.builder.hard_swish(x); });
    }
    set_output(node, id);
  }

  /// A constant operand of an elementwise op, broadcast by ONNX's rules
  /// (dims aligned from the right, each 1 or the tensor's extent, the batch
  /// extent 1) over the computed tensor of ONNX dims `dims` (without the
  /// batch), the result of the tensor's shape. The tensor is read as rows x
  /// plane, plane the product of the trailing axes along which the constant
  /// is 1 (H x W for a per-channel constant, 1 for a channels-last one
  /// [1, 1, 1, C]), and the constant as one value per row.
  struct RowConstant {
    std::vector<float> values;
    std::int64_t plane = 1;
  };
  RowConstant broadcast_rows(const onnx::NodeProto& node, const Constant& c, const std::string& name,
                             const std::vector<std::int64_t>& dims) {
    if (c.is_int) fail_node(node, "constant operand '", name, "' holds integers");
    const std::size_t rank = dims.size() + 1;
    // The constant's extent along each axis of the tensor (the batch first).
    std::vector<std::int64_t> extent(rank, 1);
    bool ok = c.dims.size() <= rank;
    for (std::size_t i = 0; ok && i < c.dims.size(); ++i) {
      const std::size_t axis = rank - c.dims.size() + i;
      extent[axis] = c.dims[i];
      ok = c.dims[i] == 1 || (axis > 0 && c.dims[i] == dims[axis - 1]);
    }
    if (!ok) {
      fail_node(node, "constant operand '", name, "' of dims ", join(c.dims), " does not broadcast "
                "over the tensor's N x ", join(dims), " (each extent 1 or the tensor's, the batch's 1)");
    }
    std::size_t last = 1;  // the last axis along which the constant varies (at least C)
    for (std::size_t axis = 1; axis < rank; ++axis) if (extent[axis] != 1) last = axis;
    RowConstant r;
    std::int64_t rows = 1;
    for (std::size_t axis = 1; axis < rank; ++axis) (axis <= last ? rows : r.plane) *= dims[axis - 1];
    // Row index -> the constant's element: the row's coordinates along axes
    // 1..last, each taken as 0 where the constant's extent is 1.
    r.values.resize(static_cast<std::size_t>(rows));
    for (std::int64_t row = 0; row < rows; ++row) {
      std::int64_t rest = row, index = 0, stride = 1;
      for (std::size_t axis = last; axis >= 1; --axis) {
        const std::int64_t coordinate = rest % dims[axis - 1];
        rest /= dims[axis - 1];
        if (extent[axis] != 1) index += coordinate * stride;
        stride *= extent[axis];
      }
      r.values[static_cast<std::size_t>(row)] = c.floats[static_cast<std::size_t>(index)];
    }
    return r;
  }

  void arithmetic(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 2, "A and B");
    attributes(node, {});
    const std::string& op = node.op_type();
    for (int side = 0; side < 2; ++side) {
      const Constant* c = constant(node, input(node, side), "operand");
      if (c == nullptr) continue;
      const NodeId x = node_for(input(node, 1 - side), op + " '" + node.name() + "'");
      const std::vector<std::int64_t> dims = dims_of(input(node, 1 - side));
      const RowConstant rows = broadcast_rows(node, *c, node.input(side), dims);
      const std::vector<float>& k = rows.values;
      std::vector<float> scale(k.size(), 1.0f), shift(k.size(), 0.0f);
      for (std::size_t i = 0; i < k.size(); ++i) {
        if (op == "Mul") {
          scale[i] = k[i];
        } else if (op == "Add") {
          shift[i] = k[i];
        } else if (op == "Sub") {
          scale[i] = side == 1 ? 1.0f : -1.0f;
          shift[i] = side == 1 ? -k[i] : k[i];
        } else {
          if (side == 0) fail_node(node, "divides a constant by a tensor; cuxplain divides tensors by constants only");
          // x / k as x * (1 / k): the reciprocal rounds once (relative error
          // 2^-24 against ONNX's quotient).
          scale[i] = 1.0f / k[i];
        }
      }
      // The affine map per row of the rows x plane view (the tensor's own
      // channels when the constant is per channel); a reshape moves no data.
      const Shape shape = result_.builder.shape(x);
      const Shape view{static_cast<std::int64_t>(k.size()), rows.plane, 1};
      set_output(node, layer(node, [&] {
                   if (shape.c == view.c) return result_.builder.channel_affine(x, std::move(scale), std::move(shift));
                   const NodeId y = result_.builder.channel_affine(result_.builder.reshape(x, view),
                                                                   std::move(scale), std::move(shift));
                   return result_.builder.reshape(y, shape);
                 }), dims);
      return;
    }
    if (op == "Div") fail_node(node, "divides two computed tensors, which has no interval rule here");
    const NodeId lhs = data_input(node);
    const NodeId rhs = node_for(input(node, 1), op + " '" + node.name() + "'");
    if (op == "Mul") {
      // x * sigmoid(x): SiLU, with its own (tighter) interval rule.
      for (int side = 0; side < 2; ++side) {
        const auto it = sigmoid_of_.find(node.input(side));
        if (it != sigmoid_of_.end() && it->second == node.input(1 - side)) {
          const NodeId x = side == 0 ? rhs : lhs;
          set_output(node, layer(node, [&] { return result_.builder.silu(x); }));
          return;
        }
      }
    }
    if (dims_of(node.input(0)).size() != dims_of(node.input(1)).size()) {
      fail_node(node, "operands of dims ", join(dims_of(node.input(0))), " and ",
                join(dims_of(node.input(1))), " have different ranks");
    }
    // The broadcast operand second (add and mul commute).
    const bool swap = result_.builder.shape(lhs).size() < result_.builder.shape(rhs).size();
    if (swap && op == "Sub") fail_node(node, "subtracts a larger tensor from a broadcast one");
    const NodeId a = swap ? rhs : lhs, b = swap ? lhs : rhs;
    set_output(node, layer(node, [&] {
                 return op == "Mul" ? result_.builder.mul(a, b) : result_.builder.sub(a, b);
               }), dims_of(node.input(swap ? 1 : 0)));
  }

  void concat(const onnx::NodeProto& node) {
    const auto a = attributes(node, {"axis"});
    if (node.input_size() < 1) fail_node(node, "has no inputs");
    const std::size_t rank = dims_of(input(node, 0)).size() + 1;
    const std::int64_t axis = axis_of(node, int_attr(node, a, "axis", 1), rank);
    if (axis != 1) fail_node(node, "concatenates along axis ", axis, "; cuxplain concatenates channels (axis 1)");
    std::vector<NodeId> inputs;
    std::int64_t channels = 0;
    for (int i = 0; i < node.input_size(); ++i) {
      inputs.push_back(node_for(input(node, i), "Concat '" + node.name() + "'"));
      channels += dims_of(node.input(i))[0];
    }
    std::vector<std::int64_t> dims = dims_of(node.input(0));
    dims[0] = channels;
    set_output(node, layer(node, [&] { return result_.builder.concat(inputs); }), dims);
  }

  void pad(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 3, "data, pads and an optional constant_value");
    const auto a = attributes(node, {"mode"});
    const auto* mode_attr = typed(node, a, "mode", onnx::AttributeProto::STRING);
    const std::string mode = mode_attr == nullptr ? "constant" : mode_attr->s();
    PadParams p;
    if (mode == "reflect") p.mode = PadMode::reflect;
    else if (mode == "edge") p.mode = PadMode::edge;
    else if (mode != "constant") fail_node(node, "mode '", mode, "' is not supported (constant, reflect, edge)");
    const auto pads = int_input(node, 1, "pads");
    if (pads.size() != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) {
      fail_node(node, "pads ", join(pads), ": cuxplain pads the H and W axes of N x C x H x W tensors");
    }
    p.pad_top = pads[2];
    p.pad_left = pads[3];
    p.pad_bottom = pads[6];
    p.pad_right = pads[7];
    if (has_input(node, 2)) {
      const Constant& c = required_constant(node, 2, "constant_value");
      if (c.count() != 1) fail_node(node, "constant_value must be a scalar");
      p.value = c.floats[0];
    }
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.pad(x, p); }));
  }

  void reduce_mean(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 2, "data and optional axes");
    const auto a = attributes(node, {"axes", "keepdims", "noop_with_empty_axes"});
    const std::vector<std::int64_t> dims = dims_of(input(node, 0));
    std::vector<std::int64_t> axes = axes_of(node, a, 1);
    for (auto& axis : axes) axis = axis_of(node, axis, dims.size() + 1);
    std::sort(axes.begin(), axes.end());
    if (dims.size() != 3 || axes != std::vector<std::int64_t>{2, 3}) {
      fail_node(node, "reduces axes ", join(axes), " of a tensor of dims N x ", join(dims),
                "; cuxplain reads the spatial mean (axes 2 and 3 of N x C x H x W)");
    }
    const bool keep = int_attr(node, a, "keepdims", 1) != 0;
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.global_avg_pool(x); }),
               keep ? std::vector<std::int64_t>{dims[0], 1, 1} : std::vector<std::int64_t>{dims[0]});
  }

  void softmax(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "input");
    const auto a = attributes(node, {"axis"});
    const std::vector<std::int64_t> dims = dims_of(input(node, 0));
    const std::int64_t axis = axis_of(node, int_attr(node, a, "axis", result_.opset >= 13 ? -1 : 1), dims.size() + 1);
    if (dims.size() != 1 || axis != 1) fail_node(node, "softmax over axis ", axis, " of N x ", join(dims), "; cuxplain reads softmax over the features of N x F");
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.softmax(x); }));
  }

  void transpose(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "data");
    const auto a = attributes(node, {"perm"});
    const std::vector<std::int64_t> dims = dims_of(input(node, 0));
    const std::vector<std::int64_t> perm = ints_attr(node, a, "perm", {});
    if (dims.size() != 3 || perm.size() != 4 || perm[0] != 0) {
      fail_node(node, "perm ", join(perm), " of a tensor N x ", join(dims), "; cuxplain permutes "
                "the three axes after the batch of rank-4 tensors");
    }
    const std::vector<std::int64_t> sample{perm[1] - 1, perm[2] - 1, perm[3] - 1};
    for (std::int64_t axis : sample) {
      if (axis < 0 || axis > 2) fail_node(node, "perm ", join(perm), " is not a permutation keeping the batch first");
    }
    const NodeId x = data_input(node);
    const NodeId id = layer(node, [&] { return result_.builder.transpose(x, sample); });
    set_output(node, id,
               {dims[static_cast<std::size_t>(sample[0])], dims[static_cast<std::size_t>(sample[1])],
                dims[static_cast<std::size_t>(sample[2])]});
  }

  void squeeze(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 2, "data and optional axes");
    const auto a = attributes(node, {"axes"});
    std::vector<std::int64_t> dims = dims_of(input(node, 0));
    std::vector<std::int64_t> axes = axes_of(node, a, 1);
    const bool unsqueeze = node.op_type() == "Unsqueeze";
    const std::size_t rank = dims.size() + 1 + (unsqueeze ? axes.size() : 0);
    for (auto& axis : axes) {
      axis = axis_of(node, axis, rank);
      if (axis == 0) fail_node(node, "axis 0 is the batch");
    }
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) fail_node(node, "axes ", join(axes), " repeat an axis");
    if (unsqueeze) {
      for (std::int64_t axis : axes) dims.insert(dims.begin() + (axis - 1), 1);
    } else {
      if (axes.empty()) for (std::size_t i = dims.size(); i-- > 0;) if (dims[i] == 1) axes.push_back(static_cast<std::int64_t>(i + 1));
      std::sort(axes.begin(), axes.end());
      for (std::size_t i = axes.size(); i-- > 0;) {
        if (dims[static_cast<std::size_t>(axes[i] - 1)] != 1) fail_node(node, "squeezes axis ", axes[i], " of extent ", dims[static_cast<std::size_t>(axes[i] - 1)]);
        dims.erase(dims.begin() + (axes[i] - 1));
      }
    }
    if (dims.empty() || dims.size() > 3) fail_node(node, "gives N x ", join(dims), "; cuxplain reads 1 to 3 dimensions after the batch");
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.reshape(x, shape_of(dims)); }), dims);
  }

  void conv(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 3, "X, W and an optional B");
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"});
    const std::int64_t group = int_attr(node, a, "group", 1);
    const auto dilations = ints_attr(node, a, "dilations", {1, 1});
    expect_attr(node, dilations.size() == 2, "dilations", join(dilations), "two values");
    const NodeId x = data_input(node);
    const Constant& weight = required_constant(node, 1, "weight");
    if (weight.dims.size() != 4) fail_node(node, "weight has rank ", weight.dims.size(), "; 2D convolutions only");
    expect_nonempty(node, weight, 1, "weight");
    const std::int64_t channels = result_.builder.shape(x).c;
    if (group < 1 || weight.dims[1] * group != channels) {
      fail_node(node, "weight '", node.input(1), "' has dims ", join(weight.dims), " with group = ",
                group, " but the input has ", channels, channels == 1 ? " channel" : " channels");
    }
    const auto kernel = ints_attr(node, a, "kernel_shape", {weight.dims[2], weight.dims[3]});
    expect_attr(node, kernel == std::vector<std::int64_t>{weight.dims[2], weight.dims[3]},
                "kernel_shape", join(kernel), "must match the weight");
    const auto strides = ints_attr(node, a, "strides", {1, 1});
    expect_attr(node, strides.size() == 2, "strides", join(strides), "two values");
    const auto pads = pads_of(node, a, result_.builder.shape(x), kernel, strides, dilations);
    std::vector<float> bias;
    if (has_input(node, 2)) bias = required_constant(node, 2, "bias").floats;
    ConvParams params;
    params.stride_h = strides[0];
    params.stride_w = strides[1];
    params.pad_top = pads[0];
    params.pad_left = pads[1];
    params.pad_bottom = pads[2];
    params.pad_right = pads[3];
    params.groups = group;
    params.dilation_h = dilations[0];
    params.dilation_w = dilations[1];
    set_output(node, layer(node, [&] {
                 return result_.builder.conv(x, weight.dims[0], weight.dims[2], weight.dims[3],
                                             weight.floats, std::move(bias), params);
               }));
  }

  /// A [rows, cols] weight of a dense layer reading x: both >= 1, and its
  /// inputs (`in`) x's size.
  void expect_dense_weight(const onnx::NodeProto& node, const Constant& b, const char* role,
                           NodeId x, std::int64_t in) const {
    if (b.dims.size() != 2) fail_node(node, role, " '", node.input(1), "' has rank ", b.dims.size(), ", not 2");
    expect_nonempty(node, b, 1, role);
    const Shape shape = result_.builder.shape(x);
    if (in != shape.size()) {
      fail_node(node, role, " '", node.input(1), "' has dims ", join(b.dims), ": ", in,
                " inputs, but the input has ", shape.size(), " features (", to_string(shape), ")");
    }
  }

  void gemm(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 3, "A, B and an optional C");
    const auto a = attributes(node, {"alpha", "beta", "transA", "transB"});
    const std::int64_t trans_a = int_attr(node, a, "transA", 0);
    expect_attr(node, trans_a == 0, "transA", std::to_string(trans_a), "the activation is not transposed");
    const bool trans_b = int_attr(node, a, "transB", 0) != 0;
    const float alpha = float_attr(node, a, "alpha", 1.0f), beta = float_attr(node, a, "beta", 1.0f);
    const NodeId x = data_input(node);
    const Constant& b = required_constant(node, 1, "weight B");
    if (b.dims.size() != 2) fail_node(node, "weight B has rank ", b.dims.size(), ", not 2");
    const std::int64_t out = trans_b ? b.dims[0] : b.dims[1];
    const std::int64_t in = trans_b ? b.dims[1] : b.dims[0];
    expect_dense_weight(node, b, "weight B", x, in);
    // out * in is the element count parse() checked against the data.
    std::vector<float> weight(static_cast<std::size_t>(out * in));
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i)
        weight[o * in + i] = alpha * (trans_b ? b.floats[o * in + i] : b.floats[i * out + o]);
    std::vector<float> bias;
    if (has_input(node, 2)) {
      const Constant& c = required_constant(node, 2, "bias C");
      if (c.count() != out && c.count() != 1) fail_node(node, "bias C has ", c.count(), " values for ", out, " outputs");
      bias.resize(static_cast<std::size_t>(out));
      for (std::int64_t o = 0; o < out; ++o) bias[o] = beta * c.floats[c.count() == 1 ? 0 : o];
    }
    set_output(node, layer(node, [&] {
                 return result_.builder.dense(x, out, std::move(weight), std::move(bias));
               }));
  }

  void matmul(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 2, "A and B");
    attributes(node, {});
    if (node.output_size() != 1) fail_node(node, "has ", node.output_size(), " outputs");
    const NodeId x = data_input(node);
    const Constant& b = required_constant(node, 1, "right operand B");
    if (b.dims.size() != 2) fail_node(node, "B has rank ", b.dims.size(), ", not 2");
    const std::int64_t in = b.dims[0], out = b.dims[1];
    expect_dense_weight(node, b, "right operand B", x, in);
    PendingDense dense;
    dense.input = x;
    dense.out_features = out;
    dense.weight.resize(static_cast<std::size_t>(out * in));
    for (std::int64_t o = 0; o < out; ++o)
      for (std::int64_t i = 0; i < in; ++i) dense.weight[o * in + i] = b.floats[i * out + o];
    pending_[node.output(0)] = std::move(dense);
  }

  void add(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 2, "A and B");
    attributes(node, {});
    for (int side = 0; side < 2; ++side) {
      const Constant* c = constant(node, input(node, side), "bias");
      if (c == nullptr) continue;
      const auto pending = pending_.find(input(node, 1 - side));
      if (pending == pending_.end()) {
        arithmetic(node);  // a per-channel or scalar shift
        return;
      }
      PendingDense dense = std::move(pending->second);
      pending_.erase(pending);
      if (c->is_int || (c->count() != dense.out_features && c->count() != 1)) {
        fail_node(node, "bias '", node.input(side), "' has ", c->count(), " values for ",
                  dense.out_features, " outputs");
      }
      std::vector<float> bias(static_cast<std::size_t>(dense.out_features));
      for (std::int64_t o = 0; o < dense.out_features; ++o) bias[o] = c->floats[c->count() == 1 ? 0 : o];
      // N x out_features, as MatMul of N x in_features wrote it (the pending
      // MatMul has no dims of its own to take the rank from).
      set_output(node, layer(node, [&] {
                   return result_.builder.dense(dense.input, dense.out_features,
                                                std::move(dense.weight), std::move(bias));
                 }), {dense.out_features});
      return;
    }
    NodeId lhs = data_input(node);
    NodeId rhs = node_for(input(node, 1), "Add '" + node.name() + "'");
    const bool swap = result_.builder.shape(lhs).size() < result_.builder.shape(rhs).size();
    if (swap) std::swap(lhs, rhs);  // the broadcast operand second
    set_output(node, layer(node, [&] { return result_.builder.add(lhs, rhs); }),
               dims_of(node.input(swap ? 1 : 0)));
  }

  void relu(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "X");
    attributes(node, {});
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.relu(x); }));
  }

  PoolParams pool_params(const onnx::NodeProto& node, const Attributes& a, NodeId x) const {
    const std::int64_t ceil_mode = int_attr(node, a, "ceil_mode", 0);
    const auto dilations = ints_attr(node, a, "dilations", {1, 1});
    expect_attr(node, dilations == std::vector<std::int64_t>{1, 1}, "dilations", join(dilations), "dilation 1 only");
    const auto kernel = ints_attr(node, a, "kernel_shape", {});
    expect_attr(node, kernel.size() == 2, "kernel_shape", join(kernel), "two values");
    const auto strides = ints_attr(node, a, "strides", {1, 1});
    expect_attr(node, strides.size() == 2, "strides", join(strides), "two values");
    const auto pads = pads_of(node, a, result_.builder.shape(x), kernel, strides, dilations);
    // With SAME padding the output is ceil(in / stride) whatever ceil_mode
    // says; a ceiling on the padded extent could add a window.
    if (ceil_mode != 0 && a.count("auto_pad") != 0 && a.at("auto_pad")->s() != "NOTSET") {
      fail_node(node, "has both ceil_mode = 1 and auto_pad = ", a.at("auto_pad")->s());
    }
    PoolParams p;
    p.kernel_h = kernel[0];
    p.kernel_w = kernel[1];
    p.stride_h = strides[0];
    p.stride_w = strides[1];
    p.pad_top = pads[0];
    p.pad_left = pads[1];
    p.pad_bottom = pads[2];
    p.pad_right = pads[3];
    p.ceil_mode = ceil_mode != 0;
    return p;
  }

  void max_pool(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "X");
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode",
                                     "dilations", "storage_order"});
    const std::int64_t order = int_attr(node, a, "storage_order", 0);
    expect_attr(node, order == 0, "storage_order", std::to_string(order), "row major only");
    const NodeId x = data_input(node);
    const PoolParams p = pool_params(node, a, x);
    set_output(node, layer(node, [&] { return result_.builder.max_pool(x, p); }));
  }

  void average_pool(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "X");
    const auto a = attributes(node, {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode",
                                     "dilations", "count_include_pad"});
    const NodeId x = data_input(node);
    PoolParams p = pool_params(node, a, x);
    p.count_include_pad = int_attr(node, a, "count_include_pad", 0) != 0;
    set_output(node, layer(node, [&] { return result_.builder.avg_pool(x, p); }));
  }

  void global_average_pool(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "X");
    attributes(node, {});
    const NodeId x = data_input(node);
    set_output(node, layer(node, [&] { return result_.builder.global_avg_pool(x); }));
  }

  void flatten(const onnx::NodeProto& node) {
    expect_inputs(node, 1, 1, "input");
    const auto a = attributes(node, {"axis"});
    const std::int64_t axis = int_attr(node, a, "axis", 1);
    expect_attr(node, axis == 1, "axis", std::to_string(axis), "axis 1 only: the batch stays first");
    const NodeId x = data_input(node);
    const NodeId id = layer(node, [&] { return result_.builder.flatten(x); });
    set_output(node, id, {result_.builder.shape(id).c});
  }

  void reshape(const onnx::NodeProto& node) {
    expect_inputs(node, 2, 2, "data and shape");
    const auto a = attributes(node, {"allowzero"});
    const std::int64_t allow_zero = int_attr(node, a, "allowzero", 0);
    expect_attr(node, allow_zero == 0, "allowzero", std::to_string(allow_zero), "0 only");
    const Constant* target = constant(node, input(node, 1), "shape");
    if (target == nullptr || !target->is_int) fail_node(node, "shape '", node.input(1), "' must be a constant int64 tensor");
    const NodeId x = data_input(node);
    const Shape in = result_.builder.shape(x);
    const std::vector<std::int64_t> in_dims{in.c, in.h, in.w};
    const std::vector<std::int64_t>& t = target->ints;
    if (t.size() < 2 || t.size() > 4) fail_node(node, "target shape ", join(t), " must keep the batch first and have 1 to 3 more dimensions");
    if (t[0] != 0 && t[0] != -1 && t[0] != kBatch && t[0] < 1) fail_node(node, "target shape ", join(t), " has an invalid batch dimension");
    std::vector<std::int64_t> sample(t.begin() + 1, t.end());
    std::int64_t known = 1, infer = -1;
    for (std::size_t i = 0; i < sample.size(); ++i) {
      if (sample[i] == 0) sample[i] = in_dims[i];  // ONNX: 0 copies the input dimension
      if (sample[i] == -1) {
        if (infer >= 0) fail_node(node, "target shape ", join(t), " has two -1 dimensions");
        infer = static_cast<std::int64_t>(i);
      } else if (sample[i] < 1) {
        fail_node(node, "target shape ", join(t), ": dimension ", i + 1, " is ", sample[i],
                  " (-1 infers it, 0 copies the input's)");
      } else {
        // Checked before multiplying: the product of file-supplied dims could wrap.
        if (known > std::numeric_limits<std::int64_t>::max() / sample[i]) {
          fail_node(node, "target shape ", join(t), ": the product of its dimensions overflows");
        }
        known *= sample[i];
      }
    }
    if (infer >= 0) {
      if (in.size() % known != 0) {
        fail_node(node, "target shape ", join(t), " cannot hold the input's ", in.size(),
                  " elements (", to_string(in), ")");
      }
      sample[static_cast<std::size_t>(infer)] = in.size() / known;
    }
    set_output(node, layer(node, [&] { return result_.builder.reshape(x, shape_of(sample)); }),
               sample);
  }

  void batch_norm(const onnx::NodeProto& node) {
    expect_inputs(node, 5, 5, "X, scale, B, input_mean and input_var");
    const auto a = attributes(node, {"epsilon", "momentum", "training_mode", "spatial"});
    const std::int64_t training = int_attr(node, a, "training_mode", 0);
    expect_attr(node, training == 0, "training_mode", std::to_string(training), "inference only");
    const float epsilon = float_attr(node, a, "epsilon", 1e-5f);
    const NodeId x = data_input(node);
    const Constant& scale = required_constant(node, 1, "scale");
    const Constant& bias = required_constant(node, 2, "bias");
    const Constant& mean = required_constant(node, 3, "mean");
    const Constant& variance = required_constant(node, 4, "variance");
    set_output(node, layer(node, [&] {
                 return result_.builder.batch_norm(x, scale.floats, bias.floats, mean.floats,
                                                   variance.floats, epsilon);
               }));
  }

  void pass_through(const onnx::NodeProto& node) {
    expect_inputs(node, 1, node.op_type() == "Dropout" ? 3 : 1,
                  node.op_type() == "Dropout" ? "data, optional ratio and training_mode" : "input");
    attributes(node, {"seed", "ratio", "training_mode"});
    if (has_input(node, 2)) {
      const Constant* training = constant(node, node.input(2), "training_mode");
      if (training == nullptr) fail_node(node, "training_mode must be a constant false");
    }
    set_output(node, data_input(node));
  }

  void constant_node(const onnx::NodeProto& node) {
    expect_inputs(node, 0, 0, "none");
    const auto a = attributes(node, {"value"});
    const auto* value = typed(node, a, "value", onnx::AttributeProto::TENSOR);
    if (value == nullptr) fail_node(node, "only the 'value' form of Constant is supported");
    if (node.output_size() != 1) fail_node(node, "has ", node.output_size(), " outputs");
    constants_.insert_or_assign(node.output(0), parse(node, value->t(), "value"));
  }

  const onnx::ModelProto& model_;
  std::string file_;
  OnnxInput layout_;
  NodeId input_node_ = -1;
  OnnxModel result_;
  std::unordered_map<std::string, NodeId> nodes_;
  std::unordered_map<std::string, const onnx::TensorProto*> initializers_;
  std::unordered_map<std::string, Constant> constants_;
  std::unordered_map<std::string, PendingDense> pending_;
  /// ONNX dims (without the batch) of computed tensors.
  std::unordered_map<std::string, std::vector<std::int64_t>> dims_;
  /// Sigmoid outputs by the tensor they read (x * sigmoid(x) becomes SiLU).
  std::unordered_map<std::string, std::string> sigmoid_of_;
};

}  // namespace

OnnxModel read_onnx(const void* data, std::size_t size, const std::string& name, OnnxInput input) {
  CUXPLAIN_EXPECTS(data != nullptr || size == 0, "read_onnx: data is null");
  CUXPLAIN_EXPECTS(size > 0, "ONNX model '", name, "' is empty");
  CUXPLAIN_EXPECTS(size <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                   "ONNX model '", name, "' is larger than 2 GiB, which protobuf cannot parse");
  onnx::ModelProto model;
  CUXPLAIN_EXPECTS(model.ParseFromArray(data, static_cast<int>(size)), "cannot parse '", name,
                   "' as an ONNX model: the file is truncated or not ONNX");
  CUXPLAIN_EXPECTS(model.has_graph() && model.graph().node_size() > 0, "ONNX model '", name,
                   "' has no graph nodes (truncated or empty)");
  return Reader(model, name, input).read();
}

bool onnx_available() { return true; }

#else

OnnxModel read_onnx(const void*, std::size_t, const std::string& name, OnnxInput) {
  CUXPLAIN_FAIL("cannot read '", name, "': this cuxplain was built without ONNX support "
                "(install Debian's libonnx-dev and libprotobuf-dev and rebuild)");
}

bool onnx_available() { return false; }

#endif

OnnxModel read_onnx(const std::string& path, OnnxInput input) {
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
  return read_onnx(data.data(), data.size(), path, input);
}

Network load_onnx(const Context& ctx, const std::string& path, OnnxInput input) {
  OnnxModel model = read_onnx(path, input);
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
                             const std::string& tensor, OnnxInput input) {
  OnnxModel model = read_onnx(path, input);
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
