#include "preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "args.hpp"

namespace cuxplain::cli {
namespace {

std::string size_text(std::int64_t h, std::int64_t w) {
  return std::to_string(h) + " x " + std::to_string(w);
}

std::string values_text(const std::vector<float>& values) {
  std::string text;
  for (float v : values) {
    char number[32];
    std::snprintf(number, sizeof number, "%g", static_cast<double>(v));
    text += (text.empty() ? "" : ",") + std::string(number);
  }
  return text;
}

/// One pass of resize_antialias along an axis: `count` lines of `in_size`
/// samples, `stride` floats apart within a line (c interleaved channels
/// ride along), each line `line_step` floats after the last; writes
/// out_size samples a line. The window and weights are ATen's
/// _compute_indices_min_size_weights_aa with the bilinear filter
/// (interp_size 2), in float.
void resize_axis(const float* in, float* out, std::int64_t in_size, std::int64_t out_size,
                 std::int64_t lines, std::int64_t in_line_step, std::int64_t out_line_step,
                 std::int64_t in_stride, std::int64_t out_stride, std::int64_t c) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float support = scale >= 1.0f ? scale : 1.0f;
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  std::vector<float> weights;
  for (std::int64_t i = 0; i < out_size; ++i) {
    const float center = scale * (static_cast<float>(i) + 0.5f);
    const std::int64_t xmin =
        std::max(static_cast<std::int64_t>(center - support + 0.5f), std::int64_t{0});
    const std::int64_t xsize =
        std::min(static_cast<std::int64_t>(center + support + 0.5f), in_size) - xmin;
    weights.assign(static_cast<std::size_t>(std::max<std::int64_t>(xsize, 0)), 0.0f);
    float total = 0.0f;
    for (std::int64_t j = 0; j < xsize; ++j) {
      const float x = std::abs((static_cast<float>(j + xmin) - center + 0.5f) * invscale);
      const float weight = x < 1.0f ? 1.0f - x : 0.0f;
      weights[static_cast<std::size_t>(j)] = weight;
      total += weight;
    }
    if (total != 0.0f) {
      for (float& weight : weights) weight /= total;
    }
    for (std::int64_t line = 0; line < lines; ++line) {
      const float* src = in + line * in_line_step + xmin * in_stride;
      float* dst = out + line * out_line_step + i * out_stride;
      for (std::int64_t k = 0; k < c; ++k) {
        float sum = 0.0f;
        for (std::int64_t j = 0; j < xsize; ++j) {
          sum += src[j * in_stride + k] * weights[static_cast<std::size_t>(j)];
        }
        dst[k] = sum;
      }
    }
  }
}

/// The image as interleaved floats pixel / scale (scale 1: the 8-bit values).
std::vector<float> to_floats(const Image8& image, double scale) {
  std::vector<float> values(image.pixels.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(image.pixels[i] / scale);
  }
  return values;
}

/// --resize then --center-crop on interleaved floats; height and width are
/// updated to the result's.
std::vector<float> shape_image(std::vector<float> pixels, std::int64_t& height,
                               std::int64_t& width, std::int64_t c, const Preprocess& p) {
  // The sizes asked for are checked before anything is allocated: at most
  // kMaxImagePixels, as a decoded image.
  const auto check_pixels = [&](const std::string& option, std::int64_t h, std::int64_t w) {
    if (h > kMaxImagePixels / w) {
      throw UsageError(option + " makes the " + size_text(height, width) + " image " +
                       size_text(h, w) + ", more than the " + std::to_string(kMaxImagePixels) +
                       " pixels cuxplain reads");
    }
  };
  if (p.resize) {
    const auto [h, w] = resized_size(height, width, *p.resize);
    check_pixels("--resize " + std::to_string(*p.resize), h, w);
    pixels = resize_antialias(pixels, height, width, c, h, w);
    height = h;
    width = w;
  }
  if (p.crop_h) {
    check_pixels("--center-crop " + std::to_string(*p.crop_h) + "," + std::to_string(*p.crop_w),
                 *p.crop_h, *p.crop_w);
    pixels = center_crop(pixels, height, width, c, *p.crop_h, *p.crop_w);
    height = *p.crop_h;
    width = *p.crop_w;
  }
  return pixels;
}

float channel_value(const std::vector<float>& values, std::int64_t k, float fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values.front() : values[static_cast<std::size_t>(k)];
}

}  // namespace

std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t h, std::int64_t w,
                                                   std::int64_t n) {
  const std::int64_t shorter = std::min(h, w), longer = std::max(h, w);
  // int(n * long / short): Python's true division, then truncation.
  const auto new_long =
      static_cast<std::int64_t>(static_cast<double>(n) * static_cast<double>(longer) /
                                static_cast<double>(shorter));
  return w <= h ? std::make_pair(new_long, n) : std::make_pair(n, new_long);
}

// Written here rather than through stb_image_resize (which to_model_input
// uses): stb's triangle filter gives the same samples inside the image, but
// its edge modes (clamp, reflect, wrap, zero) extend the image where torch
// cuts the window and renormalizes. Measured on random 8-bit images against
// to_model_input's STBIR_EDGE_CLAMP path: 480 x 640 -> 256 x 341 differs by
// up to 0.0435 of the [0, 1] range (11 of 255 levels) in the border pixels
// and by less than 1e-4 three pixels in; 5 x 7 -> 4 x 5 by 0.019.
std::vector<float> resize_antialias(const std::vector<float>& pixels, std::int64_t h,
                                    std::int64_t w, std::int64_t c, std::int64_t out_h,
                                    std::int64_t out_w) {
  if (h < 1 || w < 1 || c < 1 || out_h < 1 || out_w < 1 ||
      pixels.size() != static_cast<std::size_t>(h * w * c)) {
    throw std::invalid_argument("resize_antialias: " + std::to_string(pixels.size()) +
                                " floats are no " + size_text(h, w) + " x " + std::to_string(c) +
                                " image, or the size " + size_text(out_h, out_w) + " is empty");
  }
  std::vector<float> current = pixels;
  // The width first (ATen's horizontal pass), then the height; a side whose
  // size is kept is not touched.
  if (out_w != w) {
    std::vector<float> next(static_cast<std::size_t>(h * out_w * c));
    resize_axis(current.data(), next.data(), w, out_w, h, w * c, out_w * c, c, c, c);
    current.swap(next);
  }
  if (out_h != h) {
    std::vector<float> next(static_cast<std::size_t>(out_h * out_w * c));
    // Columns: a line is one x (its channels), samples a row apart.
    resize_axis(current.data(), next.data(), h, out_h, out_w, c, c, out_w * c, out_w * c, c);
    current.swap(next);
  }
  return current;
}

std::vector<float> center_crop(const std::vector<float>& pixels, std::int64_t h, std::int64_t w,
                               std::int64_t c, std::int64_t crop_h, std::int64_t crop_w) {
  if (pixels.size() != static_cast<std::size_t>(h * w * c) || crop_h < 1 || crop_w < 1) {
    throw std::invalid_argument("center_crop: " + std::to_string(pixels.size()) +
                                " floats are no " + size_text(h, w) + " x " + std::to_string(c) +
                                " image, or the crop " + size_text(crop_h, crop_w) + " is empty");
  }
  // torchvision pads with zeros where the crop is larger, then crops.
  const std::int64_t pad_top = crop_h > h ? (crop_h - h) / 2 : 0;
  const std::int64_t pad_left = crop_w > w ? (crop_w - w) / 2 : 0;
  const std::int64_t padded_h = std::max(h, crop_h), padded_w = std::max(w, crop_w);
  // round() of Python: half to even, which nearbyint does in the default
  // rounding mode.
  const auto top = static_cast<std::int64_t>(std::nearbyint((padded_h - crop_h) / 2.0));
  const auto left = static_cast<std::int64_t>(std::nearbyint((padded_w - crop_w) / 2.0));
  std::vector<float> out(static_cast<std::size_t>(crop_h * crop_w * c), 0.0f);
  for (std::int64_t y = 0; y < crop_h; ++y) {
    const std::int64_t sy = y + top - pad_top;
    if (sy < 0 || sy >= h) continue;
    for (std::int64_t x = 0; x < crop_w; ++x) {
      const std::int64_t sx = x + left - pad_left;
      if (sx < 0 || sx >= w) continue;
      for (std::int64_t k = 0; k < c; ++k) {
        out[static_cast<std::size_t>((y * crop_w + x) * c + k)] =
            pixels[static_cast<std::size_t>((sy * w + sx) * c + k)];
      }
    }
  }
  return out;
}

void check_preprocess(const Preprocess& p, std::int64_t c) {
  const auto check_count = [c](const char* option, const std::vector<float>& values) {
    if (values.empty() || values.size() == 1 || static_cast<std::int64_t>(values.size()) == c) {
      return;
    }
    throw UsageError(std::string(option) + " " + values_text(values) + " has " +
                     std::to_string(values.size()) + " values; the model takes " +
                     std::to_string(c) + " channel" + (c == 1 ? "" : "s") +
                     " (give one value, or one per channel)");
  };
  check_count("--mean", p.mean);
  check_count("--std", p.stddev);
  if (p.bgr && c != 3) {
    throw UsageError("--channel-order bgr needs a model of 3 channels, the model takes " +
                     std::to_string(c));
  }
}

std::vector<float> preprocess_image(const Image8& image, std::int64_t c, std::int64_t h,
                                    std::int64_t w, double scale, const Preprocess& p) {
  check_preprocess(p, c);
  std::vector<float> nchw;
  if (!p.geometric()) {
    nchw = to_model_input(image, c, h, w, scale);
  } else {
    if (image.channels != c) {
      throw std::runtime_error("image has " + std::to_string(image.channels) +
                               " channels, the model takes " + std::to_string(c));
    }
    std::int64_t height = image.height, width = image.width;
    const std::vector<float> shaped = shape_image(to_floats(image, scale), height, width, c, p);
    if (height != h || width != w) {
      const std::string given =
          (p.resize ? "--resize " + std::to_string(*p.resize) : std::string()) +
          (p.resize && p.crop_h ? " " : "") +
          (p.crop_h ? "--center-crop " + std::to_string(*p.crop_h) + "," +
                          std::to_string(*p.crop_w)
                    : std::string());
      throw UsageError(given + " makes the " + size_text(image.height, image.width) +
                       " image " + size_text(height, width) + "; the model takes " +
                       size_text(h, w) + " (H x W)");
    }
    nchw.resize(shaped.size());
    for (std::int64_t y = 0; y < h; ++y) {
      for (std::int64_t x = 0; x < w; ++x) {
        for (std::int64_t k = 0; k < c; ++k) {
          nchw[static_cast<std::size_t>((k * h + y) * w + x)] =
              shaped[static_cast<std::size_t>((y * w + x) * c + k)];
        }
      }
    }
  }
  if (p.bgr) {
    const std::size_t plane = static_cast<std::size_t>(h * w);
    std::swap_ranges(nchw.begin(), nchw.begin() + static_cast<std::ptrdiff_t>(plane),
                     nchw.begin() + static_cast<std::ptrdiff_t>(2 * plane));
  }
  if (!p.mean.empty() || !p.stddev.empty()) {
    for (std::int64_t k = 0; k < c; ++k) {
      const float m = channel_value(p.mean, k, 0.0f), s = channel_value(p.stddev, k, 1.0f);
      float* plane = nchw.data() + k * h * w;
      for (std::int64_t i = 0; i < h * w; ++i) plane[i] = (plane[i] - m) / s;
    }
  }
  return nchw;
}

Image8 preprocess_display(const Image8& image, const Preprocess& p, std::int64_t model_h,
                          std::int64_t model_w) {
  std::int64_t height = image.height, width = image.width;
  const std::int64_t c = image.channels;
  std::vector<float> shaped;
  if (p.geometric()) {
    shaped = shape_image(to_floats(image, 1.0), height, width, c, p);
  } else if (model_h > 0 && model_w > 0 && (model_h != height || model_w != width)) {
    const std::vector<float> nchw = to_model_input(image, c, model_h, model_w, 1.0);
    height = model_h;
    width = model_w;
    shaped.resize(nchw.size());
    for (std::int64_t k = 0; k < c; ++k) {
      for (std::int64_t i = 0; i < height * width; ++i) {
        shaped[static_cast<std::size_t>(i * c + k)] =
            nchw[static_cast<std::size_t>(k * height * width + i)];
      }
    }
  } else {
    return image;
  }
  Image8 out;
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.channels = image.channels;
  out.pixels.resize(shaped.size());
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    out.pixels[i] =
        static_cast<unsigned char>(std::clamp(std::nearbyint(shaped[i]), 0.0f, 255.0f));
  }
  return out;
}

std::pair<float, float> input_range(const Preprocess& p, std::int64_t c, double scale) {
  const auto high = static_cast<float>(255.0 / scale);
  float lowest = 0.0f, highest = high;
  for (std::int64_t k = 0; k < c; ++k) {
    const float m = channel_value(p.mean, k, 0.0f), s = channel_value(p.stddev, k, 1.0f);
    const float a = (0.0f - m) / s, b = (high - m) / s;
    if (k == 0) {
      lowest = a;
      highest = b;
    } else {
      lowest = std::min(lowest, a);
      highest = std::max(highest, b);
    }
  }
  return {lowest, highest};
}

Json preprocess_json(const Preprocess& p) {
  Json json = Json::object();
  if (p.resize) json["resize"] = *p.resize;
  if (p.crop_h) json["center_crop"] = {*p.crop_h, *p.crop_w};
  Json mean = Json::array(), std_dev = Json::array();
  for (float v : p.mean) mean.push_back(json_float(v));
  for (float v : p.stddev) std_dev.push_back(json_float(v));
  if (!p.mean.empty()) json["mean"] = std::move(mean);
  if (!p.stddev.empty()) json["std"] = std::move(std_dev);
  json["channel_order"] = p.bgr ? "bgr" : "rgb";
  json["resize_method"] = p.geometric() ? "torchvision bilinear antialias"
                                        : "stb_image_resize to the model's size";
  return json;
}

}  // namespace cuxplain::cli
