#pragma once
// Convolutions and dense layers of the host backend on oneDNN (Debian's
// libdnnl-dev; CMake option CUXPLAIN_WITH_DNNL). A layer's primitive, its
// weights in the primitive's preferred layout and the memory objects it
// reads and writes are made once per batch size and kept with the network's
// execution (plan.hpp); a call only points them at its buffers. Activations
// stay NCHW between layers: a primitive that prefers a blocked layout gets
// its input and gives its output through reorders in its workspace.
// Without oneDNN every function here reports "not used".
#include <cstdint>
#include <memory>

#include <cuxplain/core/context.hpp>

#include "state.hpp"

namespace cuxplain::detail {

struct DnnlLayer;

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

/// Forward: lo = the layer on l. Bounds: [lo, hi] = the layer on the boxes
/// [l, u]. n samples, NCHW / rows; workspace: *workspace_floats floats,
/// 256-byte aligned. Not thread-safe on one DnnlLayer: each call holds its
/// execution alone (NnExecutionPool).
void dnnl_run(const Context& ctx, DnnlLayer& layer, const float* l, const float* u, float* lo,
              float* hi, float* workspace);

}  // namespace cuxplain::detail
