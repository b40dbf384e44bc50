// Line plots drawn directly into an Image8: stb, the program's image
// library, draws no lines, and two polylines per method do not justify a
// drawing library as a new dependency. Text is stb_easy_font's
// (overlay.hpp's draw_text).
#include "plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <cuxplain/core/context.hpp>
#include <cuxplain/upsample.hpp>

#include "overlay.hpp"

namespace cuxplain::cli {
namespace {

void set_pixel(Image8& image, int x, int y, const std::array<unsigned char, 3>& colour) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  unsigned char* p = &image.pixels[(static_cast<std::size_t>(y) * image.width + x) * 3];
  p[0] = colour[0];
  p[1] = colour[1];
  p[2] = colour[2];
}

void fill_rect(Image8& image, int x0, int y0, int x1, int y1,
               const std::array<unsigned char, 3>& colour) {
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) set_pixel(image, x, y, colour);
}

/// A line of `thickness` pixels: Bresenham's walk with a square brush.
void draw_line(Image8& image, int x0, int y0, int x1, int y1, int thickness,
               const std::array<unsigned char, 3>& colour) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int error = dx + dy;
  while (true) {
    fill_rect(image, x0 - thickness / 2, y0 - thickness / 2, x0 - thickness / 2 + thickness,
              y0 - thickness / 2 + thickness, colour);
    if (x0 == x1 && y0 == y1) break;
    const int twice = 2 * error;
    if (twice >= dy) {
      error += dy;
      x0 += sx;
    }
    if (twice <= dx) {
      error += dx;
      y0 += sy;
    }
  }
}

std::string tick_label(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

/// Round tick spacing for a range: 1, 2 or 5 times a power of ten, about 5 ticks.
double tick_step(double span) {
  if (!(span > 0.0)) return 1.0;
  const double raw = span / 5.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10.0 * power;
}

}  // namespace

std::array<unsigned char, 3> curve_colour(std::size_t i) {
  // Tableau's ten, distinct on white.
  static const std::array<unsigned char, 3> palette[] = {
      {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},   {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return palette[i % 10];
}

Image8 render_panels(const std::vector<Panel>& panels, int panel_width, int panel_height) {
  const std::size_t legend_items = panels.empty() ? 0 : panels[0].curves.size();
  const int legend_rows = static_cast<int>((legend_items + 3) / 4);
  const int legend_height = 16 + legend_rows * 22;
  Image8 image = blank_image(panel_width * static_cast<int>(panels.size()),
                             panel_height + legend_height, 3, 255);
  const int left = 64, right = 16, top = 36, bottom = 52;
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& panel = panels[k];
    const int x_origin = static_cast<int>(k) * panel_width;
    double x_min = 1e300, x_max = -1e300, y_min = 1e300, y_max = -1e300;
    for (const Curve& c : panel.curves) {
      for (double v : c.x) {
        x_min = std::min(x_min, v);
        x_max = std::max(x_max, v);
      }
      for (double v : c.y) {
        if (!std::isfinite(v)) continue;
        y_min = std::min(y_min, v);
        y_max = std::max(y_max, v);
      }
    }
    if (!(x_max > x_min)) {
      x_min = 0.0;
      x_max = 1.0;
    }
    if (!(y_max > y_min)) {
      y_min = (y_min < 1e300 ? y_min : 0.0) - 1.0;
      y_max = y_min + 2.0;
    }
    const double y_step = tick_step(y_max - y_min);
    y_min = std::floor(y_min / y_step) * y_step;
    y_max = std::ceil(y_max / y_step) * y_step;
    const int plot_w = panel_width - left - right, plot_h = panel_height - top - bottom;
    const auto px = [&](double x) {
      return x_origin + left +
             static_cast<int>(std::lround((x - x_min) / (x_max - x_min) * plot_w));
    };
    const auto py = [&](double y) {
      return top + plot_h - static_cast<int>(std::lround((y - y_min) / (y_max - y_min) * plot_h));
    };
    const std::array<unsigned char, 3> black{0, 0, 0}, grey{225, 225, 225};
    // Grid lines and ticks.
    for (double y = y_min; y <= y_max + y_step / 2; y += y_step) {
      draw_line(image, px(x_min), py(y), px(x_max), py(y), 1, grey);
      draw_text(image, tick_label(std::fabs(y) < y_step * 1e-9 ? 0.0 : y), x_origin + 4,
                py(y) - 6, 1, 0);
    }
    const double x_step = tick_step(x_max - x_min);
    for (double x = x_min; x <= x_max + x_step / 2; x += x_step) {
      draw_line(image, px(x), py(y_min), px(x), py(y_max), 1, grey);
      draw_text(image, tick_label(x), px(x) - 8, py(y_min) + 6, 1, 0);
    }
    draw_line(image, px(x_min), py(y_min), px(x_max), py(y_min), 1, black);
    draw_line(image, px(x_min), py(y_min), px(x_min), py(y_max), 1, black);
    draw_text(image, panel.title, x_origin + left, 8, 2, 0);
    draw_text(image, panel.x_label, x_origin + left + plot_w / 2 - text_width(panel.x_label, 1) / 2,
              panel_height - 24, 1, 0);
    draw_text(image, panel.y_label, x_origin + 4, top - 14, 1, 0);
    for (std::size_t i = 0; i < panel.curves.size(); ++i) {
      const Curve& c = panel.curves[i];
      for (std::size_t j = 1; j < c.x.size() && j < c.y.size(); ++j) {
        if (!std::isfinite(c.y[j - 1]) || !std::isfinite(c.y[j])) continue;
        draw_line(image, px(c.x[j - 1]), py(c.y[j - 1]), px(c.x[j]), py(c.y[j]), 2,
                  curve_colour(i));
      }
    }
  }
  // The legend: a swatch and the label of each curve, four a row.
  for (std::size_t i = 0; i < legend_items; ++i) {
    const int row = static_cast<int>(i / 4), column = static_cast<int>(i % 4);
    const int x = 16 + column * (image.width - 32) / 4;
    const int y = panel_height + 8 + row * 22;
    fill_rect(image, x, y + 4, x + 24, y + 10, curve_colour(i));
    draw_text(image, panels[0].curves[i].label, x + 30, y, 2, 0);
  }
  return image;
}

Image8 render_map_overlay(const Image8& rgb, const std::vector<float>& map, std::int64_t rows,
                          std::int64_t cols, int factor, float alpha) {
  if (rgb.channels != 3) throw std::runtime_error("render_map_overlay: the image must be RGB");
  if (static_cast<std::int64_t>(map.size()) != rows * cols) {
    throw std::runtime_error("render_map_overlay: expected rows x cols values");
  }
  Image8 out = blank_image(rgb.width * factor, rgb.height * factor, 3, 0);
  const std::size_t pixels = static_cast<std::size_t>(out.width) * out.height;
  std::vector<float> heat(pixels);
  upsample(Context::host(), map.data(), 1, rows, cols, out.height, out.width, heat.data(),
           Interpolation::bicubic);
  const auto [lo, hi] = std::minmax_element(heat.begin(), heat.end());
  const float low = *lo, span = *hi - *lo;
  const bool flat = !(span > 0.0f) || !std::isfinite(span);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * out.width + x;
      const std::array<unsigned char, 3> colour = jet(flat ? 0.0f : (heat[at] - low) / span);
      const unsigned char* source =
          &rgb.pixels[(static_cast<std::size_t>(y / factor) * rgb.width + x / factor) * 3];
      for (int k = 0; k < 3; ++k) {
        const float blended = (1.0f - alpha) * source[k] + alpha * colour[k];
        out.pixels[at * 3 + k] =
            static_cast<unsigned char>(std::clamp(std::lround(blended), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace cuxplain::cli
