#include "dnnl.hpp"

#if CUXPLAIN_WITH_DNNL

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "../../kernels/nn.hpp"

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

}  // namespace

/// One primitive with its arguments, made once.
struct DnnlOp {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  // The caller's NCHW (or rows) input and output, and where the primitive
  // wants them when its layout differs (a reorder through the workspace).
  memory user_src, user_dst, src, dst, scratchpad;
  bool reorder_src = false, reorder_dst = false;
  dnnl::reorder to_src, from_dst;
  std::int64_t src_offset = 0, dst_offset = 0, scratchpad_offset = 0;
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
};

namespace {

/// The primitive of layer L on batches of n: weights `weight` (the
/// network's W or |W|), with the layer's bias or none, relu fused or not.
/// Throws dnnl::error where oneDNN has no implementation.
bool make_op(DnnlOp& op, dnnl::stream& stream, const NnLayer& L, std::int64_t n,
             const float* weight, bool with_bias, bool relu) {
  const ConvGeometry& g = L.conv;
  const dnnl::engine& engine = cpu_engine();
  const bool conv = L.kind == LayerKind::conv;
  memory::dims src_dims, weight_dims, dst_dims;
  tag user_src_tag, user_weight_tag, user_dst_tag;
  if (conv) {
    src_dims = {n, g.in_c, g.in_h, g.in_w};
    dst_dims = {n, g.out_c, g.out_h, g.out_w};
    user_src_tag = tag::nchw;
    if (g.groups == 1) {
      weight_dims = {g.out_c, g.in_c, g.kernel_h, g.kernel_w};
      user_weight_tag = tag::oihw;
    } else {
      // ONNX's [out_c, in_c / groups, kh, kw] is oneDNN's goihw in memory.
      weight_dims = {g.groups, g.out_c / g.groups, g.in_c / g.groups, g.kernel_h, g.kernel_w};
      user_weight_tag = tag::goihw;
    }
    user_dst_tag = tag::nchw;
  } else {
    src_dims = {n, g.in_c};
    weight_dims = {g.out_c, g.in_c};
    dst_dims = {n, g.out_c};
    user_src_tag = tag::nc;
    user_weight_tag = tag::oi;
    user_dst_tag = tag::nc;
  }
  const memory::desc any_src(src_dims, dt::f32, tag::any);
  const memory::desc any_weight(weight_dims, dt::f32, tag::any);
  const memory::desc any_dst(dst_dims, dt::f32, tag::any);
  const memory::desc bias_md({g.out_c}, dt::f32, tag::a);
  const memory::desc no_bias;

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }

  memory::desc src_md, weight_md, dst_md, scratch_md;
  // The layouts the primitive chose, and the primitive.
  const auto take = [&](const auto& pd, auto primitive) {
    src_md = pd.src_desc();
    weight_md = pd.weights_desc();
    dst_md = pd.dst_desc();
    scratch_md = pd.scratchpad_desc();
    op.primitive = primitive;
  };
  if (conv) {
    // The padding oneDNN's output size formula needs on the far side (the
    // floor mode's unused rows and columns count as none).
    // A dilated kernel spans (k - 1) d + 1 inputs; oneDNN counts dilation
    // from 0 (d - 1).
    const memory::dim span_h = (g.kernel_h - 1) * g.dilation_h + 1;
    const memory::dim span_w = (g.kernel_w - 1) * g.dilation_w + 1;
    const memory::dim pad_bottom = (g.out_h - 1) * g.stride_h + span_h - g.in_h - g.pad_top;
    const memory::dim pad_right = (g.out_w - 1) * g.stride_w + span_w - g.in_w - g.pad_left;
    if (pad_bottom < 0 || pad_right < 0) return false;
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, any_src,
        any_weight, with_bias ? bias_md : no_bias, any_dst, {g.stride_h, g.stride_w},
        {g.dilation_h - 1, g.dilation_w - 1}, {g.pad_top, g.pad_left}, {pad_bottom, pad_right});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    take(pd, dnnl::convolution_forward(pd));
  } else {
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, any_src,
                                           any_weight, with_bias ? bias_md : no_bias, any_dst);
    const dnnl::inner_product_forward::primitive_desc pd(desc, attr, engine);
    take(pd, dnnl::inner_product_forward(pd));
  }

  // Weights: the network's own when the layouts agree, else a copy in the
  // primitive's layout, made here once.
  const memory::desc user_weight_md(weight_dims, dt::f32, user_weight_tag);
  memory user_weight(user_weight_md, engine, const_cast<float*>(weight));
  memory weights = user_weight;
  if (weight_md != user_weight_md) {
    weights = memory(weight_md, engine);
    dnnl::reorder(user_weight, weights).execute(stream, user_weight, weights);
    stream.wait();
  }

  op.user_src = memory(memory::desc(src_dims, dt::f32, user_src_tag), engine, DNNL_MEMORY_NONE);
  op.user_dst = memory(memory::desc(dst_dims, dt::f32, user_dst_tag), engine, DNNL_MEMORY_NONE);
  op.reorder_src = src_md != op.user_src.get_desc();
  op.reorder_dst = dst_md != op.user_dst.get_desc();
  const auto place = [&](const memory::desc& md) {
    const std::int64_t offset = op.workspace;
    op.workspace += aligned_floats(md.get_size());
    return offset;
  };
  op.src = op.user_src;
  op.dst = op.user_dst;
  if (op.reorder_src) {
    op.src_offset = place(src_md);
    op.src = memory(src_md, engine, DNNL_MEMORY_NONE);
    op.to_src = dnnl::reorder(op.user_src, op.src);
  }
  if (op.reorder_dst) {
    op.dst_offset = place(dst_md);
    op.dst = memory(dst_md, engine, DNNL_MEMORY_NONE);
    op.from_dst = dnnl::reorder(op.dst, op.user_dst);
  }
  op.scratchpad_offset = place(scratch_md);
  op.scratchpad = memory(scratch_md, engine, DNNL_MEMORY_NONE);
  op.args = {{DNNL_ARG_SRC, op.src},
             {DNNL_ARG_WEIGHTS, weights},
             {DNNL_ARG_DST, op.dst},
             {DNNL_ARG_SCRATCHPAD, op.scratchpad}};
  if (with_bias) {
    op.args.emplace(DNNL_ARG_BIAS,
                    memory(bias_md, engine, const_cast<float*>(L.bias.data())));
  }
  return true;
}

void run_op(DnnlOp& op, dnnl::stream& stream, const float* x, float* y, float* workspace) {
  op.user_src.set_data_handle(const_cast<float*>(x));
  op.user_dst.set_data_handle(y);
  if (op.reorder_src) {
    op.src.set_data_handle(workspace + op.src_offset);
    op.to_src.execute(stream, op.user_src, op.src);
  }
  if (op.reorder_dst) op.dst.set_data_handle(workspace + op.dst_offset);
  op.scratchpad.set_data_handle(workspace + op.scratchpad_offset);
  op.primitive.execute(stream, op.args);
  if (op.reorder_dst) op.from_dst.execute(stream, op.dst, op.user_dst);
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
  try {
    if (!make_op(layer->centre, layer->stream, L, n, L.weight.data(), true, L.relu && !bounds)) {
      return nullptr;
    }
    if (bounds && !make_op(layer->radius, layer->stream, L, n, L.abs_weight.data(), false, false)) {
      return nullptr;
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

void dnnl_run(const Context& ctx, DnnlLayer& layer, const float* l, const float* u, float* lo,
              float* hi, float* workspace) {
  if (!layer.bounds) {
    run_op(layer.centre, layer.stream, l, lo, workspace);
    layer.stream.wait();
    return;
  }
  float* centre = workspace;
  float* radius = centre + aligned_floats(layer.in_count * sizeof(float));
  float* rest = radius + aligned_floats(layer.in_count * sizeof(float));
  kernels::cpu::nn_centre_radius(ctx, l, u, layer.in_count, centre, radius);
  run_op(layer.centre, layer.stream, centre, lo, rest);
  layer.stream.wait();
  run_op(layer.radius, layer.stream, radius, hi, rest);
  layer.stream.wait();
  // lo holds W mu + b, hi |W| r: the epilogue with the bias already added.
  static const float zero = 0.0f;
  kernels::cpu::nn_bounds_epilogue(ctx, lo, hi, &zero, layer.relu, layer.out_count, 1);
}

}  // namespace cuxplain::detail

#else  // !CUXPLAIN_WITH_DNNL

namespace cuxplain::detail {

struct DnnlLayer {};

bool dnnl_enabled() { return false; }

std::shared_ptr<DnnlLayer> dnnl_layer(const NnLayer&, std::int64_t, bool,
                                      std::int64_t* workspace_floats) {
  *workspace_floats = 0;
  return nullptr;
}

void dnnl_run(const Context&, DnnlLayer&, const float*, const float*, float*, float*, float*) {}

}  // namespace cuxplain::detail

#endif
