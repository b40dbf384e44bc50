// cuxplain::nn: the builder's checks, build() (pruning, batch-norm folding,
// relu fusion, weight upload) and the executor that walks the layers on
// either backend for forward, bounds and margins.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#include "../../kernels/nn.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace detail {

enum class NodeKind {
  input,
  conv,
  dense,
  batch_norm,
  relu,
  max_pool,
  avg_pool,
  global_avg_pool,
  reshape,
  add
};

/// One builder call, as recorded.
struct NnNode {
  NodeKind kind = NodeKind::input;
  nn::NodeId a = -1, b = -1;
  nn::Shape shape;
  std::vector<float> weight, bias;  // conv, dense
  std::int64_t kernel_h = 1, kernel_w = 1;
  nn::ConvParams conv;
  std::vector<float> gamma, beta, mean, var;  // batch_norm
  float epsilon = 0.0f;
  nn::PoolParams pool;
};

struct NnBuilderState {
  std::vector<NnNode> nodes;
  nn::NodeId input = -1;
};

enum class LayerKind { conv, dense, channel_affine, relu, max_pool, avg_pool, global_avg_pool, add };

/// One op of a built network. Values: 0 is the network's input, layer i
/// writes value i + 1; a and b are the values it reads.
struct NnLayer {
  LayerKind kind = LayerKind::relu;
  std::int64_t a = -1, b = -1;
  nn::Shape in_shape, out_shape;
  bool relu = false;
  ConvGeometry conv;  // conv; dense as dense_geometry
  PoolGeometry pool;  // max_pool, avg_pool
  // On the network's device. conv / dense: weight, |weight|, bias.
  // channel_affine: weight = scale, bias = shift.
  Buffer<float> weight, abs_weight, bias;
  std::string description;
};

struct NnNetworkState {
  Backend backend = Backend::host;
  int device = -1;
  nn::Shape input_shape, output_shape;
  std::vector<NnLayer> layers;
  std::int64_t output_value = 0;
  /// Per value: the last layer that reads it (-1: none).
  std::vector<std::int64_t> last_use;
  bool folds_margins = false;
};

}  // namespace detail

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

// ---------------------------------------------------------------------------
// build
// ---------------------------------------------------------------------------

namespace {

/// A layer as build() assembles it, with its parameters still on the host.
struct PendingLayer {
  NnLayer layer;
  std::vector<float> weight, bias;
};

Buffer<float> upload(const Context& ctx, const std::vector<float>& values) {
  Buffer<float> buffer(ctx, static_cast<std::int64_t>(values.size()));
  copy_to_device(ctx, buffer.data(), values.data(), values.size() * sizeof(float));
  return buffer;
}

std::string pads_string(std::int64_t top, std::int64_t left, std::int64_t bottom,
                        std::int64_t right) {
  return cuxplain::detail::concat("pads [", top, ", ", left, ", ", bottom, ", ", right, "]");
}

/// Folds y = scale x + shift per output channel into the layer's weights
/// (rows of `channel_size` weights per channel) and bias. Returns false,
/// changing nothing, when a folded value would not be a finite float
/// (scale x w can overflow where (w x) scale does not): the batch norm then
/// runs as its own per-channel affine op.
bool fold_into(PendingLayer& pending, const NnNode& bn) {
  const std::int64_t channels = static_cast<std::int64_t>(pending.bias.size());
  const std::int64_t per_channel = static_cast<std::int64_t>(pending.weight.size()) / channels;
  std::vector<float> weight(pending.weight.size()), bias(pending.bias.size());
  for (std::int64_t c = 0; c < channels; ++c) {
    const cuxplain::detail::ChannelAffine affine = cuxplain::detail::batch_norm_affine(
        bn.gamma[c], bn.beta[c], bn.mean[c], bn.var[c], bn.epsilon);
    for (std::int64_t k = 0; k < per_channel; ++k) {
      const std::size_t at = static_cast<std::size_t>(c * per_channel + k);
      weight[at] = cuxplain::detail::fold_weight(pending.weight[at], affine);
      if (!std::isfinite(weight[at])) return false;
    }
    bias[static_cast<std::size_t>(c)] =
        cuxplain::detail::fold_bias(pending.bias[static_cast<std::size_t>(c)], affine);
    if (!std::isfinite(bias[static_cast<std::size_t>(c)])) return false;
  }
  pending.weight.swap(weight);
  pending.bias.swap(bias);
  pending.layer.description += " + batch_norm (folded)";
  return true;
}

/// The network computing `output` from node `from` (the builder's input
/// node for a whole network), whose value becomes the network's input: the
/// walk stops at `from`, which creates no layer and folds or fuses nothing
/// (a batch norm right after it runs as a per-channel affine op, a relu as
/// its own layer). Both ids are checked by the caller, from <= output.
std::shared_ptr<const NnNetworkState> build_network(const NnBuilderState& st,
                                                   const Context& ctx, NodeId from,
                                                   NodeId output) {
  const auto count = static_cast<std::size_t>(st.nodes.size());
  const auto cut = static_cast<std::size_t>(from);

  // Nodes the output depends on (ids are topological: inputs come first),
  // not looking past `from`.
  std::vector<bool> live(count, false);
  live[static_cast<std::size_t>(output)] = true;
  for (std::size_t i = static_cast<std::size_t>(output) + 1; i-- > 0;) {
    if (!live[i] || i == cut) continue;
    const NnNode& node = st.nodes[i];
    if (node.a >= 0) live[static_cast<std::size_t>(node.a)] = true;
    if (node.b >= 0) live[static_cast<std::size_t>(node.b)] = true;
  }
  if (from != st.input) {
    CUXPLAIN_EXPECTS(live[cut], "build: output node ", output, " does not depend on node from = ",
                     from);
    CUXPLAIN_EXPECTS(!live[static_cast<std::size_t>(st.input)], "build: output node ", output,
                     " depends on the network input (node ", st.input,
                     ") other than through node from = ", from,
                     " (a path around it, e.g. a residual connection across the cut)");
  }
  std::vector<int> uses(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    if (!live[i] || i == cut) continue;
    if (st.nodes[i].a >= 0) ++uses[static_cast<std::size_t>(st.nodes[i].a)];
    if (st.nodes[i].b >= 0) ++uses[static_cast<std::size_t>(st.nodes[i].b)];
  }

  std::vector<PendingLayer> pending;
  std::vector<std::int64_t> value_of(count, -1);  // node -> value
  // node -> whether its value is a conv/dense output into which a following
  // batch norm may fold (the node itself or a batch norm already folded).
  std::vector<bool> foldable(count, false);
  const auto new_layer = [&](LayerKind kind, const NnNode& node, std::int64_t a, std::int64_t b,
                             std::string description) -> PendingLayer& {
    PendingLayer p;
    p.layer.kind = kind;
    p.layer.a = a;
    p.layer.b = b;
    p.layer.out_shape = node.shape;
    p.layer.description = std::move(description);
    pending.push_back(std::move(p));
    return pending.back();
  };
  const auto in_shape_of = [&](const NnNode& node) {
    return st.nodes[static_cast<std::size_t>(node.a)].shape;
  };

  for (std::size_t i = 0; i < count; ++i) {
    if (!live[i]) continue;
    if (i == cut) {
      // The network's input: value 0, no layer, foldable stays false.
      value_of[i] = 0;
      continue;
    }
    const NnNode& node = st.nodes[i];
    const std::int64_t va = node.a >= 0 ? value_of[static_cast<std::size_t>(node.a)] : -1;
    const std::int64_t vb = node.b >= 0 ? value_of[static_cast<std::size_t>(node.b)] : -1;
    const std::int64_t next_value = static_cast<std::int64_t>(pending.size()) + 1;
    switch (node.kind) {
      case NodeKind::input:
        value_of[i] = 0;
        break;
      case NodeKind::reshape:
        value_of[i] = va;
        break;
      case NodeKind::conv: {
        const Shape in = in_shape_of(node);
        PendingLayer& p = new_layer(
            LayerKind::conv, node, va, -1,
            cuxplain::detail::concat("conv ", node.shape.c, " x ", node.kernel_h, " x ",
                                     node.kernel_w, ", stride ", node.conv.stride_h, " x ",
                                     node.conv.stride_w, ", ",
                                     pads_string(node.conv.pad_top, node.conv.pad_left,
                                                 node.conv.pad_bottom, node.conv.pad_right)));
        cuxplain::detail::ConvGeometry& g = p.layer.conv;
        g.in_c = in.c;
        g.in_h = in.h;
        g.in_w = in.w;
        g.out_c = node.shape.c;
        g.out_h = node.shape.h;
        g.out_w = node.shape.w;
        g.kernel_h = node.kernel_h;
        g.kernel_w = node.kernel_w;
        g.stride_h = node.conv.stride_h;
        g.stride_w = node.conv.stride_w;
        g.pad_top = node.conv.pad_top;
        g.pad_left = node.conv.pad_left;
        p.weight = node.weight;
        p.bias = node.bias;
        value_of[i] = next_value;
        foldable[i] = true;
        break;
      }
      case NodeKind::dense: {
        const Shape in = in_shape_of(node);
        PendingLayer& p = new_layer(LayerKind::dense, node, va, -1,
                                    cuxplain::detail::concat("dense ", in.size(), " -> ",
                                                             node.shape.c));
        p.layer.conv = cuxplain::detail::dense_geometry(in.size(), node.shape.c);
        p.weight = node.weight;
        p.bias = node.bias;
        value_of[i] = next_value;
        foldable[i] = true;
        break;
      }
      case NodeKind::batch_norm: {
        const auto a = static_cast<std::size_t>(node.a);
        if (foldable[a] && uses[a] == 1 && fold_into(pending[static_cast<std::size_t>(va - 1)], node)) {
          // The conv / dense layer writing value va feeds only this batch
          // norm: folded in, the batch norm's value is that layer's.
          value_of[i] = va;
          foldable[i] = true;
          break;
        }
        PendingLayer& p = new_layer(LayerKind::channel_affine, node, va, -1,
                                    "batch_norm (per-channel affine)");
        p.weight.resize(node.gamma.size());
        p.bias.resize(node.gamma.size());
        for (std::size_t c = 0; c < node.gamma.size(); ++c) {
          const cuxplain::detail::ChannelAffine affine = cuxplain::detail::batch_norm_affine(
              node.gamma[c], node.beta[c], node.mean[c], node.var[c], node.epsilon);
          p.weight[c] = static_cast<float>(affine.scale);
          p.bias[c] = static_cast<float>(affine.shift);
          // Every output of the channel would be infinite or NaN.
          CUXPLAIN_EXPECTS(std::isfinite(p.weight[c]) && std::isfinite(p.bias[c]),
                           "build: batch_norm node ", i, " channel ", c, ": y = ", affine.scale,
                           " x + ", affine.shift, " (gamma / sqrt(var + epsilon), beta - mean x "
                           "that) is not finite in float");
        }
        value_of[i] = next_value;
        break;
      }
      case NodeKind::relu: {
        const auto a = static_cast<std::size_t>(node.a);
        const NodeKind ak = st.nodes[a].kind;
        const bool fusible_kind = ak == NodeKind::conv || ak == NodeKind::dense ||
                                  ak == NodeKind::batch_norm || ak == NodeKind::add;
        if (fusible_kind && uses[a] == 1 && va > 0 &&
            !pending[static_cast<std::size_t>(va - 1)].layer.relu) {
          PendingLayer& producer = pending[static_cast<std::size_t>(va - 1)];
          producer.layer.relu = true;
          producer.layer.description += " + relu";
          value_of[i] = va;
          break;
        }
        new_layer(LayerKind::relu, node, va, -1, "relu");
        value_of[i] = next_value;
        break;
      }
      case NodeKind::max_pool:
      case NodeKind::avg_pool: {
        const Shape in = in_shape_of(node);
        const PoolParams& pp = node.pool;
        const bool is_max = node.kind == NodeKind::max_pool;
        PendingLayer& p = new_layer(
            is_max ? LayerKind::max_pool : LayerKind::avg_pool, node, va, -1,
            cuxplain::detail::concat(is_max ? "max_pool " : "avg_pool ", pp.kernel_h, " x ",
                                     pp.kernel_w, ", stride ", pp.stride_h, " x ", pp.stride_w,
                                     ", ",
                                     pads_string(pp.pad_top, pp.pad_left, pp.pad_bottom,
                                                 pp.pad_right),
                                     !is_max && pp.count_include_pad ? ", count_include_pad"
                                                                     : ""));
        cuxplain::detail::PoolGeometry& g = p.layer.pool;
        g.channels = in.c;
        g.in_h = in.h;
        g.in_w = in.w;
        g.out_h = node.shape.h;
        g.out_w = node.shape.w;
        g.kernel_h = pp.kernel_h;
        g.kernel_w = pp.kernel_w;
        g.stride_h = pp.stride_h;
        g.stride_w = pp.stride_w;
        g.pad_top = pp.pad_top;
        g.pad_left = pp.pad_left;
        g.count_include_pad = pp.count_include_pad;
        value_of[i] = next_value;
        break;
      }
      case NodeKind::global_avg_pool:
        new_layer(LayerKind::global_avg_pool, node, va, -1, "global_avg_pool");
        value_of[i] = next_value;
        break;
      case NodeKind::add:
        new_layer(LayerKind::add, node, va, vb, "add");
        value_of[i] = next_value;
        break;
    }
    // Every layer records the shape it reads (a reshape changes only that).
    if (static_cast<std::int64_t>(pending.size()) + 1 > next_value) {
      pending.back().layer.in_shape = in_shape_of(node);
    }
  }

  auto state = std::make_shared<NnNetworkState>();
  state->backend = ctx.backend();
  state->device = ctx.device();
  state->input_shape = st.nodes[cut].shape;
  state->output_shape = st.nodes[static_cast<std::size_t>(output)].shape;
  state->output_value = value_of[static_cast<std::size_t>(output)];
  state->last_use.assign(pending.size() + 1, -1);
  for (std::size_t l = 0; l < pending.size(); ++l) {
    PendingLayer& p = pending[l];
    NnLayer& layer = p.layer;
    state->last_use[static_cast<std::size_t>(layer.a)] = static_cast<std::int64_t>(l);
    if (layer.b >= 0) state->last_use[static_cast<std::size_t>(layer.b)] = static_cast<std::int64_t>(l);
    if (!p.weight.empty()) layer.weight = upload(ctx, p.weight);
    if (!p.bias.empty()) layer.bias = upload(ctx, p.bias);
    if (layer.kind == LayerKind::conv || layer.kind == LayerKind::dense) {
      std::vector<float> magnitude(p.weight.size());
      std::transform(p.weight.begin(), p.weight.end(), magnitude.begin(),
                     [](float w) { return std::fabs(w); });
      layer.abs_weight = upload(ctx, magnitude);
    }
    layer.description += cuxplain::detail::concat(" -> ", to_string(layer.out_shape));
    state->layers.push_back(std::move(layer));
  }
  const bool has_layers = !state->layers.empty();
  const NnLayer* last = has_layers ? &state->layers.back() : nullptr;
  state->folds_margins = has_layers && last->kind == LayerKind::dense && !last->relu &&
                         state->output_value == static_cast<std::int64_t>(state->layers.size());
  ctx.synchronize();
  return state;
}

}  // namespace

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
  return Network(build_network(st, ctx, from, output));
}

// ---------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------

Network::Network() = default;
Network::Network(std::shared_ptr<const NnNetworkState> state) : state_(std::move(state)) {}

namespace {

const NnNetworkState& state_of(const std::shared_ptr<const NnNetworkState>& state,
                               const char* call) {
  CUXPLAIN_EXPECTS(state != nullptr, call,
                   ": the network is empty (default-constructed); make it with NetworkBuilder::build");
  return *state;
}

const char* backend_name(Backend backend) { return backend == Backend::cuda ? "CUDA" : "host"; }

void expect_context(const NnNetworkState& net, const Context& ctx, const char* call) {
  CUXPLAIN_EXPECTS(ctx.backend() == net.backend, call, ": the network was built for the ",
                   backend_name(net.backend), " backend but ctx is ", backend_name(ctx.backend()));
  CUXPLAIN_EXPECTS(ctx.device() == net.device, call, ": the network's weights are on CUDA device ",
                   net.device, " but ctx is on device ", ctx.device());
}

void expect_batch(const NnNetworkState& net, std::int64_t n, const char* call) {
  CUXPLAIN_EXPECTS(n >= 1, call, ": n must be >= 1, got ", n);
  std::int64_t widest = std::max(net.input_shape.size(), net.output_shape.size());
  for (const NnLayer& layer : net.layers) widest = std::max(widest, layer.out_shape.size());
  CUXPLAIN_EXPECTS(n <= std::numeric_limits<std::int64_t>::max() / 8 / widest, call, ": n = ", n,
                   " samples of up to ", widest, " floats overflow 64-bit sizes");
}

std::int64_t chunk_workspace_floats(const NnLayer& layer, std::int64_t n) {
  if (layer.kind == LayerKind::conv) {
    const cuxplain::detail::ConvGeometry& g = layer.conv;
    const std::int64_t chunk = cuxplain::detail::conv_chunk_samples(g, n);
    return 2 * (g.patch() + g.out_c) * chunk * g.out_plane();
  }
  if (layer.kind == LayerKind::dense) {
    const std::int64_t chunk =
        cuxplain::detail::dense_chunk_rows(layer.conv.in_c, layer.conv.out_c, n);
    return 2 * chunk * layer.conv.in_c;
  }
  return 0;
}

/// Lower and upper pointers of one value (upper unused by forward).
struct Value {
  const float* lo = nullptr;
  const float* hi = nullptr;
};

/// Runs layers [0, count) on n samples: forward (bounds = false, `in.lo` ->
/// `out_lo`) or interval propagation. Layer count - 1 writes out_lo / out_hi;
/// the others write Buffers freed after their last reader.
void execute(const NnNetworkState& net, const Context& ctx, std::int64_t n, bool bounds,
             bool sound, Value in, std::size_t count, float* out_lo, float* out_hi) {
  std::vector<Value> values(count + 1);
  std::vector<Buffer<float>> own_lo(count + 1), own_hi(count + 1);
  values[0] = in;
  const Rounding lo_rounding = sound ? Rounding::down : Rounding::nearest;
  const Rounding hi_rounding = sound ? Rounding::up : Rounding::nearest;
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& L = net.layers[i];
    const std::size_t v = i + 1;
    float* dst_lo = out_lo;
    float* dst_hi = out_hi;
    if (i + 1 < count) {
      own_lo[v] = Buffer<float>(ctx, n * L.out_shape.size());
      dst_lo = own_lo[v].data();
      if (bounds) {
        own_hi[v] = Buffer<float>(ctx, n * L.out_shape.size());
        dst_hi = own_hi[v].data();
      }
    }
    const Value a = values[static_cast<std::size_t>(L.a)];
    const Value b = L.b >= 0 ? values[static_cast<std::size_t>(L.b)] : Value{};
    const std::int64_t out_count = n * L.out_shape.size();
    switch (L.kind) {
      case LayerKind::conv:
        if (!bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_conv_forward, L.conv, L.weight.data(), L.bias.data(), L.relu,
                            a.lo, n, dst_lo);
        } else if (sound) {
          CUXPLAIN_DISPATCH(ctx, nn_affine_bounds_sound, L.conv, L.weight.data(), L.bias.data(),
                            L.relu, a.lo, a.hi, n, dst_lo, dst_hi);
        } else {
          CUXPLAIN_DISPATCH(ctx, nn_conv_bounds, L.conv, L.weight.data(), L.abs_weight.data(),
                            L.bias.data(), L.relu, a.lo, a.hi, n, dst_lo, dst_hi);
        }
        break;
      case LayerKind::dense:
        if (!bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_dense_forward, L.conv.in_c, L.conv.out_c, L.weight.data(),
                            L.bias.data(), L.relu, a.lo, n, dst_lo);
        } else if (sound) {
          CUXPLAIN_DISPATCH(ctx, nn_affine_bounds_sound, L.conv, L.weight.data(), L.bias.data(),
                            L.relu, a.lo, a.hi, n, dst_lo, dst_hi);
        } else {
          CUXPLAIN_DISPATCH(ctx, nn_dense_bounds, L.conv.in_c, L.conv.out_c, L.weight.data(),
                            L.abs_weight.data(), L.bias.data(), L.relu, a.lo, a.hi, n, dst_lo,
                            dst_hi);
        }
        break;
      case LayerKind::channel_affine: {
        const std::int64_t plane = L.out_shape.h * L.out_shape.w;
        if (!bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_channel_affine, L.out_shape.c, plane, L.weight.data(),
                            L.bias.data(), L.relu, a.lo, n, dst_lo);
        } else {
          CUXPLAIN_DISPATCH(ctx, nn_channel_affine_bounds, L.out_shape.c, plane, L.weight.data(),
                            L.bias.data(), L.relu, sound, a.lo, a.hi, n, dst_lo, dst_hi);
        }
        break;
      }
      case LayerKind::relu:
        CUXPLAIN_DISPATCH(ctx, nn_relu, a.lo, out_count, dst_lo);
        if (bounds) CUXPLAIN_DISPATCH(ctx, nn_relu, a.hi, out_count, dst_hi);
        break;
      case LayerKind::max_pool:
        CUXPLAIN_DISPATCH(ctx, nn_max_pool, L.pool, a.lo, n, dst_lo);
        if (bounds) CUXPLAIN_DISPATCH(ctx, nn_max_pool, L.pool, a.hi, n, dst_hi);
        break;
      case LayerKind::avg_pool:
        CUXPLAIN_DISPATCH(ctx, nn_avg_pool, L.pool, lo_rounding, a.lo, n, dst_lo);
        if (bounds) CUXPLAIN_DISPATCH(ctx, nn_avg_pool, L.pool, hi_rounding, a.hi, n, dst_hi);
        break;
      case LayerKind::global_avg_pool: {
        const std::int64_t plane = L.in_shape.h * L.in_shape.w;
        CUXPLAIN_DISPATCH(ctx, nn_global_avg_pool, L.in_shape.c, plane, lo_rounding, a.lo, n,
                          dst_lo);
        if (bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_global_avg_pool, L.in_shape.c, plane, hi_rounding, a.hi, n,
                            dst_hi);
        }
        break;
      }
      case LayerKind::add:
        CUXPLAIN_DISPATCH(ctx, nn_add, a.lo, b.lo, out_count, L.relu, lo_rounding, dst_lo);
        if (bounds) CUXPLAIN_DISPATCH(ctx, nn_add, a.hi, b.hi, out_count, L.relu, hi_rounding, dst_hi);
        break;
    }
    values[v] = {dst_lo, dst_hi};
    for (const std::int64_t read : {L.a, L.b}) {
      if (read > 0 && net.last_use[static_cast<std::size_t>(read)] == static_cast<std::int64_t>(i)) {
        own_lo[static_cast<std::size_t>(read)] = Buffer<float>();
        own_hi[static_cast<std::size_t>(read)] = Buffer<float>();
      }
    }
  }
}

/// Network output for inputs `in`: the layers, or a copy when the output is
/// the input itself.
void run_all(const NnNetworkState& net, const Context& ctx, std::int64_t n, bool bounds,
             bool sound, Value in, float* out_lo, float* out_hi) {
  if (net.output_value == 0) {
    const std::size_t bytes = static_cast<std::size_t>(n * net.input_shape.size()) * sizeof(float);
    copy_on_device(ctx, out_lo, in.lo, bytes);
    if (bounds) copy_on_device(ctx, out_hi, in.hi, bytes);
    return;
  }
  execute(net, ctx, n, bounds, sound, in, net.layers.size(), out_lo, out_hi);
}

void check_boxes(const Context& ctx, const float* lower, const float* upper, std::int64_t count,
                 const char* call) {
  const std::int64_t bad = CUXPLAIN_DISPATCH(ctx, nn_first_inverted, lower, upper, count);
  if (bad < 0) return;
  float lo = 0.0f, hi = 0.0f;
  copy_to_host(ctx, &lo, lower + bad, sizeof lo);
  copy_to_host(ctx, &hi, upper + bad, sizeof hi);
  CUXPLAIN_FAIL(call, ": lower[", bad, "] = ", lo, " and upper[", bad, "] = ", hi,
                " do not form a box (finite lower <= upper is required)");
}

void expect_bounds_arguments(const NnNetworkState& net, const Context& ctx, const float* lower,
                             const float* upper, std::int64_t n, const BoundsOptions& options,
                             const char* call) {
  expect_context(net, ctx, call);
  expect_batch(net, n, call);
  cuxplain::detail::expect_on_device(ctx, lower, cuxplain::detail::concat(call, ": lower").c_str());
  cuxplain::detail::expect_on_device(ctx, upper, cuxplain::detail::concat(call, ": upper").c_str());
  if (options.check_boxes) check_boxes(ctx, lower, upper, n * net.input_shape.size(), call);
}

}  // namespace

Shape Network::input_shape() const { return state_of(state_, "input_shape").input_shape; }
Shape Network::output_shape() const { return state_of(state_, "output_shape").output_shape; }
Backend Network::backend() const { return state_of(state_, "backend").backend; }
int Network::device() const { return state_of(state_, "device").device; }
bool Network::folds_margins() const { return state_of(state_, "folds_margins").folds_margins; }

std::string Network::summary() const {
  const NnNetworkState& net = state_of(state_, "summary");
  std::ostringstream out;
  out << "input " << to_string(net.input_shape) << "\n";
  for (const NnLayer& layer : net.layers) out << layer.description << "\n";
  out << "output " << to_string(net.output_shape)
      << (net.output_value == 0 ? " (the input)" : "") << "\n";
  return out.str();
}

namespace {

/// Peak floats that execute() holds for layers [0, count) of a bounds walk
/// (two buffers per intermediate value, each layer's full workspace), on top
/// of `base` floats allocated before it. Forward holds at most half of it.
std::int64_t walk_peak(const NnNetworkState& net, std::int64_t n, std::size_t count,
                       std::int64_t base) {
  std::vector<std::int64_t> held(count + 1, 0);
  std::int64_t live = base, peak = base;
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& layer = net.layers[i];
    if (i + 1 < count) {
      held[i + 1] = 2 * n * layer.out_shape.size();
      live += held[i + 1];
    }
    peak = std::max(peak, live + chunk_workspace_floats(layer, n));
    for (const std::int64_t read : {layer.a, layer.b}) {
      if (read > 0 && net.last_use[static_cast<std::size_t>(read)] == static_cast<std::int64_t>(i)) {
        live -= held[static_cast<std::size_t>(read)];
        held[static_cast<std::size_t>(read)] = 0;
      }
    }
  }
  return peak;
}

}  // namespace

std::size_t Network::temporary_bytes(std::int64_t n) const {
  const NnNetworkState& net = state_of(state_, "temporary_bytes");
  CUXPLAIN_EXPECTS(n >= 1, "temporary_bytes: n must be >= 1, got ", n);
  const std::size_t layers = net.layers.size();
  std::int64_t peak = walk_peak(net, n, layers, 0);  // forward and bounds
  // margin_upper_bounds: the targets (n ints) and the bounds its last step
  // reads, allocated before the walk.
  if (net.folds_margins) {
    const std::int64_t last_in = net.layers.back().in_shape.size();
    peak = std::max(peak, walk_peak(net, n, layers - 1, n + 2 * n * last_in));
  } else {
    peak = std::max(peak, walk_peak(net, n, layers, n + 2 * n * net.output_shape.size()));
  }
  // The CUDA box check's flag and allocator rounding of small requests.
  return static_cast<std::size_t>(peak) * sizeof(float) + 256;
}

void Network::forward(const Context& ctx, const float* input, std::int64_t n,
                      float* output) const {
  const NnNetworkState& net = state_of(state_, "forward");
  expect_context(net, ctx, "forward");
  expect_batch(net, n, "forward");
  cuxplain::detail::expect_on_device(ctx, input, "forward: input");
  cuxplain::detail::expect_on_device(ctx, output, "forward: output");
  run_all(net, ctx, n, false, false, {input, nullptr}, output, nullptr);
}

void Network::bounds(const Context& ctx, const float* lower, const float* upper, std::int64_t n,
                     float* out_lower, float* out_upper, const BoundsOptions& options) const {
  const NnNetworkState& net = state_of(state_, "bounds");
  expect_bounds_arguments(net, ctx, lower, upper, n, options, "bounds");
  cuxplain::detail::expect_on_device(ctx, out_lower, "bounds: out_lower");
  cuxplain::detail::expect_on_device(ctx, out_upper, "bounds: out_upper");
  CUXPLAIN_EXPECTS(out_lower != out_upper, "bounds: out_lower and out_upper are the same buffer");
  run_all(net, ctx, n, true, options.sound, {lower, upper}, out_lower, out_upper);
}

void Network::margin_upper_bounds(const Context& ctx, const float* lower, const float* upper,
                                  std::int64_t n, HostSpan<const int> targets, float* margins,
                                  const BoundsOptions& options) const {
  const char* call = "margin_upper_bounds";
  const NnNetworkState& net = state_of(state_, call);
  expect_context(net, ctx, call);
  expect_batch(net, n, call);
  const std::int64_t classes = net.output_shape.size();
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(targets.size()) == n, call, ": targets has ",
                   targets.size(), " entries but n = ", n);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    CUXPLAIN_EXPECTS(targets[i] >= 0 && targets[i] < classes, call, ": targets[", i, "] = ",
                     targets[i], " is outside [0, ", classes, ")");
  }
  cuxplain::detail::expect_on_device(ctx, margins, "margin_upper_bounds: margins");
  expect_bounds_arguments(net, ctx, lower, upper, n, options, call);

  Buffer<int> device_targets(ctx, n);
  copy_to_device(ctx, device_targets.data(), targets.data(), static_cast<std::size_t>(n) * sizeof(int));
  if (net.folds_margins) {
    // Bounds of the last dense layer's input, then the folded margins.
    const NnLayer& last = net.layers.back();
    const std::size_t before = net.layers.size() - 1;
    Value in{lower, upper};
    Buffer<float> lo, hi;
    if (before > 0) {
      lo = Buffer<float>(ctx, n * last.in_shape.size());
      hi = Buffer<float>(ctx, n * last.in_shape.size());
      execute(net, ctx, n, true, options.sound, {lower, upper}, before, lo.data(), hi.data());
      in = {lo.data(), hi.data()};
    }
    CUXPLAIN_DISPATCH(ctx, nn_margins_folded, last.conv.in_c, last.conv.out_c, last.weight.data(),
                      last.bias.data(), options.sound, in.lo, in.hi, n, device_targets.data(),
                      margins);
    return;
  }
  Buffer<float> lo(ctx, n * classes), hi(ctx, n * classes);
  run_all(net, ctx, n, true, options.sound, {lower, upper}, lo.data(), hi.data());
  CUXPLAIN_DISPATCH(ctx, nn_margins_from_bounds, classes, options.sound, lo.data(), hi.data(), n,
                    device_targets.data(), margins);
}

}  // namespace nn
}  // namespace cuxplain
