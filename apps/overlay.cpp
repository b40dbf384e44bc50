#include "overlay.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/upsample.hpp>

#include <stb_easy_font.h>

namespace cuxplain::cli {

std::array<unsigned char, 3> jet(float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  const auto channel = [t](float centre) {
    const float v = std::clamp(1.5f - std::abs(4.0f * t - centre), 0.0f, 1.0f);
    return static_cast<unsigned char>(std::lround(v * 255.0f));
  };
  return {channel(3.0f), channel(2.0f), channel(1.0f)};
}

int display_factor(const Image8& image, int min_side) {
  const int longer = std::max(image.width, image.height);
  if (longer <= 0 || longer >= min_side) return 1;
  return (min_side + longer - 1) / longer;
}

namespace {

/// render_overlay's work; `range` false normalizes over the map.
Image8 overlay(const Image8& rgb, const std::vector<float>& scores, std::int64_t grid, int factor,
               float alpha, bool range, float low_value, float high_value) {
  if (rgb.channels != 3) throw std::runtime_error("render_overlay: the image must be RGB");
  if (static_cast<std::int64_t>(scores.size()) != grid * grid) {
    throw std::runtime_error("render_overlay: expected grid x grid scores");
  }
  Image8 out;
  out.width = rgb.width * factor;
  out.height = rgb.height * factor;
  out.channels = 3;
  const std::size_t pixels = static_cast<std::size_t>(out.width) * out.height;

  std::vector<float> heat(pixels);
  upsample(Context::host(), scores.data(), 1, grid, grid, out.height, out.width, heat.data(),
           Interpolation::bicubic);
  float low = low_value, span = high_value - low_value;
  if (!range) {
    const auto [lo, hi] = std::minmax_element(heat.begin(), heat.end());
    low = *lo;
    span = *hi - *lo;
  }
  const bool flat = !(span > 0.0f) || !std::isfinite(span);

  out.pixels.resize(pixels * 3);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * out.width + x;
      const float t = flat ? 0.0f : (heat[at] - low) / span;
      const std::array<unsigned char, 3> colour = jet(t);
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

}  // namespace

Image8 render_overlay(const Image8& rgb, const std::vector<float>& scores, std::int64_t grid,
                      int factor, float alpha) {
  return overlay(rgb, scores, grid, factor, alpha, false, 0.0f, 0.0f);
}

Image8 render_overlay(const Image8& rgb, const std::vector<float>& scores, std::int64_t grid,
                      int factor, float alpha, float low, float high) {
  return overlay(rgb, scores, grid, factor, alpha, true, low, high);
}

Image8 enlarge(const Image8& image, int factor) {
  if (factor < 1) throw std::runtime_error("enlarge: the factor must be >= 1");
  Image8 out = blank_image(image.width * factor, image.height * factor, image.channels, 0);
  const std::size_t c = static_cast<std::size_t>(image.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const unsigned char* source =
          &image.pixels[(static_cast<std::size_t>(y / factor) * image.width + x / factor) * c];
      std::copy(source, source + c,
                &out.pixels[(static_cast<std::size_t>(y) * out.width + x) * c]);
    }
  }
  return out;
}

Image8 blank_image(int width, int height, int channels, unsigned char value) {
  Image8 image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(static_cast<std::size_t>(width) * height * channels, value);
  return image;
}

void paste(Image8& canvas, const Image8& tile, int x, int y) {
  if (tile.channels != canvas.channels || x < 0 || y < 0 || x + tile.width > canvas.width ||
      y + tile.height > canvas.height) {
    throw std::runtime_error("paste: the tile does not fit the canvas");
  }
  const std::size_t c = static_cast<std::size_t>(canvas.channels);
  for (int row = 0; row < tile.height; ++row) {
    std::copy_n(&tile.pixels[static_cast<std::size_t>(row) * tile.width * c],
                static_cast<std::size_t>(tile.width) * c,
                &canvas.pixels[(static_cast<std::size_t>(y + row) * canvas.width + x) * c]);
  }
}

namespace {

/// stb_easy_font takes a mutable char*; it does not write through it.
std::vector<char> c_text(const std::string& text) {
  std::vector<char> chars(text.begin(), text.end());
  chars.push_back('\0');
  return chars;
}

}  // namespace

int text_width(const std::string& text, int scale) {
  return stb_easy_font_width(c_text(text).data()) * scale;
}

int text_height(const std::string& text, int scale) {
  return stb_easy_font_height(c_text(text).data()) * scale;
}

void draw_text(Image8& image, const std::string& text, int x, int y, int scale,
               unsigned char value) {
  // Quads of 4 vertices (x, y, z as floats, 4 colour bytes): 16 bytes each;
  // about 270 bytes a character (the header's estimate), with room to spare.
  struct Vertex {
    float x, y, z;
    unsigned char color[4];
  };
  static_assert(sizeof(Vertex) == 16, "stb_easy_font's vertex layout");
  std::vector<Vertex> vertices(text.size() * 64 + 64);
  const int quads = stb_easy_font_print(0.0f, 0.0f, c_text(text).data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(Vertex)));
  for (int q = 0; q < quads; ++q) {
    const Vertex* quad = &vertices[static_cast<std::size_t>(q) * 4];
    // Axis-aligned: corners 0 and 2 are opposite.
    const int x0 = x + static_cast<int>(std::lround(std::min(quad[0].x, quad[2].x) * scale));
    const int x1 = x + static_cast<int>(std::lround(std::max(quad[0].x, quad[2].x) * scale));
    const int y0 = y + static_cast<int>(std::lround(std::min(quad[0].y, quad[2].y) * scale));
    const int y1 = y + static_cast<int>(std::lround(std::max(quad[0].y, quad[2].y) * scale));
    for (int py = std::max(y0, 0); py < std::min(y1, image.height); ++py) {
      for (int px = std::max(x0, 0); px < std::min(x1, image.width); ++px) {
        unsigned char* pixel =
            &image.pixels[(static_cast<std::size_t>(py) * image.width + px) * image.channels];
        std::memset(pixel, value, static_cast<std::size_t>(image.channels));
      }
    }
  }
}

}  // namespace cuxplain::cli
