// Fuzz target: an ONNX model from arbitrary bytes. read_onnx either accepts
// it or throws cuxplain::Error; anything else escaping (another exception,
// a crash, a sanitizer report) is a defect. A model it accepts must build on
// the host backend, at every tensor it lists too, and, when small, run a
// forward pass, interval bounds and margins that write every output.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

namespace {

using cuxplain::Context;
using cuxplain::Error;
namespace nn = cuxplain::nn;

/// A NaN whose payload no arithmetic on finite inputs produces: an output
/// still holding it was never written.
float poison() {
  const std::uint32_t bits = 0x7fa5a5a5u;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

bool poisoned(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits == 0x7fa5a5a5u;
}

/// A broken invariant: says which, then aborts (libFuzzer keeps the input).
#define REQUIRE(cond)                                                           \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

/// Small enough to run many times a second: inputs, outputs and temporaries.
bool small(const nn::Network& net, std::int64_t n) {
  return net.input_shape().size() <= 4096 && net.output_shape().size() <= 4096 &&
         net.temporary_bytes(n) <= (std::size_t{1} << 20);
}

/// Runs forward, bounds and margins on a fixed batch when the network is
/// small: every output written, margins 0 at the targets, and, with
/// check_order, lower <= upper. Returns whether it ran with finite bounds.
bool run(const Context& ctx, const nn::Network& net, bool check_order) {
  constexpr std::int64_t n = 2;
  if (!small(net, n)) return false;
  const std::int64_t in = net.input_shape().size(), out = net.output_shape().size();
  std::vector<float> x(static_cast<std::size_t>(n * in));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 17) / 16.0f;
  std::vector<float> y(static_cast<std::size_t>(n * out), poison());
  net.forward(ctx, x.data(), n, y.data());
  for (float v : y) REQUIRE(!poisoned(v));

  std::vector<float> lower(x), upper(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    lower[i] -= 0.05f;
    upper[i] += 0.05f;
  }
  std::vector<float> out_lower(y.size(), poison()), out_upper(y.size(), poison());
  net.bounds(ctx, lower.data(), upper.data(), n, out_lower.data(), out_upper.data());
  bool finite = true;
  for (std::size_t i = 0; i < y.size(); ++i) {
    REQUIRE(!poisoned(out_lower[i]) && !poisoned(out_upper[i]));
    finite = finite && std::isfinite(out_lower[i]) && std::isfinite(out_upper[i]);
    if (check_order) REQUIRE(out_lower[i] <= out_upper[i]);
  }

  const std::vector<int> targets{0, static_cast<int>(out - 1)};
  std::vector<float> margins(y.size(), poison());
  net.margin_upper_bounds(ctx, lower.data(), upper.data(), n, targets, margins.data());
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < out; ++j) {
      const float m = margins[static_cast<std::size_t>(i * out + j)];
      REQUIRE(!poisoned(m));
      if (j == targets[static_cast<std::size_t>(i)]) REQUIRE(m == 0.0f);
    }
  }
  return finite;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nn::OnnxModel model;
  try {
    model = nn::read_onnx(data, size, "fuzz.onnx");
  } catch (const Error&) {
    return 0;
  }
  const Context ctx = Context::host();
  nn::Network net;
  try {
    net = model.builder.build(ctx, model.output);
  } catch (const Error&) {
    return 0;
  }
  // Errors from here on are defects: the network was built from a model
  // read_onnx accepted, and the calls pass valid arguments. The network is
  // split at each tensor (g up to it, h from it; a residual connection
  // around the tensor is an error of its own). Bounds are ordered when every
  // value along the way is finite: activations that overflow make NaNs
  // (inf - inf) that relu and max pooling treat differently at the two
  // ends. So the order is checked when g's bounds are finite at every tensor.
  constexpr std::size_t kMaxSplits = 16;
  bool finite = model.tensors.size() <= kMaxSplits;
  for (std::size_t t = 0; t < model.tensors.size() && t < kMaxSplits; ++t) {
    const nn::NodeId at = model.tensors[t].second;
    finite = run(ctx, model.builder.build(ctx, at), false) && finite;
    nn::Network h;
    try {
      h = model.builder.build(ctx, at, model.output);
    } catch (const Error&) {
      continue;
    }
    run(ctx, h, false);
  }
  run(ctx, net, finite);
  // Read with a channels-last input as NCHW, the same graph behind a
  // transpose: refused only for an input that is not N x H x W x C, and
  // then built and run as the model was.
  nn::OnnxModel nchw;
  try {
    nchw = nn::read_onnx(data, size, "fuzz.onnx", nn::OnnxInput::channels_last_as_nchw);
  } catch (const Error&) {
    return 0;
  }
  run(ctx, nchw.builder.build(ctx, nchw.output), false);
  return 0;
}
