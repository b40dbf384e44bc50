#pragma once
// Heatmap overlays: cell scores drawn over the image they explain.
#include <array>
#include <cstdint>
#include <string>
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

/// The same on a fixed scale: jet((v - low) / (high - low)) clamped to
/// [0, 1], so that maps drawn with one range compare (all 0 when
/// high <= low).
Image8 render_overlay(const Image8& rgb, const std::vector<float>& scores, std::int64_t grid,
                      int factor, float alpha, float low, float high);

/// The image enlarged `factor` times (nearest), any channel count.
Image8 enlarge(const Image8& image, int factor);

/// A width x height image of `channels` channels, every byte `value`.
Image8 blank_image(int width, int height, int channels, unsigned char value);

/// Copies `tile` into `canvas` with its top-left corner at (x, y); both have
/// the same channel count and the tile lies inside the canvas.
void paste(Image8& canvas, const Image8& tile, int x, int y);

/// Size in pixels of `text` (ASCII, '\n' starts a line) as draw_text draws
/// it at `scale`.
int text_width(const std::string& text, int scale);
int text_height(const std::string& text, int scale);

/// Draws `text` with stb_easy_font's bitmap font, enlarged `scale` times,
/// its top-left corner at (x, y), every channel of its pixels set to
/// `value`; what falls outside the image is clipped.
void draw_text(Image8& image, const std::string& text, int x, int y, int scale,
               unsigned char value);

}  // namespace cuxplain::cli
