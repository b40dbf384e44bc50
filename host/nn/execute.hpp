#pragma once
// Running a built network: the walk over its layers (forward or interval
// bounds) in the workspace its memory plan lays out. Network's public calls
// check their arguments and come here; so does EVA, once per batch, with its
// targets already on the device.
#include <cstdint>

#include <cuxplain/core/context.hpp>

#include "state.hpp"

namespace cuxplain::detail {

/// margin_upper_bounds without its checks: `targets` (n class ids) on ctx's
/// device.
void network_margins(const NnNetworkState& net, const Context& ctx, const float* lower,
                     const float* upper, std::int64_t n, const int* targets, float* margins,
                     bool sound);

}  // namespace cuxplain::detail
