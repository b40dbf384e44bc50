#include "plan.hpp"

#include <algorithm>
#include <iterator>
#include <map>

#include "affine.hpp"

namespace cuxplain::detail {
namespace {

/// Places are multiples of 64 floats (256 bytes), so that each starts as
/// aligned as an allocation of its own.
constexpr std::int64_t kAlignment = 64;

std::int64_t aligned(std::int64_t floats) {
  return (floats + kAlignment - 1) / kAlignment * kAlignment;
}

/// First-fit placement in a workspace that grows at its end.
class Arena {
 public:
  std::int64_t place(std::int64_t floats) {
    floats = aligned(floats);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second < floats) continue;
      const std::int64_t offset = it->first, left = it->second - floats;
      free_.erase(it);
      if (left > 0) free_[offset + floats] = left;
      return offset;
    }
    // None fits: the last free place grows when it reaches the end.
    std::int64_t offset = end_;
    if (!free_.empty()) {
      const auto last = std::prev(free_.end());
      if (last->first + last->second == end_) {
        offset = last->first;
        free_.erase(last);
      }
    }
    end_ = std::max(end_, offset + floats);
    return offset;
  }

  void release(std::int64_t offset, std::int64_t floats) {
    floats = aligned(floats);
    auto it = free_.emplace(offset, floats).first;
    const auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      const auto previous = std::prev(it);
      if (previous->first + previous->second == it->first) {
        previous->second += it->second;
        free_.erase(it);
      }
    }
  }

  std::int64_t size() const { return end_; }

 private:
  std::map<std::int64_t, std::int64_t> free_;  // offset -> size
  std::int64_t end_ = 0;
};

/// Executions a host network keeps idle: a Sobol or EVA run calls with one
/// batch size and a last, smaller batch, for forward and bounds at most.
constexpr std::size_t kIdleExecutions = 8;

std::int64_t hand_written_workspace(const NnLayer& layer, std::int64_t n, Walk walk) {
  if (walk == Walk::sound_bounds) return 0;  // direct loops / tiles, no GEMM panels
  const bool bounds = walk == Walk::bounds;
  if (layer.kind == LayerKind::conv) return conv_workspace_floats(layer.conv, n, bounds);
  if (layer.kind == LayerKind::dense) return dense_workspace_floats(layer.conv, n, bounds);
  return 0;
}

}  // namespace

std::vector<LayerPlan> plan_layers(const NnNetworkState& net, std::int64_t n, std::size_t count,
                                   Walk walk) {
  std::vector<LayerPlan> layers(count);
  if (walk == Walk::forward && net.backend == Backend::host &&
      dnnl_plan_forward(net, n, count, layers)) {
    for (std::size_t i = 0; i < count; ++i) {
      if (!layers[i].dnnl) layers[i].workspace = hand_written_workspace(net.layers[i], n, walk);
    }
    return layers;
  }
  layers.assign(count, LayerPlan{});
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& layer = net.layers[i];
    if (walk != Walk::sound_bounds && net.backend == Backend::host) {
      layers[i].dnnl = dnnl_layer(layer, n, walk == Walk::bounds, &layers[i].workspace);
      if (layers[i].dnnl) continue;
    }
    if (walk != Walk::sound_bounds && net.backend == Backend::cuda) {
      layers[i].cudnn = cudnn_conv(net, i, n, walk == Walk::bounds, &layers[i].workspace);
      if (layers[i].cudnn) continue;
      layers[i].cudnn_pool = cudnn_pool(net, i, n);
    }
    layers[i].workspace = hand_written_workspace(layer, n, walk);
  }
  return layers;
}

MemoryPlan plan_memory(const NnNetworkState& net, std::int64_t n, std::size_t count,
                       const std::vector<LayerPlan>& layers, Walk walk) {
  MemoryPlan plan;
  plan.lo.assign(count + 1, -1);
  plan.hi.assign(count + 1, -1);
  plan.workspace.assign(count, -1);
  std::vector<std::int64_t> floats(count + 1, 0);
  std::vector<bool> live(count + 1, false);
  const bool bounds = walk != Walk::forward;
  Arena arena;
  for (std::size_t i = 0; i < count; ++i) {
    const NnLayer& layer = net.layers[i];
    const std::size_t v = i + 1;
    if (i + 1 < count) {
      floats[v] = layers[i].out_floats > 0 ? layers[i].out_floats : n * layer.out_shape.size();
      plan.lo[v] = arena.place(floats[v]);
      if (bounds) plan.hi[v] = arena.place(floats[v]);
      live[v] = true;
    }
    const std::int64_t workspace = layers[i].workspace;
    if (workspace > 0) {
      plan.workspace[i] = arena.place(workspace);
      arena.release(plan.workspace[i], workspace);
    }
    for (const std::int64_t read : layer_inputs(layer)) {
      const auto r = static_cast<std::size_t>(read);
      if (read <= 0 || net.last_use[r] != static_cast<std::int64_t>(i) || !live[r]) continue;
      arena.release(plan.lo[r], floats[r]);
      if (bounds) arena.release(plan.hi[r], floats[r]);
      live[r] = false;  // an add or concat may read one value twice
    }
  }
  plan.floats = arena.size();
  return plan;
}

namespace {

std::shared_ptr<NnExecution> make_execution(const NnNetworkState& net, const Context& ctx,
                                            std::int64_t n, std::size_t count, Walk walk) {
  auto execution = std::make_shared<NnExecution>();
  execution->n = n;
  execution->count = count;
  execution->walk = walk;
  execution->layers = plan_layers(net, n, count, walk);
  execution->memory = plan_memory(net, n, count, execution->layers, walk);
  execution->workspace =
      Buffer<float>(ctx, execution->memory.floats, "the workspace of a network call");
  return execution;
}

}  // namespace

ExecutionLease::ExecutionLease(const NnNetworkState& net, const Context& ctx, std::int64_t n,
                               std::size_t count, Walk walk)
    : net_(net) {
  if (net.backend == Backend::host) {
    std::lock_guard<std::mutex> lock(net.executions.mutex);
    auto& idle = net.executions.idle;
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      const NnExecution& e = **it;
      if (e.n != n || e.count != count || e.walk != walk) continue;
      execution_ = std::move(*it);
      idle.erase(it);
      return;
    }
  }
  execution_ = make_execution(net, ctx, n, count, walk);
}

ExecutionLease::~ExecutionLease() {
  if (net_.backend != Backend::host) return;
  std::lock_guard<std::mutex> lock(net_.executions.mutex);
  auto& idle = net_.executions.idle;
  // The newest first; the oldest goes when too many are kept.
  idle.insert(idle.begin(), std::move(execution_));
  if (idle.size() > kIdleExecutions) idle.pop_back();
}

}  // namespace cuxplain::detail
