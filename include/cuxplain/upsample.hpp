#pragma once
// Cell scores to full-resolution heatmaps.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Resizes n grids of grid_h x grid_w cells (x channels, channel fastest) to
/// n x h x w (x channels) heatmaps with half-pixel centres: bicubic (Keys
/// convolution, a = -0.75, edge clamped: OpenCV's INTER_CUBIC) or nearest.
void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,
              Interpolation method = Interpolation::bicubic, std::int64_t channels = 1);

}  // namespace cuxplain
