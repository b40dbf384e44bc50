#pragma once
// Reading networks from ONNX files into cuxplain::nn.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/context.hpp"
#include "nn.hpp"

namespace cuxplain::nn {

/// A network as read from an ONNX model, before it is built for a Context:
/// the builder holds every supported node, `output` is the graph's output.
struct OnnxModel {
  NetworkBuilder builder;
  NodeId output = -1;
  std::string input_name;
  std::string output_name;
  /// Opset of the default ONNX domain the model declares.
  std::int64_t opset = 0;
  /// Every tensor the network computes, by its ONNX name, with the builder
  /// node that holds it, in graph order: the graph input first (the
  /// network's input node; with OnnxInput::channels_last_as_nchw that is
  /// the N x C x H x W input ahead of the transpose), then each
  /// node's output (the graph output included). Identity and Dropout outputs
  /// name the node of their input. A MatMul whose output only feeds the Add
  /// of its bias has no node of its own (the bias is folded into the dense
  /// layer) and is not listed; the Add's output is.
  std::vector<std::pair<std::string, NodeId>> tensors;

  /// The builder node of the tensor called `name`, e.g. to split the network
  /// there with builder.build(ctx, node(name)) and
  /// builder.build(ctx, node(name), output). Throws cuxplain::Error listing
  /// the available names (with their shapes) when no tensor has that name.
  NodeId node(const std::string& name) const;
};

/// How the network takes its input. as_exported: as the graph input is
/// (N x C x H x W, N x F, or N x H x W x C for a channels-last model, whose
/// Transpose then runs inside the network). channels_last_as_nchw: the graph
/// input is N x H x W x C (channels last, as Keras models are exported) and
/// the network takes the same images as N x C x H x W, transposed to the
/// graph's layout by its first layer, so that it reads images as NCHW
/// models do (EVA, the CLI); a graph input of another rank is an error.
enum class OnnxInput { as_exported, channels_last_as_nchw };

/// Reads an ONNX model with one float input of shape N x C x H x W (or N x F,
/// or N x H x W x C followed by a Transpose; see OnnxInput) and one output. Supported ops:
/// Conv (groups, dilation), Gemm, MatMul (+ Add of a constant), Relu, Clip,
/// LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, x * Sigmoid(x) (SiLU),
/// Add / Sub / Mul of two tensors (the second broadcast over the first) or
/// with a constant that broadcasts to the tensor's shape (a scalar, one value
/// per channel, or per element of any axes, such as the [1, 1, 1, C] of a
/// channels-last normalization; Div too, by its reciprocal),
/// MaxPool and AveragePool (ceil_mode included; Conv and the pools with
/// explicit pads or auto_pad VALID, SAME_UPPER, SAME_LOWER), GlobalAveragePool,
/// ReduceMean over H and W, Concat along channels, Pad of H and W, Transpose
/// of the axes after the batch, Flatten, Reshape, Squeeze, Unsqueeze, Softmax
/// over N x F, BatchNormalization, and the inference no-ops Identity and
/// Dropout. Shape computations on constants (Shape, Gather, Unsqueeze,
/// Squeeze, Concat, Reshape, Slice, Transpose, Cast, ConstantOfShape and
/// arithmetic) are folded while reading, the batch size left open. Weights
/// must be float initializers (or Constant nodes). Throws cuxplain::Error
/// naming the file, the node and the op or attribute for anything else, and
/// for malformed files: a directory, an unreadable or truncated file, one
/// larger than the 2 GiB protobuf parses (checked before it is read), a node
/// without the inputs its op needs, an attribute of the wrong type, a
/// constant whose dims are negative, overflow 64 bits or disagree with the
/// data it holds, or a weight whose dims do not fit the layer's input.
OnnxModel read_onnx(const std::string& path, OnnxInput input = OnnxInput::as_exported);

/// The same from a serialized model in memory; `name` appears in errors.
OnnxModel read_onnx(const void* data, std::size_t size, const std::string& name = "<memory>",
                    OnnxInput input = OnnxInput::as_exported);

/// read_onnx(path, input) built for ctx.
Network load_onnx(const Context& ctx, const std::string& path,
                  OnnxInput input = OnnxInput::as_exported);

/// A network cut at one tensor: g computes the tensor from the input, h the
/// output from the tensor, so that h(g(x)) is the whole network's output.
struct SplitNetwork {
  Network g, h;
};

/// read_onnx(path, input) split at the tensor called `tensor` (a name listed in
/// OnnxModel::tensors, e.g. the output of a pooling layer for CRAFT's
/// activations) and built for ctx: g = builder.build(ctx, node),
/// h = builder.build(ctx, node, output); see NetworkBuilder::build for how
/// the two compose. Throws cuxplain::Error when no tensor has that name
/// (listing the names) and when the output depends on the input other than
/// through the tensor (a residual connection around it).
SplitNetwork load_onnx_split(const Context& ctx, const std::string& path,
                             const std::string& tensor, OnnxInput input = OnnxInput::as_exported);

/// True when this cuxplain was built with ONNX support (Debian's libonnx).
bool onnx_available();

}  // namespace cuxplain::nn
