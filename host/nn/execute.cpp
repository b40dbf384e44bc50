// cuxplain::nn::Network: the checks of its calls, and the walk that runs its
// layers on either backend (forward or interval bounds) in one workspace
// laid out by the memory plan (plan.hpp), which temporary_bytes() reports.
#include "execute.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nn.hpp>
#include <cuxplain/nn.hpp>

#include <algorithm>
#include <limits>
#include <utility>
#include <sstream>

#include "../../kernels/dispatch.hpp"
#include "../../kernels/nn.hpp"
#include "../core/validate.hpp"
#include "affine.hpp"
#include "ops.hpp"
#include "plan.hpp"

namespace cuxplain {
namespace detail {
namespace {

Walk walk_of(bool bounds, bool sound) {
  return !bounds ? Walk::forward : sound ? Walk::sound_bounds : Walk::bounds;
}

/// Runs layers [0, count) on n samples: forward (bounds = false, `in.lo` ->
/// `out_lo`) or interval propagation. Layer count - 1 writes out_lo / out_hi;
/// the others write their places in the plan's workspace.
void execute(const NnNetworkState& net, const Context& ctx, std::int64_t n, bool bounds,
             bool sound, Value in, std::size_t count, float* out_lo, float* out_hi,
             const ExecutionLease& execution) {
  const MemoryPlan& plan = execution->memory;
  float* const workspace = execution->workspace.data();
  const auto at = [&](std::int64_t offset) { return offset < 0 ? nullptr : workspace + offset; };
  std::vector<Value>& values = execution->values;
  values.assign(count + 1, Value{});
  values[0] = in;
  const Rounding lo_rounding = sound ? Rounding::down : Rounding::nearest;
  const Rounding hi_rounding = sound ? Rounding::up : Rounding::nearest;
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& L = net.layers[i];
    const std::size_t v = i + 1;
    float* dst_lo = i + 1 < count ? at(plan.lo[v]) : out_lo;
    float* dst_hi = i + 1 < count ? at(plan.hi[v]) : out_hi;
    float* scratch = at(plan.workspace[i]);
    const Value a = values[static_cast<std::size_t>(L.a)];
    const Value b = L.b >= 0 ? values[static_cast<std::size_t>(L.b)] : Value{};
    const std::int64_t out_count = n * L.out_shape.size();
    if (!bounds) {
      if (DnnlLayer* dnnl = execution->layers[i].dnnl.get()) {
        // A forward layer on oneDNN, its values in the layouts of the plan.
        dnnl_forward(*dnnl, a.lo, b.lo, dst_lo, scratch);
        values[v] = {dst_lo, nullptr};
        continue;
      }
    }
    switch (L.kind) {
      case LayerKind::conv:
      case LayerKind::dense: {
        const bool conv = L.kind == LayerKind::conv;
        if (DnnlLayer* dnnl = execution->layers[i].dnnl.get()) {
          dnnl_run(ctx, *dnnl, a.lo, a.hi, dst_lo, dst_hi, scratch);
        } else if (const CudnnConv* cudnn = execution->layers[i].cudnn.get()) {
          cudnn_run(ctx, net, *cudnn, a.lo, a.hi, dst_lo, dst_hi, scratch);
        } else if (bounds && sound) {
          CUXPLAIN_DISPATCH(ctx, nn_affine_bounds_sound, L.conv, L.weight.data(), L.bias.data(),
                            L.relu, a.lo, a.hi, n, dst_lo, dst_hi);
        } else if (bounds) {
          (conv ? conv_bounds : dense_bounds)(ctx, L.conv, L.weight.data(), L.abs_weight.data(),
                                              L.bias.data(), L.relu, a.lo, a.hi, n, dst_lo,
                                              dst_hi, scratch);
        } else if (conv) {
          conv_forward(ctx, L.conv, L.weight.data(), L.bias.data(), L.relu, a.lo, n, dst_lo,
                       scratch);
        } else {
          dense_forward(ctx, L.conv, L.weight.data(), L.bias.data(), L.relu, a.lo, n, dst_lo);
        }
        break;
      }
      case LayerKind::channel_affine: {
        const std::int64_t plane = L.out_shape.h * L.out_shape.w;
        if (!bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_channel_affine, L.out_shape.c, plane, L.weight.data(),
                            L.bias.data(), L.relu, a.lo, n, dst_lo);
        } else {
          CUXPLAIN_DISPATCH(ctx, nn_channel_affine_bounds, L.out_shape.c, plane, L.weight.data(),
                            L.bias.data(), L.relu, sound, a.lo, a.hi, n, dst_lo, dst_hi);
        }
        break;
      }
      case LayerKind::relu:
        CUXPLAIN_DISPATCH(ctx, nn_relu, a.lo, out_count, dst_lo);
        if (bounds) CUXPLAIN_DISPATCH(ctx, nn_relu, a.hi, out_count, dst_hi);
        break;
      case LayerKind::max_pool:
      case LayerKind::avg_pool:
        if (const CudnnPool* pool = execution->layers[i].cudnn_pool.get()) {
          cudnn_pool_run(ctx, net, *pool, a.lo, dst_lo);
          if (bounds) cudnn_pool_run(ctx, net, *pool, a.hi, dst_hi);
        } else if (L.kind == LayerKind::max_pool) {
          CUXPLAIN_DISPATCH(ctx, nn_max_pool, L.pool, a.lo, n, dst_lo);
          if (bounds) CUXPLAIN_DISPATCH(ctx, nn_max_pool, L.pool, a.hi, n, dst_hi);
        } else {
          CUXPLAIN_DISPATCH(ctx, nn_avg_pool, L.pool, lo_rounding, a.lo, n, dst_lo);
          if (bounds) CUXPLAIN_DISPATCH(ctx, nn_avg_pool, L.pool, hi_rounding, a.hi, n, dst_hi);
        }
        break;
      case LayerKind::global_avg_pool: {
        const std::int64_t plane = L.in_shape.h * L.in_shape.w;
        CUXPLAIN_DISPATCH(ctx, nn_global_avg_pool, L.in_shape.c, plane, lo_rounding, a.lo, n,
                          dst_lo);
        if (bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_global_avg_pool, L.in_shape.c, plane, hi_rounding, a.hi, n,
                            dst_hi);
        }
        break;
      }
      case LayerKind::add:
        CUXPLAIN_DISPATCH(ctx, nn_add, a.lo, b.lo, out_count, L.relu, lo_rounding, dst_lo);
        if (bounds) {
          CUXPLAIN_DISPATCH(ctx, nn_add, a.hi, b.hi, out_count, L.relu, hi_rounding, dst_hi);
        }
        break;
      default: {  // activations, binary ops, concat, pad, transpose, softmax (ops.cpp)
        std::vector<const float*> in_lo, in_hi;
        for (const std::int64_t read : layer_inputs(L)) {
          in_lo.push_back(values[static_cast<std::size_t>(read)].lo);
          in_hi.push_back(values[static_cast<std::size_t>(read)].hi);
        }
        run_layer_op(ctx, L, in_lo, in_hi, n, bounds, sound, dst_lo, dst_hi);
        break;
      }
    }
    values[v] = {dst_lo, dst_hi};
  }
}

/// Samples per slice of a host forward on the hand-written path: the batch
/// split evenly into the fewest slices whose widest layer output stays
/// within 2^20 floats (4 MiB, the order of a core's L2 cache); the whole
/// batch when fewer than 32 samples would fit (weights are then better
/// reused across the batch). With NCHW between layers, the embedded model
/// (16 x 28 x 28 after its first conv: slices of 64) ran a batch of 256
/// about 1.9x faster in slices than whole; on ResNet-18 (64 x 112 x 112),
/// slices of 8 ran 1.6x slower (bench_nn, 1 thread). A forward on oneDNN,
/// its values kept in oneDNN's layouts, runs the whole batch: in slices of
/// 64 the embedded model's batch of 256 took 4.8-5.1 ms against 4.5-4.7 ms
/// whole (1 thread, three interleaved runs, load 5-6), and each slice adds
/// an OpenMP barrier per layer with more threads. The path is the one the
/// network's first forward took (NnExecutionPool::slices).
std::int64_t forward_slice(const NnNetworkState& net, std::int64_t n) {
  {
    std::lock_guard<std::mutex> lock(net.executions.mutex);
    int& slices = net.executions.slices;
    if (slices < 0) slices = dnnl_enabled() ? 0 : 1;
    if (slices == 0) return n;
  }
  std::int64_t widest = net.input_shape.size();
  for (const NnLayer& layer : net.layers) widest = std::max(widest, layer.out_shape.size());
  const std::int64_t most = (std::int64_t{1} << 20) / widest;
  if (most < 32) return n;
  const std::int64_t slices = (n + most - 1) / most;
  return (n + slices - 1) / slices;
}

/// Network output for inputs `in`: the layers, or a copy when the output is
/// the input itself.
void run_all(const NnNetworkState& net, const Context& ctx, std::int64_t n, bool bounds,
             bool sound, Value in, float* out_lo, float* out_hi) {
  if (net.output_value == 0) {
    const std::size_t bytes = static_cast<std::size_t>(n * net.input_shape.size()) * sizeof(float);
    CUXPLAIN_DISPATCH(ctx, copy_on_device, out_lo, in.lo, bytes);
    if (bounds) CUXPLAIN_DISPATCH(ctx, copy_on_device, out_hi, in.hi, bytes);
    return;
  }
  const std::size_t count = net.layers.size();
  if (!bounds && net.backend == Backend::host) {
    // Forward on the host: on the hand-written path in slices of the batch
    // whose activations stay in cache (forward_slice).
    const std::int64_t slice = forward_slice(net, n);
    const std::int64_t in_size = net.input_shape.size(), out_size = net.output_shape.size();
    for (std::int64_t s0 = 0; s0 < n; s0 += slice) {
      const std::int64_t m = std::min(slice, n - s0);
      const ExecutionLease execution(net, ctx, m, count, Walk::forward);
      execute(net, ctx, m, false, false, {in.lo + s0 * in_size, nullptr}, count,
              out_lo + s0 * out_size, nullptr, execution);
    }
    return;
  }
  const ExecutionLease execution(net, ctx, n, count, walk_of(bounds, sound));
  execute(net, ctx, n, bounds, sound, in, count, out_lo, out_hi, execution);
}

/// n x `floats` lower and upper ends kept with the execution (made on its
/// first use), for the bounds that margins read.
std::pair<float*, float*> ends_of(const ExecutionLease& execution, const Context& ctx,
                                  std::int64_t floats) {
  Buffer<float>& ends = execution->ends;
  if (ends.size() < 2 * floats) ends = Buffer<float>(ctx, 2 * floats, "the bounds margins read");
  return {ends.data(), ends.data() + floats};
}

}  // namespace

const NnNetworkState* network_state(const nn::Network& network) { return network.state_.get(); }

void network_margins(const NnNetworkState& net, const Context& ctx, const float* lower,
                     const float* upper, std::int64_t n, const int* targets, float* margins,
                     bool sound) {
  if (net.folds_margins) {
    // Bounds of the last dense layer's input, then the folded margins.
    const NnLayer& last = net.layers.back();
    const std::size_t before = net.layers.size() - 1;
    Value in{lower, upper};
    if (before > 0) {
      const ExecutionLease execution(net, ctx, n, before, walk_of(true, sound));
      const auto [lo, hi] = ends_of(execution, ctx, n * last.in_shape.size());
      execute(net, ctx, n, true, sound, {lower, upper}, before, lo, hi, execution);
      in = {lo, hi};
    }
    CUXPLAIN_DISPATCH(ctx, nn_margins_folded, last.conv.in_c, last.conv.out_c, last.weight.data(),
                      last.bias.data(), sound, in.lo, in.hi, n, targets, margins);
    return;
  }
  const std::int64_t classes = net.output_shape.size();
  const std::size_t count = net.layers.size();
  const ExecutionLease execution(net, ctx, n, count, walk_of(true, sound));
  const auto [lo, hi] = ends_of(execution, ctx, n * classes);
  if (net.output_value == 0) {  // the output is the input
    const std::size_t bytes = static_cast<std::size_t>(n * classes) * sizeof(float);
    CUXPLAIN_DISPATCH(ctx, copy_on_device, lo, lower, bytes);
    CUXPLAIN_DISPATCH(ctx, copy_on_device, hi, upper, bytes);
  } else {
    execute(net, ctx, n, true, sound, {lower, upper}, count, lo, hi, execution);
  }
  CUXPLAIN_DISPATCH(ctx, nn_margins_from_bounds, classes, sound, lo, hi, n, targets, margins);
}

}  // namespace detail

namespace nn {
namespace {

using cuxplain::detail::LayerKind;
using cuxplain::detail::MemoryPlan;
using cuxplain::detail::NnLayer;
using cuxplain::detail::NnNetworkState;
using cuxplain::detail::Walk;

const NnNetworkState& state_of(const std::shared_ptr<const NnNetworkState>& state,
                               const char* call) {
  CUXPLAIN_EXPECTS(state != nullptr, call,
                   ": the network is empty (default-constructed); make it with NetworkBuilder::build");
  return *state;
}

const char* backend_name(Backend backend) { return backend == Backend::cuda ? "CUDA" : "host"; }

void expect_context(const NnNetworkState& net, const Context& ctx, const char* call) {
  CUXPLAIN_EXPECTS(ctx.backend() == net.backend, call, ": the network was built for the ",
                   backend_name(net.backend), " backend but ctx is ", backend_name(ctx.backend()));
  CUXPLAIN_EXPECTS(ctx.device() == net.device, call, ": the network's weights are on CUDA device ",
                   net.device, " but ctx is on device ", ctx.device());
}

void expect_batch(const NnNetworkState& net, std::int64_t n, const char* call) {
  CUXPLAIN_EXPECTS(n >= 1, call, ": n must be >= 1, got ", n);
  std::int64_t widest = std::max(net.input_shape.size(), net.output_shape.size());
  for (const NnLayer& layer : net.layers) widest = std::max(widest, layer.out_shape.size());
  CUXPLAIN_EXPECTS(n <= std::numeric_limits<std::int64_t>::max() / 8 / widest, call, ": n = ", n,
                   " samples of up to ", widest, " floats overflow 64-bit sizes");
}

void check_boxes(const Context& ctx, const float* lower, const float* upper, std::int64_t count,
                 const char* call) {
  const std::int64_t bad = CUXPLAIN_DISPATCH(ctx, nn_first_inverted, lower, upper, count);
  if (bad < 0) return;
  float lo = 0.0f, hi = 0.0f;
  copy_to_host(ctx, &lo, lower + bad, sizeof lo);
  copy_to_host(ctx, &hi, upper + bad, sizeof hi);
  CUXPLAIN_FAIL(call, ": lower[", bad, "] = ", lo, " and upper[", bad, "] = ", hi,
                " do not form a box (finite lower <= upper is required)");
}

void expect_bounds_arguments(const NnNetworkState& net, const Context& ctx, const float* lower,
                             const float* upper, std::int64_t n, const BoundsOptions& options,
                             const char* call) {
  expect_context(net, ctx, call);
  expect_batch(net, n, call);
  cuxplain::detail::expect_on_device(ctx, lower, cuxplain::detail::concat(call, ": lower").c_str());
  cuxplain::detail::expect_on_device(ctx, upper, cuxplain::detail::concat(call, ": upper").c_str());
  if (options.check_boxes) check_boxes(ctx, lower, upper, n * net.input_shape.size(), call);
}

/// Floats of the workspace of the walk over layers [0, count).
std::int64_t workspace_floats(const NnNetworkState& net, std::int64_t n, std::size_t count,
                              Walk walk) {
  return cuxplain::detail::plan_memory(net, n, count,
                                       cuxplain::detail::plan_layers(net, n, count, walk), walk)
      .floats;
}

}  // namespace

Network::Network() = default;
Network::Network(std::shared_ptr<const NnNetworkState> state) : state_(std::move(state)) {}

bool Network::empty() const { return state_ == nullptr; }
Shape Network::input_shape() const { return state_of(state_, "input_shape").input_shape; }
Shape Network::output_shape() const { return state_of(state_, "output_shape").output_shape; }
Backend Network::backend() const { return state_of(state_, "backend").backend; }
int Network::device() const { return state_of(state_, "device").device; }
bool Network::folds_margins() const { return state_of(state_, "folds_margins").folds_margins; }

std::string Network::summary() const {
  const NnNetworkState& net = state_of(state_, "summary");
  std::ostringstream out;
  out << "input " << to_string(net.input_shape) << "\n";
  for (const NnLayer& layer : net.layers) out << layer.description << "\n";
  out << "output " << to_string(net.output_shape)
      << (net.output_value == 0 ? " (the input)" : "") << "\n";
  return out.str();
}

std::size_t Network::temporary_bytes(std::int64_t n) const {
  const NnNetworkState& net = state_of(state_, "temporary_bytes");
  CUXPLAIN_EXPECTS(n >= 1, "temporary_bytes: n must be >= 1, got ", n);
  const std::size_t layers = net.layers.size();
  const auto bytes = [](std::int64_t floats) { return static_cast<std::size_t>(floats) * 4; };
  // Per kind of call: forward, bounds in both modes, margin_upper_bounds in
  // both modes (the walk before a folded dense layer, or the whole walk, and
  // the bounds it reads).
  // Forward: host calls run in slices, keeping a full slice's execution and
  // the last, shorter one's.
  std::size_t forward = bytes(workspace_floats(net, n, layers, Walk::forward));
  if (net.backend == Backend::host && layers > 0) {
    const std::int64_t slice = cuxplain::detail::forward_slice(net, n);
    forward = bytes(workspace_floats(net, slice, layers, Walk::forward));
    if (n % slice != 0) forward += bytes(workspace_floats(net, n % slice, layers, Walk::forward));
  }
  std::vector<std::size_t> calls = {forward,
                                    bytes(workspace_floats(net, n, layers, Walk::bounds)),
                                    bytes(workspace_floats(net, n, layers, Walk::sound_bounds))};
  const std::size_t margin_ends =
      bytes(2 * n * (net.folds_margins ? net.layers.back().in_shape.size()
                                       : net.output_shape.size()));
  for (const Walk walk : {Walk::bounds, Walk::sound_bounds}) {
    if (!net.folds_margins) {
      calls.push_back(margin_ends + bytes(workspace_floats(net, n, layers, walk)));
    } else if (layers > 1) {
      calls.push_back(margin_ends + bytes(workspace_floats(net, n, layers - 1, walk)));
    }
  }
  std::size_t peak = 0;
  if (net.backend == Backend::host) {
    // Each kind keeps its execution (plan.hpp): they add up (unfolded
    // margins share the bounds' execution of their mode: counted twice).
    for (const std::size_t c : calls) peak += c;
  } else {
    // Freed after each call; margins copy the targets (n ints) first.
    for (const std::size_t c : calls) peak = std::max(peak, c);
    peak += static_cast<std::size_t>(n) * sizeof(int);
  }
  // The CUDA box check's flag and allocator rounding of small requests.
  return peak + 256;
}

void Network::forward(const Context& ctx, const float* input, std::int64_t n,
                      float* output) const {
  const NnNetworkState& net = state_of(state_, "forward");
  expect_context(net, ctx, "forward");
  expect_batch(net, n, "forward");
  cuxplain::detail::expect_on_device(ctx, input, "forward: input");
  cuxplain::detail::expect_on_device(ctx, output, "forward: output");
  cuxplain::detail::run_all(net, ctx, n, false, false, {input, nullptr}, output, nullptr);
}

void Network::bounds(const Context& ctx, const float* lower, const float* upper, std::int64_t n,
                     float* out_lower, float* out_upper, const BoundsOptions& options) const {
  const NnNetworkState& net = state_of(state_, "bounds");
  expect_bounds_arguments(net, ctx, lower, upper, n, options, "bounds");
  cuxplain::detail::expect_on_device(ctx, out_lower, "bounds: out_lower");
  cuxplain::detail::expect_on_device(ctx, out_upper, "bounds: out_upper");
  CUXPLAIN_EXPECTS(out_lower != out_upper, "bounds: out_lower and out_upper are the same buffer");
  cuxplain::detail::run_all(net, ctx, n, true, options.sound, {lower, upper}, out_lower,
                            out_upper);
}

void Network::margin_upper_bounds(const Context& ctx, const float* lower, const float* upper,
                                  std::int64_t n, HostSpan<const int> targets, float* margins,
                                  const BoundsOptions& options) const {
  const char* call = "margin_upper_bounds";
  const NnNetworkState& net = state_of(state_, call);
  expect_context(net, ctx, call);
  expect_batch(net, n, call);
  const std::int64_t classes = net.output_shape.size();
  CUXPLAIN_EXPECTS(static_cast<std::int64_t>(targets.size()) == n, call, ": targets has ",
                   targets.size(), " entries but n = ", n);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    CUXPLAIN_EXPECTS(targets[i] >= 0 && targets[i] < classes, call, ": targets[", i, "] = ",
                     targets[i], " is outside [0, ", classes, ")");
  }
  cuxplain::detail::expect_on_device(ctx, margins, "margin_upper_bounds: margins");
  expect_bounds_arguments(net, ctx, lower, upper, n, options, call);

  if (ctx.backend() == Backend::host) {  // host memory is the device's
    cuxplain::detail::network_margins(net, ctx, lower, upper, n, targets.data(), margins,
                                      options.sound);
    return;
  }
  Buffer<int> device_targets(ctx, n, "the targets of margin_upper_bounds");
  copy_to_device(ctx, device_targets.data(), targets.data(),
                 static_cast<std::size_t>(n) * sizeof(int));
  cuxplain::detail::network_margins(net, ctx, lower, upper, n, device_targets.data(), margins,
                                    options.sound);
}

}  // namespace nn
}  // namespace cuxplain
