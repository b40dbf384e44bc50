#pragma once
// cuxplain::nn: a feed-forward network built in C++ that runs forward and
// interval bound propagation (IBP) on both backends, batched.
//
//   nn::NetworkBuilder b;
//   auto x = b.input({1, 28, 28});
//   x = b.conv(x, 32, 3, 3, conv1_w, conv1_b);   // weight [out_c][in_c][kh][kw]
//   x = b.relu(x);
//   x = b.max_pool(x, {2, 2, 2, 2});
//   x = b.flatten(x);
//   x = b.dense(x, 10, fc_w, fc_b);              // weight [out][in], y = W x + b
//   nn::Network net = b.build(ctx, x);           // weights (and |W|) uploaded once
//   net.forward(ctx, images, n, logits);
//   net.bounds(ctx, lower, upper, n, out_lower, out_upper);
//   net.margin_upper_bounds(ctx, lower, upper, n, targets, margins);
//
// Weights use the PyTorch / ONNX layouts so that a model loader can hand them
// over unchanged.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/context.hpp"
#include "core/views.hpp"

namespace cuxplain::nn {
class Network;
}  // namespace cuxplain::nn

namespace cuxplain::detail {
struct NnBuilderState;
struct NnNetworkState;
/// The state behind a Network, for the library's own code (null when empty).
const NnNetworkState* network_state(const nn::Network& network);
}  // namespace cuxplain::detail

namespace cuxplain::nn {

/// Shape of one sample: C x H x W (a batch is NCHW, samples contiguous). A
/// flat vector of f features is f x 1 x 1.
struct Shape {
  std::int64_t c = 0;
  std::int64_t h = 1;
  std::int64_t w = 1;
  constexpr std::int64_t size() const { return c * h * w; }
  friend constexpr bool operator==(const Shape& a, const Shape& b) {
    return a.c == b.c && a.h == b.h && a.w == b.w;
  }
  friend constexpr bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
};

/// "C x H x W", as error messages and Network::summary() print shapes.
std::string to_string(const Shape& shape);

/// A node of a NetworkBuilder: the index of the call that created it.
using NodeId = std::int64_t;

/// Stride, zero padding, groups and dilation of a convolution. Pads as ONNX
/// orders them: [top, left, bottom, right]. With groups g, the input and
/// output channels split into g groups and output channel o reads only the
/// input channels of its group (g = channels: a depthwise convolution).
struct ConvParams {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t groups = 1;
  std::int64_t dilation_h = 1, dilation_w = 1;
};

/// Window, stride and padding of a pooling op (no dilation). Each pad must
/// be smaller than the kernel along its axis. Max pooling ignores padding;
/// average pooling divides by the number of input elements in the window
/// (ONNX's default) or, with count_include_pad, by kernel_h * kernel_w
/// (PyTorch's default), padding counting as zeros. ceil_mode rounds the
/// output extent up (as PyTorch and ONNX do: a last window that would start
/// past the input and its leading padding is dropped); the windows it adds
/// overhang the input and read only its part (with count_include_pad, the
/// divisor counts the window within the padded input).
struct PoolParams {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
  bool ceil_mode = false;
};

/// How pad() fills the border (ONNX Pad's modes): a constant, the mirror
/// image without repeating the edge (each pad smaller than the extent), or
/// the edge value repeated.
enum class PadMode { constant, reflect, edge };

/// Spatial padding: rows above and below, columns left and right.
struct PadParams {
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  PadMode mode = PadMode::constant;
  float value = 0.0f;
};

class Network;

/// Records a network node by node; every op takes the node(s) it reads and
/// returns the new node. Shapes are inferred and every argument is checked
/// when the node is added: a bad one throws cuxplain::Error naming the op,
/// the argument and its value (a weight count that does not match the
/// shape, a node id that does not exist, ...). Exactly one input node.
class NetworkBuilder {
 public:
  NetworkBuilder();
  ~NetworkBuilder();
  NetworkBuilder(const NetworkBuilder& other);
  NetworkBuilder& operator=(const NetworkBuilder& other);
  NetworkBuilder(NetworkBuilder&&) noexcept;
  NetworkBuilder& operator=(NetworkBuilder&&) noexcept;

  /// The network's input, one sample of `shape`.
  NodeId input(Shape shape);

  /// 2D convolution, groups = 1: weight [out_channels][in_channels][kernel_h]
  /// [kernel_w] (in_channels from x's shape), bias [out_channels] or empty
  /// (zeros).
  NodeId conv(NodeId x, std::int64_t out_channels, std::int64_t kernel_h, std::int64_t kernel_w,
              std::vector<float> weight, std::vector<float> bias = {},
              const ConvParams& params = {});

  /// Fully connected y = W x + b (ONNX Gemm with transB = 1, or MatMul + Add):
  /// weight [out_features][in_features] with in_features = x's size (any
  /// shape is read flattened, in C-H-W order), bias [out_features] or empty.
  /// The output is a flat vector out_features x 1 x 1.
  NodeId dense(NodeId x, std::int64_t out_features, std::vector<float> weight,
               std::vector<float> bias = {});

  /// Batch normalization (inference): y = gamma (x - mean) / sqrt(var + eps)
  /// + beta per channel (the features of a flat vector). build() folds it
  /// into the preceding conv or dense layer when that layer feeds nothing
  /// else; otherwise it runs as a per-channel affine op.
  NodeId batch_norm(NodeId x, std::vector<float> gamma, std::vector<float> beta,
                    std::vector<float> mean, std::vector<float> var, float epsilon = 1e-5f);

  NodeId relu(NodeId x);
  NodeId max_pool(NodeId x, const PoolParams& params);
  NodeId avg_pool(NodeId x, const PoolParams& params);
  /// Mean over each channel's H x W plane: C x 1 x 1.
  NodeId global_avg_pool(NodeId x);
  /// C x H x W -> (C*H*W) x 1 x 1; no data moves.
  NodeId flatten(NodeId x);
  /// Same elements, another shape of the same size; no data moves.
  NodeId reshape(NodeId x, Shape shape);
  /// Elementwise a + b: of the same shape (a residual connection), or with
  /// b broadcast over a (each extent of b is a's or 1, e.g. C x 1 x 1).
  NodeId add(NodeId a, NodeId b);
  /// Elementwise a - b and a * b, b broadcast over a as for add (a * b with
  /// b = C x 1 x 1 is a squeeze-and-excitation gate).
  NodeId sub(NodeId a, NodeId b);
  NodeId mul(NodeId a, NodeId b);

  /// y = scale[c] x + shift[c] per channel (the features of a flat vector):
  /// an arithmetic op with a constant (add, subtract, multiply, divide by a
  /// per-channel or scalar constant) as a per-channel affine map.
  NodeId channel_affine(NodeId x, std::vector<float> scale, std::vector<float> shift);

  /// Elementwise activations (ONNX's definitions): min(max(x, min), max)
  /// (ReLU6 is clip(x, 0, 6)); x for x >= 0, alpha x below; 1 / (1 + e^-x);
  /// tanh; max(0, min(1, alpha x + beta)) with alpha >= 0; x hard_sigmoid(x)
  /// with alpha = 1/6, beta = 1/2; x sigmoid(x).
  NodeId clip(NodeId x, float min, float max);
  NodeId leaky_relu(NodeId x, float alpha);
  NodeId sigmoid(NodeId x);
  NodeId tanh(NodeId x);
  NodeId hard_sigmoid(NodeId x, float alpha, float beta);
  NodeId hard_swish(NodeId x);
  NodeId silu(NodeId x);

  /// The inputs stacked along channels (equal H x W), in order.
  NodeId concat(const std::vector<NodeId>& inputs);
  /// Spatial padding of every channel plane.
  NodeId pad(NodeId x, const PadParams& params);
  /// The sample's axes permuted: output axis k is input axis perm[k]
  /// (C, H, W = 0, 1, 2), e.g. {2, 0, 1} turns H x W x C into C x H x W.
  NodeId transpose(NodeId x, const std::vector<std::int64_t>& perm);
  /// Softmax over the features of a flat vector (F x 1 x 1).
  NodeId softmax(NodeId x);

  /// Shape of a node's output.
  Shape shape(NodeId node) const;
  /// Nodes added so far.
  std::int64_t size() const;

  /// The network computing `output` from the input node, prepared for ctx:
  /// batch norms folded where possible, a relu fused into the op before it
  /// when that op feeds nothing else, nodes `output` does not depend on
  /// dropped, weights and their absolute values copied to ctx's device once.
  /// Synchronizes ctx's stream once (the uploads), so that the network may
  /// then run on any stream of the same device. The weights are freed on
  /// ctx's stream when the last copy of the Network goes: keep that stream
  /// alive until then. The builder is unchanged.
  Network build(const Context& ctx, NodeId output) const;

  /// The part of the network that computes `output` from node `from`: the
  /// value of `from` is the new network's input (input_shape() =
  /// shape(from)), and nothing before it is part of the network. This splits
  /// a network at an intermediate node into g (input -> split) and h
  /// (split -> output), as concept extraction (CRAFT) needs:
  ///
  ///   nn::Network g = b.build(ctx, split);          // activations
  ///   nn::Network h = b.build(ctx, split, output);  // activations -> logits
  ///
  /// h.forward(g.forward(x)) is build(ctx, output).forward(x) up to float
  /// rounding where folding or fusion differs across the cut: nothing folds
  /// or fuses into `from` (a batch norm right after it runs as a per-channel
  /// affine op, a relu as its own layer). Interval propagation works op by
  /// op, so h.bounds of g.bounds are the whole network's bounds, up to the
  /// same rounding (in sound mode both enclose the exact outputs). from == output
  /// gives the identity (no layers: the calls copy their input). Throws
  /// cuxplain::Error when either node does not exist, when `from` comes after
  /// `output`, when `output` does not depend on `from`, or when it depends
  /// on the builder's input other than through `from` (a residual connection
  /// around the cut), naming the node ids. build(ctx, input, output), with
  /// the builder's input node, is build(ctx, output).
  Network build(const Context& ctx, NodeId from, NodeId output) const;

 private:
  std::unique_ptr<cuxplain::detail::NnBuilderState> state_;
};

/// Options of Network::bounds and Network::margin_upper_bounds.
struct BoundsOptions {
  /// Sound float32 bounds: every operation of the propagation rounds
  /// outward (CUDA: the __fmaf_rd / __fmaf_ru, __fadd_rd / __fadd_ru,
  /// __fdiv_rd / __fdiv_ru intrinsics; host: the same correctly rounded
  /// results, computed exactly in double with an error-free TwoSum and
  /// stepped one ulp when the nearest float lies on the wrong side: each
  /// operation gives the same bits on both backends). The bounds then contain the exact
  /// real-valued output of the network as stored (folded float parameters)
  /// for every real input in the box. Cost: affine layers run a direct
  /// loop / tiled kernel instead of (cu)BLAS, two directed fmas per weight
  /// and output (the host emulation is an order of magnitude slower than
  /// BLAS, the CUDA kernel several times slower than cuBLAS). Widening: at
  /// most one ulp per operation, accumulating along each dot product (about
  /// K ulps of the largest partial sum for a K-term sum), plus the per-op
  /// rounding of averages, adds and batch-norm affines.
  /// Plain mode (false) rounds to nearest: bounds are exact up to float
  /// rounding (a few ulps), not guaranteed.
  bool sound = false;
  /// Check that lower <= upper, both finite, for every element before
  /// propagating; on CUDA this reads one flag back and synchronizes ctx's
  /// stream once. Turn off to keep the call fully asynchronous.
  bool check_boxes = true;
};

/// An immutable network on one Context's device, made by
/// NetworkBuilder::build. Copies share the weights; every call is const and
/// may run concurrently with others on different streams.
///
/// Every pointer is on the device of ctx, which must have the backend and
/// device the network was built for (any stream). Inputs hold n samples of
/// input_shape() (NCHW, contiguous); outputs n samples of output_shape().
/// Outputs must not overlap the inputs or each other. CUDA calls enqueue on
/// ctx.stream() and do not synchronize (except the box check of
/// BoundsOptions). Outputs are written only when the call succeeds.
///
/// Memory: temporaries come from ctx's allocator (cuxplain::Buffer), laid
/// out in one workspace per call: each intermediate activation (two for
/// bounds: lower and upper) lives from the op that writes it to the last op
/// that reads it, so the workspace is n times the largest sum of live
/// activation sizes (a chain holds two at a time), plus convolution and
/// dense workspace bounded per op independently of n (batches are walked in
/// chunks: about 4 x 2^22 floats, 64 MiB, for bounds; half for forward).
/// On the host backend the network keeps that workspace after the call (with
/// the layers' oneDNN primitives and reordered weights, which come from
/// oneDNN's own allocator) and reuses it for the next call of the same kind
/// and batch size, so that repeated calls allocate nothing: a few such
/// executions stay, each used by one call at a time (concurrent calls each
/// take their own), all freed with the last copy of the Network. A host
/// forward walks a large batch in even slices whose activations fit in
/// cache (a workspace per slice size). CUDA calls
/// allocate theirs from ctx's stream-ordered allocator on each call.
/// temporary_bytes(n) bounds what the calls on batches of n allocate, kept
/// executions included.
class Network {
 public:
  Network();

  /// True for a default-constructed Network (every other call then throws).
  bool empty() const;

  Shape input_shape() const;
  Shape output_shape() const;
  Backend backend() const;
  /// CUDA device ordinal the weights live on, -1 on the host backend.
  int device() const;
  /// One line per op after folding and fusion, with shapes.
  std::string summary() const;
  /// True when the last op is a dense layer (possibly with folded batch
  /// norms, without a fused relu): margin_upper_bounds then folds the
  /// margins into it. Otherwise it subtracts output bounds.
  bool folds_margins() const;
  /// Upper bound of the bytes that forward, bounds (both modes) and
  /// margin_upper_bounds (both modes) allocate from ctx's allocator for
  /// batches of n, together: on the host backend each kind of call keeps its
  /// workspace for the next one (see Memory above).
  std::size_t temporary_bytes(std::int64_t n) const;

  /// output (n x output_shape()) = the network on input (n x input_shape()).
  void forward(const Context& ctx, const float* input, std::int64_t n, float* output) const;

  /// Interval bound propagation of n boxes [lower, upper] (elementwise,
  /// n x input_shape() each) to out_lower, out_upper (n x output_shape()).
  /// Affine ops (conv, dense, average pools, batch norm, per-channel affine
  /// maps) map the box in centre-radius form, mu' = W mu + b, r' = |W| r,
  /// with |W| computed once by build(); relu, clip, leaky relu (alpha >= 0),
  /// sigmoid, tanh, hard sigmoid and max pooling are monotone and map lower
  /// and upper ends elementwise; hard swish, silu and leaky relu with
  /// alpha < 0 fall then rise: the upper bound is the larger end value, the
  /// lower one the function's least value when its argmin lies in the box;
  /// add and sub combine the ends, mul takes the extreme corner products;
  /// concat, pad and transpose move both ends; softmax bounds output i by
  /// e^l_i / (e^l_i + sum_{j!=i} e^u_j) and e^u_i / (e^u_i + sum_{j!=i} e^l_j). With lower == upper the bounds are
  /// the forward pass (up to rounding in plain mode; in sound mode they
  /// bracket the exact value). Cost: about two forward passes.
  void bounds(const Context& ctx, const float* lower, const float* upper, std::int64_t n,
              float* out_lower, float* out_upper, const BoundsOptions& options = {}) const;

  /// For each box i and output j: margins[i * K + j] >= max over the box of
  /// f_j(x) - f_{targets[i]}(x), K = output_shape().size(); 0 for
  /// j = targets[i]. When folds_margins(), the margin is propagated through
  /// the last dense layer as one affine map (W_j - W_c, b_j - b_c), which is
  /// never looser than upper_j - lower_c from bounds() (and usually much
  /// tighter); otherwise it is that difference. targets: n class ids in
  /// [0, K), host memory. Cost: bounds() up to the last layer, then
  /// n x K x (inputs of the last layer) folded terms.
  void margin_upper_bounds(const Context& ctx, const float* lower, const float* upper,
                           std::int64_t n, HostSpan<const int> targets, float* margins,
                           const BoundsOptions& options = {}) const;

 private:
  friend class NetworkBuilder;
  friend const cuxplain::detail::NnNetworkState* cuxplain::detail::network_state(
      const Network& network);
  explicit Network(std::shared_ptr<const cuxplain::detail::NnNetworkState> state);
  std::shared_ptr<const cuxplain::detail::NnNetworkState> state_;
};

}  // namespace cuxplain::nn
