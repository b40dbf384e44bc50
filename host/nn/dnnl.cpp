#include "dnnl.hpp"

#if CUXPLAIN_WITH_DNNL

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include "../../kernels/nn.hpp"
#include "plan.hpp"

namespace cuxplain::detail {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Workspace places are multiples of 64 floats, as in the memory plan.
std::int64_t aligned_floats(std::size_t bytes) {
  const auto floats = static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float));
  return (floats + 63) / 64 * 64;
}

/// The far-side padding oneDNN's output size formula needs for a window of
/// `span` inputs (the floor mode's unused rows and columns count as none;
/// negative where the last window ends before the input does).
memory::dim far_pad(std::int64_t out, std::int64_t stride, std::int64_t span, std::int64_t in,
                    std::int64_t pad) {
  return (out - 1) * stride + span - in - pad;
}

/// A value of shape s for n samples in NCHW.
memory::desc nchw_desc(std::int64_t n, const nn::Shape& s) {
  return memory::desc({n, s.c, s.h, s.w}, dt::f32, tag::nchw);
}

}  // namespace

/// The layout of a value that a run of oneDNN layers keeps between them.
struct DnnlLayout {
  memory::desc md;
};

/// One argument of a primitive: the caller's memory (NCHW / rows, or a kept
/// layout) and, where the primitive wants another layout, its place in the
/// workspace and the reorder between the two.
struct DnnlPort {
  memory user, inner;
  bool reorder = false;
  dnnl::reorder move;
  std::int64_t offset = 0;  // floats into the workspace
};

/// One primitive with its arguments, made once.
struct DnnlOp {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  DnnlPort src, src1, dst;  // src1: add's second operand
  memory scratchpad;
  std::int64_t scratchpad_offset = 0;
  std::int64_t workspace = 0;  // floats
};

struct DnnlLayer {
  dnnl::stream stream{cpu_engine()};
  /// Forward: `centre` is the layer (relu fused). Plain-mode bounds: the
  /// centres of the boxes through the same convolution with its bias (no
  /// relu), and their radii through |W| without bias, then the interval
  /// epilogue; a box of width 0 thus gives the forward's bits.
  bool bounds = false;
  bool relu = false;
  DnnlOp centre, radius;
  std::int64_t in_count = 0, out_count = 0;  // floats per batch
  /// Forward: the layout the layer writes its value in, null for NCHW.
  std::shared_ptr<DnnlLayout> out_layout;
};

namespace {

/// The layouts a primitive chose for its arguments.
struct Chosen {
  memory::desc src, src1, weights, dst, scratchpad;
};

template <typename Pd>
Chosen chosen_of(const Pd& pd) {
  return {pd.src_desc(), {}, pd.weights_desc(), pd.dst_desc(), pd.scratchpad_desc()};
}

/// The primitive's arguments: the caller's memory where the layouts agree,
/// else a place in the workspace and a reorder (made here once).
void connect(DnnlOp& op, const Chosen& chosen, const memory::desc& user_src,
             const memory::desc& user_src1, const memory::desc& user_dst) {
  const dnnl::engine& engine = cpu_engine();
  const auto place = [&](const memory::desc& md) {
    const std::int64_t offset = op.workspace;
    op.workspace += aligned_floats(md.get_size());
    return offset;
  };
  const auto attach = [&](DnnlPort& port, const memory::desc& user, const memory::desc& wanted,
                          bool input) {
    port.user = memory(user, engine, DNNL_MEMORY_NONE);
    port.inner = port.user;
    if (wanted == user) return;
    port.reorder = true;
    port.offset = place(wanted);
    port.inner = memory(wanted, engine, DNNL_MEMORY_NONE);
    port.move = input ? dnnl::reorder(port.user, port.inner) : dnnl::reorder(port.inner, port.user);
  };
  attach(op.src, user_src, chosen.src, true);
  if (!user_src1.is_zero()) attach(op.src1, user_src1, chosen.src1, true);
  attach(op.dst, user_dst, chosen.dst, false);
  op.scratchpad_offset = place(chosen.scratchpad);
  op.scratchpad = memory(chosen.scratchpad, engine, DNNL_MEMORY_NONE);
  op.args[DNNL_ARG_DST] = op.dst.inner;
  op.args[DNNL_ARG_SCRATCHPAD] = op.scratchpad;
  if (op.src1.user) {
    op.args[DNNL_ARG_SRC_0] = op.src.inner;
    op.args[DNNL_ARG_SRC_1] = op.src1.inner;
  } else {
    op.args[DNNL_ARG_SRC] = op.src.inner;
  }
}

/// Weights: the network's own when the layouts agree, else a copy in the
/// primitive's layout, made here once.
/// `owned`: always a copy (weight is a temporary).
memory weights_of(dnnl::stream& stream, const memory::desc& chosen, const memory::desc& user,
                  const float* weight, bool owned = false) {
  memory user_weight(user, cpu_engine(), const_cast<float*>(weight));
  if (chosen == user && !owned) return user_weight;
  memory weights(chosen, cpu_engine());
  dnnl::reorder(user_weight, weights).execute(stream, user_weight, weights);
  stream.wait();
  return weights;
}

dnnl::primitive_attr attr_of(bool relu) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

/// A convolution's far-side paddings in oneDNN's terms: negative where the
/// floor mode leaves the last rows or columns unread (a 1 x 1, stride-2
/// convolution on an even size), which oneDNN takes (ResNet's downsampling
/// convolutions ran hand-written before, cutting every block's run of
/// oneDNN layers at their input). A dilated kernel spans (k - 1) d + 1
/// inputs.
memory::dims conv_pads(const ConvGeometry& g) {
  return {far_pad(g.out_h, g.stride_h, (g.kernel_h - 1) * g.dilation_h + 1, g.in_h, g.pad_top),
          far_pad(g.out_w, g.stride_w, (g.kernel_w - 1) * g.dilation_w + 1, g.in_w, g.pad_left)};
}

/// The conv or dense layer L on batches of n: weights `weight` (the
/// network's W or |W|), with the layer's bias or none, relu fused or not,
/// reading `src` (NCHW / rows, or a kept layout; a dense layer reads a
/// kept 4-d value as it is, oneDNN ordering its weights to match) and
/// writing NCHW / rows, or (keep) the layout the primitive prefers. Throws
/// dnnl::error where oneDNN has no implementation.
void make_affine_op(DnnlOp& op, dnnl::stream& stream, const NnLayer& L, std::int64_t n,
                    const float* weight, bool with_bias, bool relu, memory::desc src,
                    bool keep) {
  const ConvGeometry& g = L.conv;
  const dnnl::engine& engine = cpu_engine();
  const bool conv = L.kind == LayerKind::conv;
  std::vector<float> permuted;
  const bool nhwc = src.dims().size() == 4 && src == memory::desc(src.dims(), dt::f32, tag::nhwc);
  const bool blocked = src.dims().size() == 4 && src.dims()[1] % 16 == 0 &&
                       src == memory::desc(src.dims(), dt::f32, tag::nChw16c);
  if (!conv && (nhwc || blocked)) {
    // A dense layer reading NHWC or nChw16c: each sample's values are a
    // row in [h][w][c] or [c / 16][h][w][16] order; the weight's columns,
    // in ONNX's NCHW flatten order [c][h][w], are permuted to match once
    // here, and the layer runs as a plain product on rows (oneDNN's 4-d
    // inner product on NHWC ran gemm:jit: 0.24 ms against brgemm's 0.09 ms
    // on rows for the embedded model's 1568 -> 64 layer, a slice of 64,
    // ONEDNN_VERBOSE).
    const memory::dims d = src.dims();
    const std::int64_t c = d[1], plane = d[2] * d[3], columns = c * plane;
    permuted.resize(static_cast<std::size_t>(g.out_c * columns));
    for (std::int64_t o = 0; o < g.out_c; ++o) {
      for (std::int64_t ch = 0; ch < c; ++ch) {
        for (std::int64_t p = 0; p < plane; ++p) {
          const std::int64_t at =
              nhwc ? p * c + ch : (ch / 16 * plane + p) * 16 + ch % 16;
          permuted[static_cast<std::size_t>(o * columns + at)] =
              weight[o * columns + ch * plane + p];
        }
      }
    }
    weight = permuted.data();
    src = memory::desc({n, columns}, dt::f32, tag::nc);
  }
  const bool src_4d = src.dims().size() == 4;
  memory::dims weight_dims, dst_dims;
  tag user_weight_tag, user_dst_tag;
  if (conv) {
    dst_dims = {n, g.out_c, g.out_h, g.out_w};
    if (g.groups == 1) {
      weight_dims = {g.out_c, g.in_c, g.kernel_h, g.kernel_w};
      user_weight_tag = tag::oihw;
    } else {
      // ONNX's [out_c, in_c / groups, kh, kw] is oneDNN's goihw in memory.
      weight_dims = {g.groups, g.out_c / g.groups, g.in_c / g.groups, g.kernel_h, g.kernel_w};
      user_weight_tag = tag::goihw;
    }
    user_dst_tag = tag::nchw;
  } else if (src_4d) {
    // Flatten order is NCHW's: the weight's columns are [c][h][w].
    const memory::dims d = src.dims();
    weight_dims = {g.out_c, d[1], d[2], d[3]};
    user_weight_tag = tag::oihw;
    dst_dims = {n, g.out_c};
    user_dst_tag = tag::nc;
  } else {
    weight_dims = {g.out_c, g.in_c};
    dst_dims = {n, g.out_c};
    user_weight_tag = tag::oi;
    user_dst_tag = tag::nc;
  }
  // A dense layer's plain input: oneDNN picks its layout (reordered into);
  // a kept one is read as it is. A convolution's: as below, reordered into
  // where the layout it comes in differs.
  const bool plain_src = src == memory::desc(src.dims(), dt::f32, src_4d ? tag::nchw : tag::nc);
  const memory::desc any_src(src.dims(), dt::f32, tag::any);
  // Convolutions read and write nChw16c where the channels fill its
  // blocks, except single samples of 64 channels or more: oneDNN 2.6 picks
  // NHWC (brgconv) when asked for any layout. On one thread (bench_nn, three
  // interleaved runs, CPU time) nChw16c (jit:avx512_core) ran the embedded
  // model (16 and 32 channels) 13 % faster at batch 1 and 20 % at 64, and
  // ResNet-18 3 % faster at batch 64, but NHWC ran ResNet-18 6 % faster at
  // batch 1 (23.3-24.5 ms against 25.3-25.4).
  const auto blocked16 = [&](std::int64_t channels, const memory::dims& dims) {
    const bool blocked = channels % 16 == 0 && (n > 1 || channels < 64);
    return conv && g.groups == 1 && blocked ? memory::desc(dims, dt::f32, tag::nChw16c)
                                            : memory::desc(dims, dt::f32, tag::any);
  };
  const memory::desc conv_src = blocked16(g.in_c, src.dims());
  const memory::desc& src_md = conv ? conv_src : plain_src ? any_src : src;
  const memory::desc any_weight(weight_dims, dt::f32, tag::any);
  const memory::desc any_dst = blocked16(g.out_c, dst_dims);
  const memory::desc bias_md({g.out_c}, dt::f32, tag::a);
  const memory::desc no_bias;
  const dnnl::primitive_attr attr = attr_of(relu);

  Chosen chosen;
  if (conv) {
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
        any_weight, with_bias ? bias_md : no_bias, any_dst, {g.stride_h, g.stride_w},
        {g.dilation_h - 1, g.dilation_w - 1}, {g.pad_top, g.pad_left}, conv_pads(g));
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    chosen = chosen_of(pd);
    op.primitive = dnnl::convolution_forward(pd);
  } else {
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src_md,
                                           any_weight, with_bias ? bias_md : no_bias, any_dst);
    const dnnl::inner_product_forward::primitive_desc pd(desc, attr, engine);
    chosen = chosen_of(pd);
    op.primitive = dnnl::inner_product_forward(pd);
  }
  const memory::desc user_dst = keep ? chosen.dst : memory::desc(dst_dims, dt::f32, user_dst_tag);
  connect(op, chosen, src, {}, user_dst);
  op.args[DNNL_ARG_WEIGHTS] = weights_of(
      stream, chosen.weights, memory::desc(weight_dims, dt::f32, user_weight_tag), weight,
      !permuted.empty());
  if (with_bias) {
    op.args.emplace(DNNL_ARG_BIAS, memory(bias_md, engine, const_cast<float*>(L.bias.data())));
  }
}

/// A pooling window's far-side paddings in oneDNN's terms, false where
/// oneDNN would not compute the layer's values: a window ending before the
/// input does, or a count_include_pad average whose ceil-mode window
/// overhangs the padding (oneDNN would divide by the whole kernel).
bool pool_pads(const NnLayer& L, memory::dims* padding_r) {
  if (L.kind == LayerKind::global_avg_pool) {
    *padding_r = {0, 0};
    return true;
  }
  const PoolGeometry& g = L.pool;
  const memory::dim bottom = far_pad(g.out_h, g.stride_h, g.kernel_h, g.in_h, g.pad_top);
  const memory::dim right = far_pad(g.out_w, g.stride_w, g.kernel_w, g.in_w, g.pad_left);
  if (bottom < 0 || right < 0) return false;
  if (L.kind == LayerKind::avg_pool && g.count_include_pad &&
      (bottom != g.pad_bottom || right != g.pad_right)) {
    return false;
  }
  *padding_r = {bottom, right};
  return true;
}

/// Relu, pooling or add on values in kept layouts (a: `src`, b: `src1`),
/// writing src's layout (keep) or NCHW.
bool make_layout_op(DnnlOp& op, const NnLayer& L, std::int64_t n, const memory::desc& src,
                    const memory::desc& src1, bool keep) {
  const dnnl::engine& engine = cpu_engine();
  const memory::desc any_dst(memory::dims{n, L.out_shape.c, L.out_shape.h, L.out_shape.w},
                             dt::f32, tag::any);
  Chosen chosen;
  switch (L.kind) {
    case LayerKind::relu: {
      const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference,
                                             dnnl::algorithm::eltwise_relu, src, 0.0f, 0.0f);
      const dnnl::eltwise_forward::primitive_desc pd(desc, attr_of(false), engine);
      chosen = {pd.src_desc(), {}, {}, pd.dst_desc(), pd.scratchpad_desc()};
      op.primitive = dnnl::eltwise_forward(pd);
      break;
    }
    case LayerKind::max_pool:
    case LayerKind::avg_pool:
    case LayerKind::global_avg_pool: {
      memory::dims padding_r;
      if (!pool_pads(L, &padding_r)) return false;
      const bool global = L.kind == LayerKind::global_avg_pool;
      const PoolGeometry& g = L.pool;
      const dnnl::algorithm algorithm =
          L.kind == LayerKind::max_pool ? dnnl::algorithm::pooling_max
          : !global && g.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                           : dnnl::algorithm::pooling_avg_exclude_padding;
      const memory::dims strides = global ? memory::dims{1, 1} : memory::dims{g.stride_h, g.stride_w};
      const memory::dims kernel = global ? memory::dims{L.in_shape.h, L.in_shape.w}
                                         : memory::dims{g.kernel_h, g.kernel_w};
      const memory::dims padding_l = global ? memory::dims{0, 0}
                                            : memory::dims{g.pad_top, g.pad_left};
      const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src,
                                             any_dst, strides, kernel, padding_l, padding_r);
      const dnnl::pooling_forward::primitive_desc pd(desc, attr_of(false), engine);
      chosen = {pd.src_desc(), {}, {}, pd.dst_desc(), pd.scratchpad_desc()};
      op.primitive = dnnl::pooling_forward(pd);
      break;
    }
    case LayerKind::add: {
      // Both operands in a's layout (b reordered into it where it differs).
      const dnnl::binary::desc desc(dnnl::algorithm::binary_add, src, src, any_dst);
      const dnnl::binary::primitive_desc pd(desc, attr_of(L.relu), engine);
      chosen = {pd.src0_desc(), pd.src1_desc(), {}, pd.dst_desc(), pd.scratchpad_desc()};
      op.primitive = dnnl::binary(pd);
      break;
    }
    default:
      return false;
  }
  connect(op, chosen, src, src1, keep ? chosen.dst : nchw_desc(n, L.out_shape));
  return true;
}

void run_op(DnnlOp& op, dnnl::stream& stream, const float* x, const float* x1, float* y,
            float* workspace) {
  const auto bind = [&](DnnlPort& port, const float* data) {
    port.user.set_data_handle(const_cast<float*>(data));
    if (port.reorder) port.inner.set_data_handle(workspace + port.offset);
  };
  bind(op.src, x);
  if (op.src1.user) bind(op.src1, x1);
  bind(op.dst, y);
  for (DnnlPort* in : {&op.src, &op.src1}) {
    if (in->reorder) in->move.execute(stream, in->user, in->inner);
  }
  op.scratchpad.set_data_handle(workspace + op.scratchpad_offset);
  op.primitive.execute(stream, op.args);
  if (op.dst.reorder) op.dst.move.execute(stream, op.dst.inner, op.dst.user);
}

/// Whether a layer can run on oneDNN reading a kept layout: the kinds
/// oneDNN has, in a geometry it computes as the hand-written path does.
bool takes_layout(const NnLayer& L) {
  switch (L.kind) {
    case LayerKind::conv:
    case LayerKind::dense:
    case LayerKind::relu:
    case LayerKind::add:
      return true;
    case LayerKind::max_pool:
    case LayerKind::avg_pool:
    case LayerKind::global_avg_pool: {
      memory::dims padding_r;
      return pool_pads(L, &padding_r);
    }
    default:
      return false;
  }
}

/// The forward layers of a walk over layers [0, count), runs of oneDNN
/// layers keeping their values in the layouts oneDNN prefers. Throws
/// dnnl::error where oneDNN has no implementation for one.
void plan_kept(const NnNetworkState& net, std::int64_t n, std::size_t count,
               std::vector<LayerPlan>& layers) {
  // A value may stay in a kept layout when every layer reading it takes
  // one, reading it in the shape it was written in (a dense layer reads
  // any shape: its flatten order is NCHW's), and the caller never sees it
  // (the walk's last value is the caller's output).
  std::vector<bool> keepable(count + 1, true);
  keepable[0] = false;
  keepable[count] = false;
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& L = net.layers[i];
    for (const std::int64_t read : layer_inputs(L)) {
      const auto r = static_cast<std::size_t>(read);
      if (r == 0 || r > count) continue;
      const nn::Shape& written = net.layers[r - 1].out_shape;
      const nn::Shape& read_as = L.kind == LayerKind::add ? L.out_shape : L.in_shape;
      if (!takes_layout(L) || (L.kind != LayerKind::dense && read_as != written)) {
        keepable[r] = false;
      }
    }
    if (L.kind == LayerKind::dense) keepable[i + 1] = false;  // rows: NCHW's already
  }
  std::vector<std::shared_ptr<DnnlLayout>> layouts(count + 1);
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& L = net.layers[i];
    LayerPlan& plan = layers[i];
    const DnnlLayout* a = layouts[static_cast<std::size_t>(L.a)].get();
    const DnnlLayout* b = L.b >= 0 ? layouts[static_cast<std::size_t>(L.b)].get() : nullptr;
    const bool affine = L.kind == LayerKind::conv || L.kind == LayerKind::dense;
    // Relu, pooling and add run on oneDNN where they read a kept layout,
    // hand-written on NCHW otherwise.
    if (!affine && (a == nullptr && b == nullptr)) continue;
    const bool keep = keepable[i + 1];
    auto layer = std::make_shared<DnnlLayer>();
    layer->relu = L.relu;
    layer->out_count = n * L.out_shape.size();
    const ConvGeometry& g = L.conv;
    const memory::desc src =
        a != nullptr                  ? a->md
        : L.kind == LayerKind::conv   ? nchw_desc(n, {g.in_c, g.in_h, g.in_w})
        : L.kind == LayerKind::dense  ? memory::desc({n, g.in_c}, dt::f32, tag::nc)
        : L.kind == LayerKind::add    ? nchw_desc(n, L.out_shape)
                                      : nchw_desc(n, L.in_shape);
    bool made = true;
    if (affine) {
      make_affine_op(layer->centre, layer->stream, L, n, L.weight.data(), true, L.relu, src, keep);
    } else {
      const memory::desc src1 = L.b < 0        ? memory::desc()
                                : b != nullptr ? b->md
                                               : nchw_desc(n, L.out_shape);
      made = make_layout_op(layer->centre, L, n, src, src1, keep);
    }
    if (!made) {
      // A pooling geometry oneDNN would compute otherwise: it reads NCHW
      // (takes_layout kept its inputs so) and runs hand-written.
      continue;
    }
    if (keep) {
      layer->out_layout = std::make_shared<DnnlLayout>();
      layer->out_layout->md = layer->centre.dst.user.get_desc();
      plan.out_floats = aligned_floats(layer->out_layout->md.get_size());
    }
    layouts[i + 1] = layer->out_layout;
    plan.workspace = layer->centre.workspace;
    plan.dnnl = std::move(layer);
  }
}

}  // namespace

bool dnnl_enabled() {
  // CUXPLAIN_NN_DNNL=0 keeps the hand-written path, for comparisons in one
  // process (bench/bench_nn.cpp); read when a network plans a batch size.
  const char* value = std::getenv("CUXPLAIN_NN_DNNL");
  return value == nullptr || std::string(value) != "0";
}

std::shared_ptr<DnnlLayer> dnnl_layer(const NnLayer& L, std::int64_t n, bool bounds,
                                      std::int64_t* workspace_floats) {
  *workspace_floats = 0;
  if (L.kind != LayerKind::conv && L.kind != LayerKind::dense) return nullptr;
  if (!dnnl_enabled()) return nullptr;
  auto layer = std::make_shared<DnnlLayer>();
  layer->bounds = bounds;
  layer->relu = L.relu;
  layer->in_count = n * L.in_shape.size();
  layer->out_count = n * L.out_shape.size();
  const ConvGeometry& g = L.conv;
  const memory::desc src = L.kind == LayerKind::conv
                               ? nchw_desc(n, {g.in_c, g.in_h, g.in_w})
                               : memory::desc({n, g.in_c}, dt::f32, tag::nc);
  try {
    make_affine_op(layer->centre, layer->stream, L, n, L.weight.data(), true, L.relu && !bounds,
                   src, false);
    if (bounds) {
      make_affine_op(layer->radius, layer->stream, L, n, L.abs_weight.data(), false, false, src,
                     false);
    }
  } catch (const dnnl::error&) {
    return nullptr;  // no implementation for this geometry: the hand-written path
  }
  // Bounds: the centres and radii of the input boxes, then either op's own
  // places (they run one after the other).
  const std::int64_t boxes = bounds ? 2 * aligned_floats(layer->in_count * sizeof(float)) : 0;
  *workspace_floats = boxes + std::max(layer->centre.workspace, layer->radius.workspace);
  return layer;
}

bool dnnl_plan_forward(const NnNetworkState& net, std::int64_t n, std::size_t count,
                       std::vector<LayerPlan>& layers) {
  if (!dnnl_enabled()) return false;
  try {
    layers.assign(count, LayerPlan{});
    plan_kept(net, n, count, layers);
    return true;
  } catch (const dnnl::error&) {
    return false;  // one layer has no implementation: layer by layer, NCHW between
  }
}

void dnnl_forward(DnnlLayer& layer, const float* a, const float* b, float* out,
                  float* workspace) {
  run_op(layer.centre, layer.stream, a, b, out, workspace);
  layer.stream.wait();
}

void dnnl_run(const Context& ctx, DnnlLayer& layer, const float* l, const float* u, float* lo,
              float* hi, float* workspace) {
  if (!layer.bounds) {
    dnnl_forward(layer, l, nullptr, lo, workspace);
    return;
  }
  float* centre = workspace;
  float* radius = centre + aligned_floats(layer.in_count * sizeof(float));
  float* rest = radius + aligned_floats(layer.in_count * sizeof(float));
  kernels::cpu::nn_centre_radius(ctx, l, u, layer.in_count, centre, radius);
  run_op(layer.centre, layer.stream, centre, nullptr, lo, rest);
  layer.stream.wait();
  run_op(layer.radius, layer.stream, radius, nullptr, hi, rest);
  layer.stream.wait();
  // lo holds W mu + b, hi |W| r: the epilogue with the bias already added.
  static const float zero = 0.0f;
  kernels::cpu::nn_bounds_epilogue(ctx, lo, hi, &zero, layer.relu, layer.out_count, 1);
}

}  // namespace cuxplain::detail

#else  // !CUXPLAIN_WITH_DNNL

#include "plan.hpp"

namespace cuxplain::detail {

struct DnnlLayer {};

bool dnnl_enabled() { return false; }

std::shared_ptr<DnnlLayer> dnnl_layer(const NnLayer&, std::int64_t, bool,
                                      std::int64_t* workspace_floats) {
  *workspace_floats = 0;
  return nullptr;
}

bool dnnl_plan_forward(const NnNetworkState&, std::int64_t, std::size_t,
                       std::vector<LayerPlan>&) {
  return false;
}

void dnnl_forward(DnnlLayer&, const float*, const float*, float*, float*) {}

void dnnl_run(const Context&, DnnlLayer&, const float*, const float*, float*, float*, float*) {}

}  // namespace cuxplain::detail

#endif
