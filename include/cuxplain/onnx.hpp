#pragma once
// Reading networks from ONNX files into cuxplain::nn.
#include <cstddef>
#include <string>

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
};

/// Reads an ONNX model with one float input of shape N x C x H x W (or N x F)
/// and one output. Supported ops: Conv (groups = 1, no dilation), Gemm,
/// MatMul (+ Add of a constant), Relu, MaxPool, AveragePool,
/// GlobalAveragePool, Flatten, Reshape, BatchNormalization, Add, and the
/// inference no-ops Identity and Dropout. Weights must be float initializers
/// (or Constant nodes). Throws cuxplain::Error naming the file, the node and
/// the op or attribute for anything else, and for unreadable or truncated
/// files.
OnnxModel read_onnx(const std::string& path);

/// The same from a serialized model in memory; `name` appears in errors.
OnnxModel read_onnx(const void* data, std::size_t size, const std::string& name = "<memory>");

/// read_onnx(path) built for ctx.
Network load_onnx(const Context& ctx, const std::string& path);

/// True when this cuxplain was built with ONNX support (Debian's libonnx).
bool onnx_available();

}  // namespace cuxplain::nn
