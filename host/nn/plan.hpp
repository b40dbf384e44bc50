#pragma once
// The memory plan of a network walk: where execute() places its temporaries
// in one workspace, and what temporary_bytes() reports, from the same
// computation. Each intermediate value (its lower end, and its upper end for
// bounds) lives from the layer that writes it to the last layer that reads
// it; each layer's workspace (GEMM panels, or a oneDNN layer's reorders and
// scratchpad) lives while the layer runs. A value a forward keeps in a
// oneDNN layout takes that layout's size (blocked layouts pad channels).
// Places are reused first-fit once free.
//
// A host call runs in an NnExecution: the plan, its workspace and the
// oneDNN primitives of its layers, made on the first call of a walk and
// batch size and reused by the next ones (no allocation in the steady
// state), held by the network until it goes (state.hpp: NnExecutionPool).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>

#include "cudnn.hpp"
#include "dnnl.hpp"
#include "state.hpp"

namespace cuxplain::detail {

/// What a walk computes: forward values, or plain or sound interval bounds.
enum class Walk { forward, bounds, sound_bounds };

struct MemoryPlan {
  /// Per value (0: the input; the last layer's value goes to the caller):
  /// offsets in floats into the workspace, -1 when the walk keeps none.
  std::vector<std::int64_t> lo, hi;
  /// Per layer: the offset of its workspace, -1 when it needs none.
  std::vector<std::int64_t> workspace;
  /// The workspace's size.
  std::int64_t floats = 0;
};

/// How one layer of a walk runs: on oneDNN (dnnl set), on cuDNN (cudnn
/// set) or the hand-written path, the floats of workspace it needs while it
/// runs, and the floats of the value it writes where that is kept in
/// oneDNN's layout (blocked layouts pad channels; 0: NCHW, n times the
/// layer's output size).
struct LayerPlan {
  std::shared_ptr<DnnlLayer> dnnl;
  std::shared_ptr<const CudnnConv> cudnn;
  std::shared_ptr<const CudnnPool> cudnn_pool;
  std::int64_t workspace = 0;
  std::int64_t out_floats = 0;
};

/// The layers of a walk over layers [0, count) of `net` on n samples. oneDNN
/// runs layers on the host backend (when built with it): forward, runs of
/// convolutions, pooling, relu, add and dense layers in oneDNN's layouts
/// (dnnl.hpp); plain-mode bounds, convolutions and dense layers. cuDNN runs
/// convolutions on the CUDA backend (when built with it), forward and
/// plain-mode bounds (cudnn.hpp). Sound bounds keep their directed-rounding
/// loops.
std::vector<LayerPlan> plan_layers(const NnNetworkState& net, std::int64_t n, std::size_t count,
                                   Walk walk);

/// The memory plan of that walk, its layers run as `layers` says.
MemoryPlan plan_memory(const NnNetworkState& net, std::int64_t n, std::size_t count,
                       const std::vector<LayerPlan>& layers, Walk walk);

/// Lower and upper pointers of one value (upper unused by forward).
struct Value {
  const float* lo = nullptr;
  const float* hi = nullptr;
};

struct NnExecution {
  std::int64_t n = 0;
  std::size_t count = 0;
  Walk walk = Walk::forward;
  std::vector<LayerPlan> layers;
  MemoryPlan memory;
  Buffer<float> workspace;
  /// The walk's values during a call (count + 1).
  std::vector<Value> values;
  /// margin_upper_bounds: the lower and upper ends of the bounds it reads.
  Buffer<float> ends;
};

/// An execution of the walk for a call on ctx, held for the call: on the
/// host backend one the network keeps (taken out of its pool, or made, and
/// put back when the lease goes); on CUDA a fresh one, its workspace from
/// ctx's allocator on ctx's stream, freed after the call.
class ExecutionLease {
 public:
  ExecutionLease(const NnNetworkState& net, const Context& ctx, std::int64_t n, std::size_t count,
                 Walk walk);
  ~ExecutionLease();
  ExecutionLease(const ExecutionLease&) = delete;
  ExecutionLease& operator=(const ExecutionLease&) = delete;
  NnExecution& operator*() const { return *execution_; }
  NnExecution* operator->() const { return execution_.get(); }

 private:
  const NnNetworkState& net_;
  std::shared_ptr<NnExecution> execution_;
};

}  // namespace cuxplain::detail
