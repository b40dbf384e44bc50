#pragma once
// The memory plan of a network walk: where execute() places its temporaries
// in one workspace, and what temporary_bytes() reports, from the same
// computation. Each intermediate value (its lower end, and its upper end for
// bounds) lives from the layer that writes it to the last layer that reads
// it; each conv or dense layer's workspace lives while the layer runs.
// Places are reused first-fit once free.
#include <cstddef>
#include <cstdint>
#include <vector>

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

/// The plan of a walk over layers [0, count) of `net` on n samples.
MemoryPlan plan_memory(const NnNetworkState& net, std::int64_t n, std::size_t count, Walk walk);

}  // namespace cuxplain::detail
