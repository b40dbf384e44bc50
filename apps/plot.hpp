#pragma once
// Drawings of `cuxplain evaluate` and `explain --metrics`: line plots of the
// deletion and insertion curves, and heatmap overlays of pixel maps.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "image_io.hpp"

namespace cuxplain::cli {

/// One curve: y at x (both the same length), drawn in `colour`.
struct Curve {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
};

/// One panel of a plot: a title, axis labels and curves.
struct Panel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Curve> curves;
};

/// Panels side by side on a white RGB canvas, each with its axes (ticks at
/// round values of the data's range), the curves as 2-pixel polylines in a
/// fixed palette (curve i of every panel in the same colour), and one legend
/// under the panels naming curve i of the first panel.
Image8 render_panels(const std::vector<Panel>& panels, int panel_width = 420,
                     int panel_height = 320);

/// The palette's colour of curve i.
std::array<unsigned char, 3> curve_colour(std::size_t i);

/// A map of rows x cols values drawn over the RGB image enlarged `factor`
/// times: bicubic upsampling, normalized to [0, 1] over the map, jet colours
/// blended with opacity alpha (render_overlay for maps that are not square).
Image8 render_map_overlay(const Image8& rgb, const std::vector<float>& map, std::int64_t rows,
                          std::int64_t cols, int factor, float alpha);

}  // namespace cuxplain::cli
