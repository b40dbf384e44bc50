// cuxplain::nn::NetworkBuilder: records a network node by node, inferring
// shapes and checking every argument when the node is added; build() hands
// the record to lowering.cpp.
#include <cuxplain/core/error.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "state.hpp"

namespace cuxplain {
namespace nn {
namespace {

using cuxplain::detail::LayerKind;
using cuxplain::detail::NnBuilderState;
using cuxplain::detail::NnLayer;
using cuxplain::detail::NnNetworkState;
using cuxplain::detail::NnNode;
using cuxplain::detail::NodeKind;
using cuxplain::detail::Rounding;

/// Per-sample sizes and GEMM dimensions must fit the int arguments of
/// CBLAS/cuBLAS.
constexpr std::int64_t kMaxSize = std::numeric_limits<int>::max();

std::string shape_string(const Shape& s) { return to_string(s); }

const NnNode& node_at(const NnBuilderState& state, NodeId id, const char* op, const char* arg) {
  const auto count = static_cast<std::int64_t>(state.nodes.size());
  CUXPLAIN_EXPECTS(id >= 0 && id < count, op, ": ", arg, " node ", id,
                   " does not exist (the builder has ", count, " nodes",
                   count > 0 ? cuxplain::detail::concat(": 0..", count - 1) : std::string(), ")");
  return state.nodes[static_cast<std::size_t>(id)];
}

void expect_shape(const Shape& s, const char* op) {
  CUXPLAIN_EXPECTS(s.c >= 1 && s.h >= 1 && s.w >= 1, op, ": every extent of the shape must be >= 1, got ",
                   shape_string(s));
  CUXPLAIN_EXPECTS(s.c <= kMaxSize / s.h / s.w, op, ": shape ", shape_string(s), " has more than ",
                   kMaxSize, " elements");
}

void expect_finite(const std::vector<float>& values, const char* op, const char* name) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    CUXPLAIN_EXPECTS(std::isfinite(values[i]), op, ": ", name, "[", i, "] = ", values[i],
                     " is not finite");
  }
}

void expect_window(const char* op, std::int64_t kernel_h, std::int64_t kernel_w,
                   std::int64_t stride_h, std::int64_t stride_w, std::int64_t pad_top,
                   std::int64_t pad_left, std::int64_t pad_bottom, std::int64_t pad_right) {
  CUXPLAIN_EXPECTS(kernel_h >= 1 && kernel_w >= 1, op, ": kernel must be >= 1 x 1, got ",
                   kernel_h, " x ", kernel_w);
  CUXPLAIN_EXPECTS(stride_h >= 1 && stride_w >= 1, op, ": strides must be >= 1, got ", stride_h,
                   " x ", stride_w);
  CUXPLAIN_EXPECTS(pad_top >= 0 && pad_left >= 0 && pad_bottom >= 0 && pad_right >= 0, op,
                   ": pads must be >= 0, got [", pad_top, ", ", pad_left, ", ", pad_bottom, ", ",
                   pad_right, "]");
  // Bounded so that the padded extent in + pads - kernel cannot overflow.
  CUXPLAIN_EXPECTS(std::max({kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, pad_bottom,
                             pad_right}) <= kMaxSize,
                   op, ": kernel, strides and pads must be <= ", kMaxSize, ", got kernel ",
                   kernel_h, " x ", kernel_w, ", strides ", stride_h, " x ", stride_w, ", pads [",
                   pad_top, ", ", pad_left, ", ", pad_bottom, ", ", pad_right, "]");
}

Shape window_output(const char* op, const Shape& in, std::int64_t channels, std::int64_t kernel_h,
                    std::int64_t kernel_w, std::int64_t stride_h, std::int64_t stride_w,
                    std::int64_t pad_top, std::int64_t pad_left, std::int64_t pad_bottom,
                    std::int64_t pad_right, bool ceil_mode = false) {
  const auto extent = ceil_mode ? cuxplain::detail::window_output_extent_ceil
                                : cuxplain::detail::window_output_extent;
  const std::int64_t h = extent(in.h, kernel_h, stride_h, pad_top, pad_bottom);
  const std::int64_t w = extent(in.w, kernel_w, stride_w, pad_left, pad_right);
  CUXPLAIN_EXPECTS(h >= 1 && w >= 1, op, ": the ", kernel_h, " x ", kernel_w,
                   " kernel does not fit the ", in.h, " x ", in.w, " input padded by [", pad_top,
                   ", ", pad_left, ", ", pad_bottom, ", ", pad_right, "]");
  return {channels, h, w};
}

}  // namespace

std::string to_string(const Shape& shape) {
  return cuxplain::detail::concat(shape.c, " x ", shape.h, " x ", shape.w);
}

// ---------------------------------------------------------------------------
// NetworkBuilder
// ---------------------------------------------------------------------------

NetworkBuilder::NetworkBuilder() : state_(std::make_unique<NnBuilderState>()) {}
NetworkBuilder::~NetworkBuilder() = default;
NetworkBuilder::NetworkBuilder(const NetworkBuilder& other)
    : state_(std::make_unique<NnBuilderState>(*other.state_)) {}
NetworkBuilder& NetworkBuilder::operator=(const NetworkBuilder& other) {
  if (this != &other) state_ = std::make_unique<NnBuilderState>(*other.state_);
  return *this;
}
NetworkBuilder::NetworkBuilder(NetworkBuilder&&) noexcept = default;
NetworkBuilder& NetworkBuilder::operator=(NetworkBuilder&&) noexcept = default;

namespace {

NodeId push(NnBuilderState& state, NnNode node) {
  state.nodes.push_back(std::move(node));
  return static_cast<NodeId>(state.nodes.size()) - 1;
}

}  // namespace

NodeId NetworkBuilder::input(Shape shape) {
  CUXPLAIN_EXPECTS(state_->input < 0, "input: the network already has an input (node ",
                   state_->input, ")");
  expect_shape(shape, "input");
  NnNode node;
  node.kind = NodeKind::input;
  node.shape = shape;
  state_->input = push(*state_, std::move(node));
  return state_->input;
}

NodeId NetworkBuilder::conv(NodeId x, std::int64_t out_channels, std::int64_t kernel_h,
                            std::int64_t kernel_w, std::vector<float> weight,
                            std::vector<float> bias, const ConvParams& params) {
  const Shape in = node_at(*state_, x, "conv", "input").shape;
  CUXPLAIN_EXPECTS(out_channels >= 1, "conv: out_channels must be >= 1, got ", out_channels);
  expect_window("conv", kernel_h, kernel_w, params.stride_h, params.stride_w, params.pad_top,
                params.pad_left, params.pad_bottom, params.pad_right);
  const std::int64_t groups = params.groups;
  CUXPLAIN_EXPECTS(groups >= 1 && in.c % groups == 0 && out_channels % groups == 0,
                   "conv: groups = ", groups, " must be >= 1 and divide the input channels (",
                   in.c, ") and out_channels (", out_channels, ")");
  CUXPLAIN_EXPECTS(params.dilation_h >= 1 && params.dilation_w >= 1 &&
                       params.dilation_h <= kMaxSize / kernel_h &&
                       params.dilation_w <= kMaxSize / kernel_w,
                   "conv: dilations must be >= 1, got ", params.dilation_h, " x ",
                   params.dilation_w);
  CUXPLAIN_EXPECTS(in.c <= kMaxSize / kernel_h / kernel_w, "conv: the patch in_channels x kernel_h x kernel_w = ",
                   in.c, " x ", kernel_h, " x ", kernel_w, " is too large");
  const std::int64_t patch = in.c / groups * kernel_h * kernel_w;
  CUXPLAIN_EXPECTS(out_channels <= kMaxSize / patch, "conv: out_channels ", out_channels,
                   " x patch ", patch, " weights are too many");
  const auto expected = out_channels * patch;
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(weight.size()) == expected, "conv: weight has ",
                   weight.size(),
                   " floats but out_channels x in_channels / groups x kernel_h x kernel_w = ",
                   out_channels, " x ", in.c / groups, " x ", kernel_h, " x ", kernel_w, " = ",
                   expected);
  CUXPLAIN_EXPECTS(bias.empty() || static_cast<std::int64_t>(bias.size()) == out_channels,
                   "conv: bias has ", bias.size(), " floats but out_channels = ", out_channels,
                   " (or 0 for no bias)");
  expect_finite(weight, "conv", "weight");
  expect_finite(bias, "conv", "bias");
  const Shape out = window_output(
      "conv", in, out_channels, (kernel_h - 1) * params.dilation_h + 1,
      (kernel_w - 1) * params.dilation_w + 1, params.stride_h, params.stride_w, params.pad_top,
      params.pad_left, params.pad_bottom, params.pad_right);
  expect_shape(out, "conv");
  NnNode node;
  node.kind = NodeKind::conv;
  node.a = x;
  node.shape = out;
  node.weight = std::move(weight);
  node.bias = bias.empty() ? std::vector<float>(static_cast<std::size_t>(out_channels), 0.0f)
                           : std::move(bias);
  node.kernel_h = kernel_h;
  node.kernel_w = kernel_w;
  node.conv = params;
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::dense(NodeId x, std::int64_t out_features, std::vector<float> weight,
                             std::vector<float> bias) {
  const Shape in = node_at(*state_, x, "dense", "input").shape;
  CUXPLAIN_EXPECTS(out_features >= 1, "dense: out_features must be >= 1, got ", out_features);
  const std::int64_t in_features = in.size();
  CUXPLAIN_EXPECTS(out_features <= kMaxSize / in_features, "dense: out_features x in_features = ",
                   out_features, " x ", in_features, " weights are too many");
  const auto expected = out_features * in_features;
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(weight.size()) == expected, "dense: weight has ",
                   weight.size(), " floats but out_features x in_features = ", out_features,
                   " x ", in_features, " = ", expected, " (input shape ", shape_string(in), ")");
  CUXPLAIN_EXPECTS(bias.empty() || static_cast<std::int64_t>(bias.size()) == out_features,
                   "dense: bias has ", bias.size(), " floats but out_features = ", out_features,
                   " (or 0 for no bias)");
  expect_finite(weight, "dense", "weight");
  expect_finite(bias, "dense", "bias");
  NnNode node;
  node.kind = NodeKind::dense;
  node.a = x;
  node.shape = {out_features, 1, 1};
  node.weight = std::move(weight);
  node.bias = bias.empty() ? std::vector<float>(static_cast<std::size_t>(out_features), 0.0f)
                           : std::move(bias);
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::batch_norm(NodeId x, std::vector<float> gamma, std::vector<float> beta,
                                  std::vector<float> mean, std::vector<float> var,
                                  float epsilon) {
  const Shape in = node_at(*state_, x, "batch_norm", "input").shape;
  const std::pair<const char*, const std::vector<float>*> params[] = {
      {"gamma", &gamma}, {"beta", &beta}, {"mean", &mean}, {"var", &var}};
  for (const auto& [name, values] : params) {
    CUXPLAIN_EXPECTS(static_cast<std::int64_t>(values->size()) == in.c, "batch_norm: ", name,
                     " has ", values->size(), " floats but the input (", shape_string(in),
                     ") has ", in.c, " channels");
    expect_finite(*values, "batch_norm", name);
  }
  CUXPLAIN_EXPECTS(std::isfinite(epsilon) && epsilon >= 0.0f,
                   "batch_norm: epsilon must be finite and >= 0, got ", epsilon);
  for (std::size_t c = 0; c < var.size(); ++c) {
    CUXPLAIN_EXPECTS(var[c] >= 0.0f && static_cast<double>(var[c]) + epsilon > 0.0,
                     "batch_norm: var[", c, "] = ", var[c], " must be >= 0 with var + epsilon > 0 (epsilon = ",
                     epsilon, ")");
  }
  NnNode node;
  node.kind = NodeKind::batch_norm;
  node.a = x;
  node.shape = in;
  node.gamma = std::move(gamma);
  node.beta = std::move(beta);
  node.mean = std::move(mean);
  node.var = std::move(var);
  node.epsilon = epsilon;
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::relu(NodeId x) {
  NnNode node;
  node.kind = NodeKind::relu;
  node.a = x;
  node.shape = node_at(*state_, x, "relu", "input").shape;
  return push(*state_, std::move(node));
}

namespace {

NodeId add_pool(NnBuilderState& state, NodeKind kind, const char* op, NodeId x,
                const PoolParams& p) {
  const Shape in = node_at(state, x, op, "input").shape;
  expect_window(op, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                p.pad_bottom, p.pad_right);
  CUXPLAIN_EXPECTS(p.pad_top < p.kernel_h && p.pad_bottom < p.kernel_h &&
                       p.pad_left < p.kernel_w && p.pad_right < p.kernel_w,
                   op, ": pads [", p.pad_top, ", ", p.pad_left, ", ", p.pad_bottom, ", ",
                   p.pad_right, "] must be smaller than the ", p.kernel_h, " x ", p.kernel_w,
                   " kernel");
  NnNode node;
  node.kind = kind;
  node.a = x;
  node.shape = window_output(op, in, in.c, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
                             p.pad_top, p.pad_left, p.pad_bottom, p.pad_right, p.ceil_mode);
  node.pool = p;
  return push(state, std::move(node));
}

}  // namespace

NodeId NetworkBuilder::max_pool(NodeId x, const PoolParams& params) {
  return add_pool(*state_, NodeKind::max_pool, "max_pool", x, params);
}

NodeId NetworkBuilder::avg_pool(NodeId x, const PoolParams& params) {
  return add_pool(*state_, NodeKind::avg_pool, "avg_pool", x, params);
}

NodeId NetworkBuilder::global_avg_pool(NodeId x) {
  NnNode node;
  node.kind = NodeKind::global_avg_pool;
  node.a = x;
  node.shape = {node_at(*state_, x, "global_avg_pool", "input").shape.c, 1, 1};
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::flatten(NodeId x) {
  NnNode node;
  node.kind = NodeKind::reshape;
  node.a = x;
  node.shape = {node_at(*state_, x, "flatten", "input").shape.size(), 1, 1};
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::reshape(NodeId x, Shape shape) {
  const Shape in = node_at(*state_, x, "reshape", "input").shape;
  expect_shape(shape, "reshape");
  CUXPLAIN_EXPECTS(shape.size() == in.size(), "reshape: shape ", shape_string(shape), " has ",
                   shape.size(), " elements but the input (", shape_string(in), ") has ",
                   in.size());
  NnNode node;
  node.kind = NodeKind::reshape;
  node.a = x;
  node.shape = shape;
  return push(*state_, std::move(node));
}

namespace {

NodeId add_binary(NnBuilderState& state, cuxplain::detail::BinaryOp op, const char* name,
                  NodeId a, NodeId b) {
  const Shape sa = node_at(state, a, name, "first input").shape;
  const Shape sb = node_at(state, b, name, "second input").shape;
  CUXPLAIN_EXPECTS((sb.c == sa.c || sb.c == 1) && (sb.h == sa.h || sb.h == 1) &&
                       (sb.w == sa.w || sb.w == 1),
                   name, ": node ", b, " (", shape_string(sb), ") does not broadcast over node ",
                   a, " (", shape_string(sa), "): each extent must be the first's or 1");
  NnNode node;
  node.kind = sa == sb && op == cuxplain::detail::BinaryOp::add ? NodeKind::add : NodeKind::binary;
  node.op = op;
  node.a = a;
  node.b = b;
  node.shape = sa;
  return push(state, std::move(node));
}

NodeId add_activation(NnBuilderState& state, const char* name, NodeId x,
                      cuxplain::detail::Activation kind, float alpha, float beta) {
  NnNode node;
  node.kind = NodeKind::activation;
  node.a = x;
  node.shape = node_at(state, x, name, "input").shape;
  node.activation = {kind, alpha, beta};
  return push(state, std::move(node));
}

}  // namespace

NodeId NetworkBuilder::add(NodeId a, NodeId b) {
  return add_binary(*state_, cuxplain::detail::BinaryOp::add, "add", a, b);
}

NodeId NetworkBuilder::sub(NodeId a, NodeId b) {
  return add_binary(*state_, cuxplain::detail::BinaryOp::sub, "sub", a, b);
}

NodeId NetworkBuilder::mul(NodeId a, NodeId b) {
  return add_binary(*state_, cuxplain::detail::BinaryOp::mul, "mul", a, b);
}

NodeId NetworkBuilder::channel_affine(NodeId x, std::vector<float> scale,
                                      std::vector<float> shift) {
  const Shape in = node_at(*state_, x, "channel_affine", "input").shape;
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(scale.size()) == in.c &&
                       static_cast<std::int64_t>(shift.size()) == in.c,
                   "channel_affine: scale has ", scale.size(), " and shift ", shift.size(),
                   " floats but the input (", shape_string(in), ") has ", in.c, " channels");
  expect_finite(scale, "channel_affine", "scale");
  expect_finite(shift, "channel_affine", "shift");
  NnNode node;
  node.kind = NodeKind::channel_affine;
  node.a = x;
  node.shape = in;
  node.weight = std::move(scale);
  node.bias = std::move(shift);
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::clip(NodeId x, float min, float max) {
  CUXPLAIN_EXPECTS(!std::isnan(min) && !std::isnan(max) && min <= max, "clip: min (", min,
                   ") must be <= max (", max, ")");
  return add_activation(*state_, "clip", x, cuxplain::detail::Activation::clip, min, max);
}

NodeId NetworkBuilder::leaky_relu(NodeId x, float alpha) {
  CUXPLAIN_EXPECTS(std::isfinite(alpha), "leaky_relu: alpha must be finite, got ", alpha);
  return add_activation(*state_, "leaky_relu", x, cuxplain::detail::Activation::leaky_relu, alpha,
                        0.0f);
}

NodeId NetworkBuilder::sigmoid(NodeId x) {
  return add_activation(*state_, "sigmoid", x, cuxplain::detail::Activation::sigmoid, 0.0f, 0.0f);
}

NodeId NetworkBuilder::tanh(NodeId x) {
  return add_activation(*state_, "tanh", x, cuxplain::detail::Activation::tanh, 0.0f, 0.0f);
}

NodeId NetworkBuilder::hard_sigmoid(NodeId x, float alpha, float beta) {
  CUXPLAIN_EXPECTS(std::isfinite(alpha) && alpha >= 0.0f && std::isfinite(beta),
                   "hard_sigmoid: alpha must be finite and >= 0 and beta finite, got alpha = ",
                   alpha, ", beta = ", beta);
  return add_activation(*state_, "hard_sigmoid", x, cuxplain::detail::Activation::hard_sigmoid,
                        alpha, beta);
}

NodeId NetworkBuilder::hard_swish(NodeId x) {
  return add_activation(*state_, "hard_swish", x, cuxplain::detail::Activation::hard_swish,
                        1.0f / 6.0f, 0.5f);
}

NodeId NetworkBuilder::silu(NodeId x) {
  return add_activation(*state_, "silu", x, cuxplain::detail::Activation::silu, 0.0f, 0.0f);
}

NodeId NetworkBuilder::concat(const std::vector<NodeId>& inputs) {
  CUXPLAIN_EXPECTS(!inputs.empty(), "concat: no inputs");
  const Shape first = node_at(*state_, inputs[0], "concat", "input").shape;
  std::int64_t channels = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Shape s = node_at(*state_, inputs[i], "concat", "input").shape;
    CUXPLAIN_EXPECTS(s.h == first.h && s.w == first.w, "concat: input ", i, " (node ", inputs[i],
                     ") is ", shape_string(s), " but input 0 is ", shape_string(first),
                     "; the planes must match");
    channels += s.c;
  }
  const Shape out{channels, first.h, first.w};
  expect_shape(out, "concat");
  NnNode node;
  node.kind = NodeKind::concat;
  node.inputs = inputs;
  node.a = inputs[0];
  node.shape = out;
  return push(*state_, std::move(node));
}

static_assert(static_cast<int>(PadMode::constant) == static_cast<int>(cuxplain::detail::PadMode::constant) &&
              static_cast<int>(PadMode::reflect) == static_cast<int>(cuxplain::detail::PadMode::reflect) &&
              static_cast<int>(PadMode::edge) == static_cast<int>(cuxplain::detail::PadMode::edge),
              "nn::PadMode and detail::PadMode list the modes in the same order");

NodeId NetworkBuilder::pad(NodeId x, const PadParams& p) {
  const Shape in = node_at(*state_, x, "pad", "input").shape;
  CUXPLAIN_EXPECTS(p.pad_top >= 0 && p.pad_left >= 0 && p.pad_bottom >= 0 && p.pad_right >= 0 &&
                       std::max({p.pad_top, p.pad_left, p.pad_bottom, p.pad_right}) <= kMaxSize,
                   "pad: pads must be in [0, ", kMaxSize, "], got [", p.pad_top, ", ", p.pad_left,
                   ", ", p.pad_bottom, ", ", p.pad_right, "]");
  CUXPLAIN_EXPECTS(p.mode != PadMode::reflect ||
                       (std::max(p.pad_top, p.pad_bottom) < in.h &&
                        std::max(p.pad_left, p.pad_right) < in.w),
                   "pad: reflect pads [", p.pad_top, ", ", p.pad_left, ", ", p.pad_bottom, ", ",
                   p.pad_right, "] must be smaller than the ", in.h, " x ", in.w, " input");
  CUXPLAIN_EXPECTS(std::isfinite(p.value), "pad: value must be finite, got ", p.value);
  const Shape out{in.c, in.h + p.pad_top + p.pad_bottom, in.w + p.pad_left + p.pad_right};
  expect_shape(out, "pad");
  NnNode node;
  node.kind = NodeKind::pad;
  node.a = x;
  node.shape = out;
  cuxplain::detail::PadGeometry& g = node.pad;
  g.channels = in.c;
  g.in_h = in.h;
  g.in_w = in.w;
  g.out_h = out.h;
  g.out_w = out.w;
  g.pad_top = p.pad_top;
  g.pad_left = p.pad_left;
  g.mode = static_cast<cuxplain::detail::PadMode>(static_cast<int>(p.mode));
  g.value = p.value;
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::transpose(NodeId x, const std::vector<std::int64_t>& perm) {
  const Shape in = node_at(*state_, x, "transpose", "input").shape;
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  CUXPLAIN_EXPECTS(sorted == (std::vector<std::int64_t>{0, 1, 2}), "transpose: perm must be a "
                   "permutation of {0, 1, 2}, got ", perm.size(), " values");
  NnNode node;
  node.kind = NodeKind::transpose;
  node.a = x;
  const std::int64_t dims[3] = {in.c, in.h, in.w};
  const std::int64_t order[3] = {perm[0], perm[1], perm[2]};
  const cuxplain::detail::TransposeGeometry g = cuxplain::detail::transpose_geometry(dims, order);
  node.transpose = g;
  node.shape = {g.d0, g.d1, g.d2};
  return push(*state_, std::move(node));
}

NodeId NetworkBuilder::softmax(NodeId x) {
  const Shape in = node_at(*state_, x, "softmax", "input").shape;
  CUXPLAIN_EXPECTS(in.h == 1 && in.w == 1, "softmax: the input must be a flat vector F x 1 x 1, "
                   "got ", shape_string(in));
  NnNode node;
  node.kind = NodeKind::softmax;
  node.a = x;
  node.shape = in;
  return push(*state_, std::move(node));
}

Shape NetworkBuilder::shape(NodeId node) const {
  return node_at(*state_, node, "shape", "queried").shape;
}

std::int64_t NetworkBuilder::size() const { return static_cast<std::int64_t>(state_->nodes.size()); }

Network NetworkBuilder::build(const Context& ctx, NodeId output) const {
  CUXPLAIN_EXPECTS(state_->input >= 0, "build: the builder has no input node");
  return build(ctx, state_->input, output);
}

Network NetworkBuilder::build(const Context& ctx, NodeId from, NodeId output) const {
  const NnBuilderState& st = *state_;
  CUXPLAIN_EXPECTS(st.input >= 0, "build: the builder has no input node");
  node_at(st, from, "build", "from");
  node_at(st, output, "build", "output");
  CUXPLAIN_EXPECTS(from <= output, "build: node from = ", from, " comes after output node ",
                   output, " (from must be the output or one of the nodes it depends on)");
  return Network(cuxplain::detail::lower_network(st, ctx, from, output));
}

}  // namespace nn
}  // namespace cuxplain
