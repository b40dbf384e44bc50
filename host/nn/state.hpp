#pragma once
// What a NetworkBuilder records and what build() lowers it to: the state
// behind nn::NetworkBuilder and nn::Network, shared by the nn layer's files
// (builder.cpp records and checks, lowering.cpp builds, plan.cpp places the
// temporaries, execute.cpp runs).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

namespace cuxplain::detail {

struct CudnnNetwork;  // cudnn.hpp

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
  add,
  channel_affine,
  activation,
  binary,
  concat,
  pad,
  transpose,
  softmax
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
  ActivationParams activation;     // activation
  BinaryOp op = BinaryOp::add;     // binary: a op b, b broadcast over a
  std::vector<nn::NodeId> inputs;  // concat: every input, in order
  PadGeometry pad;                 // pad
  TransposeGeometry transpose;     // transpose
};

/// Every node a node reads (a, b, or a concatenation's inputs).
inline std::vector<nn::NodeId> node_inputs(const NnNode& node) {
  if (node.kind == NodeKind::concat) return node.inputs;
  std::vector<nn::NodeId> out;
  if (node.a >= 0) out.push_back(node.a);
  if (node.b >= 0) out.push_back(node.b);
  return out;
}

struct NnBuilderState {
  std::vector<NnNode> nodes;
  nn::NodeId input = -1;
};

enum class LayerKind {
  conv,
  dense,
  channel_affine,
  relu,
  max_pool,
  avg_pool,
  global_avg_pool,
  add,
  activation,
  binary,
  concat,
  pad,
  transpose,
  softmax
};

/// One op of a built network. Values: 0 is the network's input, layer i
/// writes value i + 1; a and b are the values it reads.
struct NnLayer {
  LayerKind kind = LayerKind::relu;
  std::int64_t a = -1, b = -1;
  nn::Shape in_shape, out_shape;
  bool relu = false;
  ConvGeometry conv;  // conv; dense as dense_geometry
  PoolGeometry pool;  // max_pool, avg_pool
  ActivationParams activation;  // activation
  BinaryOp op = BinaryOp::add;  // binary: b (of shape broadcast) over a
  Broadcast broadcast;
  std::vector<std::int64_t> more;          // concat: the values it reads after a
  std::vector<std::int64_t> concat_sizes;  // concat: each input's size per sample
  PadGeometry pad;
  TransposeGeometry transpose;
  // On the network's device. conv / dense: weight, |weight|, bias.
  // channel_affine: weight = scale, bias = shift.
  Buffer<float> weight, abs_weight, bias;
  std::string description;
};

/// Every value a layer reads (a, b, then a concatenation's others).
inline std::vector<std::int64_t> layer_inputs(const NnLayer& layer) {
  std::vector<std::int64_t> out{layer.a};
  if (layer.b >= 0) out.push_back(layer.b);
  out.insert(out.end(), layer.more.begin(), layer.more.end());
  return out;
}

/// What a host call needs besides the weights, for one walk and batch size:
/// its memory plan, the workspace laid out by it and the primitives of the
/// layers that run on oneDNN (plan.hpp). Made on a network's first call of
/// that kind and size, then reused.
struct NnExecution;

/// The executions of a host network that no call is using. A call takes
/// one out under the mutex (or makes one when none fits), runs without the
/// lock and puts it back, so that concurrent calls never share a workspace;
/// at most a few stay (plan.cpp), all freed with the network.
struct NnExecutionPool {
  std::mutex mutex;
  std::vector<std::shared_ptr<NnExecution>> idle;
  /// Whether forwards run in slices of the batch (the hand-written path:
  /// execute.cpp, forward_slice): -1 until the network's first forward (or
  /// temporary_bytes) decides it, from CUXPLAIN_NN_DNNL then, so that every
  /// later call finds the executions that call planned.
  int slices = -1;
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
  /// Host backend only: CUDA calls take their workspace from the stream's
  /// allocator on each call (stream-ordered, pooled by the driver).
  mutable NnExecutionPool executions;
  /// CUDA backend with cuDNN: the handle and the conv layers' descriptors
  /// (cudnn.hpp); null otherwise.
  std::shared_ptr<CudnnNetwork> cudnn;
};


/// The network computing `output` from node `from` of the builder's record
/// (lowering.cpp; both ids checked by the caller, from <= output).
std::shared_ptr<const NnNetworkState> lower_network(const NnBuilderState& st, const Context& ctx,
                                                    nn::NodeId from, nn::NodeId output);

}  // namespace cuxplain::detail
