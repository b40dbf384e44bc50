// build(): lowers a NetworkBuilder's record to the layers a Network runs:
// nodes the output does not need are pruned, batch norms folded into the
// conv or dense layer before them, relus fused into the op before them, and
// the weights (and their magnitudes, for interval bounds) uploaded once.
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

#include "cudnn.hpp"
#include "state.hpp"

namespace cuxplain::detail {

using nn::NodeId;
using nn::PoolParams;
using nn::Shape;
using nn::to_string;

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
}  // namespace

std::shared_ptr<const NnNetworkState> lower_network(const NnBuilderState& st, const Context& ctx,
                                                    NodeId from, NodeId output) {
  const auto count = static_cast<std::size_t>(st.nodes.size());
  const auto cut = static_cast<std::size_t>(from);

  // Nodes the output depends on (ids are topological: inputs come first),
  // not looking past `from`.
  std::vector<bool> live(count, false);
  live[static_cast<std::size_t>(output)] = true;
  for (std::size_t i = static_cast<std::size_t>(output) + 1; i-- > 0;) {
    if (!live[i] || i == cut) continue;
    for (const NodeId read : node_inputs(st.nodes[i])) live[static_cast<std::size_t>(read)] = true;
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
    for (const NodeId read : node_inputs(st.nodes[i])) ++uses[static_cast<std::size_t>(read)];
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
        g.groups = node.conv.groups;
        g.dilation_h = node.conv.dilation_h;
        g.dilation_w = node.conv.dilation_w;
        if (g.groups > 1) p.layer.description += cuxplain::detail::concat(", groups ", g.groups);
        if (g.dilation_h > 1 || g.dilation_w > 1) {
          p.layer.description +=
              cuxplain::detail::concat(", dilation ", g.dilation_h, " x ", g.dilation_w);
        }
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
                                                                     : "",
                                     pp.ceil_mode ? ", ceil_mode" : ""));
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
        g.pad_bottom = pp.pad_bottom;
        g.pad_right = pp.pad_right;
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
      case NodeKind::channel_affine: {
        PendingLayer& p = new_layer(LayerKind::channel_affine, node, va, -1,
                                    "per-channel affine");
        p.weight = node.weight;
        p.bias = node.bias;
        value_of[i] = next_value;
        break;
      }
      case NodeKind::activation: {
        static const char* const names[] = {"clip",         "leaky_relu", "sigmoid", "tanh",
                                            "hard_sigmoid", "hard_swish", "silu"};
        const ActivationParams& act = node.activation;
        std::string description = names[static_cast<int>(act.kind)];
        if (act.kind == Activation::clip) {
          description += cuxplain::detail::concat(" [", act.alpha, ", ", act.beta, "]");
        } else if (act.kind == Activation::leaky_relu) {
          description += cuxplain::detail::concat(" ", act.alpha);
        } else if (act.kind == Activation::hard_sigmoid) {
          description += cuxplain::detail::concat(" ", act.alpha, " x + ", act.beta);
        }
        new_layer(LayerKind::activation, node, va, -1, std::move(description)).layer.activation =
            act;
        value_of[i] = next_value;
        break;
      }
      case NodeKind::binary: {
        static const char* const names[] = {"add", "sub", "mul"};
        const Shape sb = st.nodes[static_cast<std::size_t>(node.b)].shape;
        PendingLayer& p = new_layer(
            LayerKind::binary, node, va, vb,
            cuxplain::detail::concat(names[static_cast<int>(node.op)], " (broadcast ",
                                     to_string(sb), ")"));
        p.layer.op = node.op;
        p.layer.broadcast = {sb.c, sb.h, sb.w};
        value_of[i] = next_value;
        break;
      }
      case NodeKind::concat: {
        PendingLayer& p = new_layer(LayerKind::concat, node, va, -1,
                                    cuxplain::detail::concat("concat ", node.inputs.size(),
                                                             " inputs"));
        for (std::size_t k = 0; k < node.inputs.size(); ++k) {
          const auto input = static_cast<std::size_t>(node.inputs[k]);
          if (k > 0) p.layer.more.push_back(value_of[input]);
          p.layer.concat_sizes.push_back(st.nodes[input].shape.size());
        }
        value_of[i] = next_value;
        break;
      }
      case NodeKind::pad: {
        static const char* const modes[] = {"constant", "reflect", "edge"};
        const PadGeometry& g = node.pad;
        new_layer(LayerKind::pad, node, va, -1,
                  cuxplain::detail::concat("pad ", modes[static_cast<int>(g.mode)], " ",
                                           pads_string(g.pad_top, g.pad_left,
                                                       g.out_h - g.in_h - g.pad_top,
                                                       g.out_w - g.in_w - g.pad_left)))
            .layer.pad = g;
        value_of[i] = next_value;
        break;
      }
      case NodeKind::transpose: {
        const TransposeGeometry& g = node.transpose;
        new_layer(LayerKind::transpose, node, va, -1,
                  cuxplain::detail::concat("transpose [", g.perm0, ", ", g.perm1, ", ", g.perm2,
                                           "]"))
            .layer.transpose = g;
        value_of[i] = next_value;
        break;
      }
      case NodeKind::softmax:
        new_layer(LayerKind::softmax, node, va, -1, "softmax");
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
  if (ctx.backend() == Backend::cuda) state->cudnn = make_cudnn_network(ctx.device());
  state->input_shape = st.nodes[cut].shape;
  state->output_shape = st.nodes[static_cast<std::size_t>(output)].shape;
  state->output_value = value_of[static_cast<std::size_t>(output)];
  state->last_use.assign(pending.size() + 1, -1);
  for (std::size_t l = 0; l < pending.size(); ++l) {
    PendingLayer& p = pending[l];
    NnLayer& layer = p.layer;
    for (const std::int64_t read : layer_inputs(layer)) {
      state->last_use[static_cast<std::size_t>(read)] = static_cast<std::int64_t>(l);
    }
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

}  // namespace cuxplain::detail
