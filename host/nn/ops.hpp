#pragma once
// The network ops beyond the affine layers, pools and add: activations,
// broadcast binary ops, concatenation, padding, transposition and softmax,
// forward and interval bounds, dispatched to kernels/nn.inl.
#include <cstdint>
#include <vector>

#include <cuxplain/core/context.hpp>

#include "state.hpp"

namespace cuxplain::detail {

/// Runs layer L on n samples: forward (lo ends only) or bounds. in_lo /
/// in_hi: the values the layer reads, in layer_inputs(L) order.
void run_layer_op(const Context& ctx, const NnLayer& L, const std::vector<const float*>& in_lo,
                  const std::vector<const float*>& in_hi, std::int64_t n, bool bounds, bool sound,
                  float* dst_lo, float* dst_hi);

}  // namespace cuxplain::detail
