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
                    std::int64_t pad_right) {
  const std::int64_t h =
      cuxplain::detail::window_output_extent(in.h, kernel_h, stride_h, pad_top, pad_bottom);
  const std::int64_t w =
      cuxplain::detail::window_output_extent(in.w, kernel_w, stride_w, pad_left, pad_right);
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
  CUXPLAIN_EXPECTS(in.c <= kMaxSize / kernel_h / kernel_w, "conv: the patch in_channels x kernel_h x kernel_w = ",
                   in.c, " x ", kernel_h, " x ", kernel_w, " is too large");
  const std::int64_t patch = in.c * kernel_h * kernel_w;
  CUXPLAIN_EXPECTS(out_channels <= kMaxSize / patch, "conv: out_channels ", out_channels,
                   " x patch ", patch, " weights are too many");
  const auto expected = out_channels * patch;
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(weight.size()) == expected, "conv: weight has ",
                   weight.size(), " floats but out_channels x in_channels x kernel_h x kernel_w = ",
                   out_channels, " x ", in.c, " x ", kernel_h, " x ", kernel_w, " = ", expected);
  CUXPLAIN_EXPECTS(bias.empty() || static_cast<std::int64_t>(bias.size()) == out_channels,
                   "conv: bias has ", bias.size(), " floats but out_channels = ", out_channels,
                   " (or 0 for no bias)");
  expect_finite(weight, "conv", "weight");
  expect_finite(bias, "conv", "bias");
  const Shape out =
      window_output("conv", in, out_channels, kernel_h, kernel_w, params.stride_h,
                    params.stride_w, params.pad_top, params.pad_left, params.pad_bottom,
                    params.pad_right);
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
                             p.pad_top, p.pad_left, p.pad_bottom, p.pad_right);
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

NodeId NetworkBuilder::add(NodeId a, NodeId b) {
  const Shape sa = node_at(*state_, a, "add", "first input").shape;
  const Shape sb = node_at(*state_, b, "add", "second input").shape;
  CUXPLAIN_EXPECTS(sa == sb, "add: the inputs' shapes differ: node ", a, " is ", shape_string(sa),
                   ", node ", b, " is ", shape_string(sb));
  NnNode node;
  node.kind = NodeKind::add;
  node.a = a;
  node.b = b;
  node.shape = sa;
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
