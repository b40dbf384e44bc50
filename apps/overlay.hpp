#pragma once
// Heatmap overlays: cell scores drawn over the image they explain.
#include <array>
#include <cstdint>
#include <vector>

#include "image_io.hpp"

namespace cuxplain::cli {

/// A blue-cyan-yellow-red colormap (jet) at t in [0, 1], as RGB bytes.
std::array<unsigned char, 3> jet(float t);

/// Smallest integer factor that brings the image's longer side to at least
/// min_side pixels (1 when it is already that large).
int display_factor(const Image8& image, int min_side = 280);

/// The RGB image enlarged `factor` times (nearest) with the g x g scores
/// (row-major, top row first) upsampled bicubically to its size
/// (cuxplain::upsample on the host), normalized to [0, 1] over the map
/// (a constant map is all 0), coloured with jet() and blended with opacity
/// alpha: out = (1 - alpha) image + alpha colour.
Image8 render_overlay(const Image8& rgb, const std::vector<float>& scores, std::int64_t grid,
                      int factor, float alpha);

}  // namespace cuxplain::cli
