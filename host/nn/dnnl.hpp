#pragma once
// Convolutions and dense layers of the host backend on oneDNN (Debian's
// libdnnl-dev; CMake option CUXPLAIN_WITH_DNNL). A layer's primitive, its
// weights in the primitive's preferred layout and the memory objects it
// reads and writes are made once per batch size and kept with the network's
// execution (plan.hpp); a call only points them at its buffers.
//
// A forward walk keeps values in the layout oneDNN's primitives prefer
// (NHWC or nChw16c) across runs of oneDNN layers: convolutions (relu fused
// as a post-op, batch norms folded at build), relu, max / average / global
// average pooling and add (relu as a post-op) pass the layout on, and a
// dense layer reads it as it is (oneDNN orders its weights, whose columns
// are in ONNX's NCHW flatten order, to match, once). A value is reordered to
// NCHW only where a hand-written layer reads it; the walk's input and output
// (what a caller sees, a split network's included) are NCHW. Bounds walks
// run convolutions and dense layers alone on oneDNN, NCHW between layers,
// through reorders in their workspace. Without oneDNN every function here
// reports "not used".
#include <cstdint>
#include <memory>
#include <vector>

#include <cuxplain/core/context.hpp>

#include "state.hpp"

namespace cuxplain::detail {

struct DnnlLayer;
struct LayerPlan;

/// True when this build runs layers on oneDNN and the environment does not
/// turn it off (CUXPLAIN_NN_DNNL=0).
bool dnnl_enabled();

/// Conv or dense layer `layer` on oneDNN for batches of n, forward or
/// plain-mode bounds (W mu + b and |W| r as two convolutions, then the
/// interval epilogue), with the floats of workspace it needs in
/// *workspace_floats; null where the hand-written path runs the layer (no
/// oneDNN, another kind of layer, a geometry oneDNN does not take).
std::shared_ptr<DnnlLayer> dnnl_layer(const NnLayer& layer, std::int64_t n, bool bounds,
                                      std::int64_t* workspace_floats);

/// The layers of a forward walk over layers [0, count) of `net` on n
/// samples, keeping layouts as above: layers[i].dnnl set where layer i runs
/// on oneDNN, with its workspace and (a kept layout) the floats its value
/// takes. False where this build or the environment has no oneDNN, or one
/// layer has no oneDNN implementation (then layer by layer, NCHW between).
bool dnnl_plan_forward(const NnNetworkState& net, std::int64_t n, std::size_t count,
                       std::vector<LayerPlan>& layers);

/// A layer of a forward walk: out = the layer on a (and b for add), each in
/// the layout the plan gave it; workspace as the plan says.
void dnnl_forward(DnnlLayer& layer, const float* a, const float* b, float* out, float* workspace);

/// Forward: lo = the layer on l. Bounds: [lo, hi] = the layer on the boxes
/// [l, u]. n samples, NCHW / rows; workspace: *workspace_floats floats,
/// 256-byte aligned. Not thread-safe on one DnnlLayer: each call holds its
/// execution alone (NnExecutionPool).
void dnnl_run(const Context& ctx, DnnlLayer& layer, const float* l, const float* u, float* lo,
              float* hi, float* workspace);

}  // namespace cuxplain::detail
