#pragma once
// Known-answer pieces for the CRAFT tests: a synthetic layer g whose
// activations are a fixed non-negative linear function of the pixels of each
// image quadrant (so A can be computed in the test), heads h that read chosen
// channels only, images (random, or planted so that A has rank 3), and the
// crops cut and resized in double precision as cv2.resize(INTER_CUBIC) does
// on the cut-out crop.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/craft.hpp>

namespace cuxplain::test {

// ---- images ----

struct CraftImages {
  std::vector<float> pixels;
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  Layout layout = Layout::nchw;
  ConstImageView view() const { return {pixels.data(), n, c, h, w, layout}; }
};

inline std::size_t pixel_index(Layout layout, std::int64_t c, std::int64_t h, std::int64_t w,
                               std::int64_t image, std::int64_t ch, std::int64_t y,
                               std::int64_t x) {
  const std::int64_t base = image * c * h * w;
  return static_cast<std::size_t>(layout == Layout::nchw ? base + (ch * h + y) * w + x
                                                         : base + (y * w + x) * c + ch);
}

/// Independent uniform pixels in [0.5, 1]: a cubic resize of such a crop
/// stays >= 0.5 * 1.4453 - 0.4453 > 0 (Keys' weights at their most negative),
/// so every activation of QuadrantLayer is strictly positive.
inline CraftImages random_craft_images(std::int64_t n, std::int64_t c, std::int64_t h,
                                       std::int64_t w, Layout layout, std::uint32_t seed) {
  CraftImages images{{}, n, c, h, w, layout};
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.5f, 1.0f);
  images.pixels.resize(static_cast<std::size_t>(n * c * h * w));
  for (auto& v : images.pixels) v = dist(gen);
  return images;
}

/// Three-channel images whose colour varies strongly from crop to crop:
/// channel k = 0.05 + a_ik (0.5 + 0.5 sin(phase along a direction of its
/// own)). With a layer that weighs colours the same everywhere, A = (mean
/// colour of each crop) M^T with M >= 0: non-negative rank 3.
inline CraftImages planted_craft_images(std::int64_t n, std::int64_t h, std::int64_t w,
                                        Layout layout, std::uint32_t seed) {
  CraftImages images{{}, n, 3, h, w, layout};
  images.pixels.resize(static_cast<std::size_t>(n * 3 * h * w));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double pi = 3.14159265358979323846;
  const double fy[3] = {1.0, 0.3, -0.7}, fx[3] = {0.2, 1.1, 0.8};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < 3; ++k) {
      const double amplitude = 0.2 + 0.8 * unit(gen), phase = 2.0 * pi * unit(gen);
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          const double t = 2.0 * pi * (fy[k] * y / h + fx[k] * x / w) + phase;
          images.pixels[pixel_index(layout, 3, h, w, i, k, y, x)] =
              static_cast<float>(0.05 + amplitude * (0.5 + 0.5 * std::sin(t)));
        }
      }
    }
  }
  return images;
}

// ---- crops, in double ----

/// Keys' cubic convolution kernel: a = -0.75 (OpenCV's INTER_CUBIC), -0.5
/// (TensorFlow's bicubic).
inline double keys_kernel(double x, double a = -0.75) {
  x = std::fabs(x);
  if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

/// One axis of TensorFlow's ResizeBicubic (half-pixel centres), written from
/// its description: the source coordinate s = (dst + 0.5) * scale - 0.5 in
/// float, its fraction rounded to 1/1024 (the weight table's step), Keys
/// a = -0.5 weights at that fraction, taps outside [0, src) dropped and the
/// rest scaled to sum to 1. In double apart from the coordinate.
struct TfAxis {
  std::int64_t index[4];
  double weight[4];
};
inline TfAxis tf_axis(std::int64_t dst, std::int64_t src, std::int64_t size) {
  const float scale = static_cast<float>(src) / static_cast<float>(size);
  const float s = (static_cast<float>(dst) + 0.5f) * scale - 0.5f;
  const double floor_s = std::floor(static_cast<double>(s));
  const double t = std::nearbyint((static_cast<double>(s) - floor_s) * 1024.0) / 1024.0;
  TfAxis axis{};
  double sum = 0.0;
  for (int k = 0; k < 4; ++k) {
    const auto i = static_cast<std::int64_t>(floor_s) - 1 + k;
    axis.index[k] = std::clamp<std::int64_t>(i, 0, src - 1);
    axis.weight[k] = (i >= 0 && i < src) ? keys_kernel(t + 1.0 - k, -0.5) : 0.0;
    sum += axis.weight[k];
  }
  for (double& w : axis.weight) w /= sum;
  return axis;
}

/// Crop `k` of `images` (crop k % per_image of image k / per_image, row-major
/// over the grid, stride int(0.8 patch)), cut out first and then resized to
/// h x w as an image of its own. cv2: source coordinate (dst + 0.5) patch /
/// size - 0.5, 4 x 4 taps clamped to the crop's edge; TensorFlow: tf_axis on
/// each axis. c x h x w doubles in the images' layout.
inline std::vector<double> reference_crop(
    const CraftImages& images, std::int64_t patch, std::int64_t k,
    craft::CropResize resize = craft::CropResize::tensorflow_bicubic) {
  const std::int64_t stride = static_cast<std::int64_t>(0.8 * static_cast<double>(patch));
  const std::int64_t rows = (images.h - patch) / stride + 1;
  const std::int64_t cols = (images.w - patch) / stride + 1;
  const std::int64_t image = k / (rows * cols), cell = k % (rows * cols);
  const std::int64_t top = cell / cols * stride, left = cell % cols * stride;
  const std::int64_t c = images.c, h = images.h, w = images.w;
  std::vector<double> out(static_cast<std::size_t>(c * h * w));
  const auto source = [&](std::int64_t ch, std::int64_t y, std::int64_t x) {
    y = std::clamp<std::int64_t>(y, 0, patch - 1);
    x = std::clamp<std::int64_t>(x, 0, patch - 1);
    return static_cast<double>(
        images.pixels[pixel_index(images.layout, c, h, w, image, ch, top + y, left + x)]);
  };
  if (resize == craft::CropResize::tensorflow_bicubic) {
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t y = 0; y < h; ++y) {
        const TfAxis ay = tf_axis(y, patch, h);
        for (std::int64_t x = 0; x < w; ++x) {
          const TfAxis ax = tf_axis(x, patch, w);
          double value = 0.0;
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j)
              value += ay.weight[i] * ax.weight[j] * source(ch, ay.index[i], ax.index[j]);
          out[pixel_index(images.layout, c, h, w, 0, ch, y, x)] = value;
        }
      }
    }
    return out;
  }
  for (std::int64_t ch = 0; ch < c; ++ch) {
    for (std::int64_t y = 0; y < h; ++y) {
      const double sy = (y + 0.5) * static_cast<double>(patch) / static_cast<double>(h) - 0.5;
      const std::int64_t y0 = static_cast<std::int64_t>(std::floor(sy));
      for (std::int64_t x = 0; x < w; ++x) {
        const double sx = (x + 0.5) * static_cast<double>(patch) / static_cast<double>(w) - 0.5;
        const std::int64_t x0 = static_cast<std::int64_t>(std::floor(sx));
        double value = 0.0;
        for (std::int64_t yy = y0 - 1; yy <= y0 + 2; ++yy) {
          for (std::int64_t xx = x0 - 1; xx <= x0 + 2; ++xx) {
            value += keys_kernel(sy - yy) * keys_kernel(sx - xx) * source(ch, yy, xx);
          }
        }
        out[pixel_index(images.layout, c, h, w, 0, ch, y, x)] = value;
      }
    }
  }
  return out;
}

// ---- the synthetic layer g and heads h ----

/// g: `channels` x 2 x 2 activations; activation (ch, qy, qx) = the mean over
/// the pixels (cc, y, x) of quadrant (qy, qx) (rows [qy h / 2, (qy + 1) h / 2))
/// of weight(ch, cc, y, x) * pixel. Weights in [0.2, 1]: per pixel when
/// `positional`, else per (ch, cc) only (then A has rank <= c).
struct QuadrantLayer {
  std::int64_t channels = 6;
  std::int64_t c = 3, h = 28, w = 28;
  bool positional = true;
  std::vector<double> weights;  ///< channels x c x h x w

  QuadrantLayer(std::int64_t channels_, std::int64_t c_, std::int64_t h_, std::int64_t w_,
                bool positional_, std::uint32_t seed)
      : channels(channels_), c(c_), h(h_), w(w_), positional(positional_) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(0.2, 1.0);
    weights.resize(static_cast<std::size_t>(channels * c * h * w));
    for (std::int64_t ch = 0; ch < channels; ++ch) {
      for (std::int64_t cc = 0; cc < c; ++cc) {
        const double shared = dist(gen);
        for (std::int64_t e = 0; e < h * w; ++e) {
          weights[static_cast<std::size_t>((ch * c + cc) * h * w + e)] =
              positional ? dist(gen) : shared;
        }
      }
    }
  }

  std::int64_t activation_size() const { return channels * 4; }

  /// Activations of one image (any element type, the given layout) in double,
  /// channels x 2 x 2.
  template <class T>
  std::vector<double> activations(const T* image, Layout layout) const {
    std::vector<double> out(static_cast<std::size_t>(channels * 4), 0.0);
    for (std::int64_t ch = 0; ch < channels; ++ch) {
      for (std::int64_t qy = 0; qy < 2; ++qy) {
        for (std::int64_t qx = 0; qx < 2; ++qx) {
          const std::int64_t y0 = qy * h / 2, y1 = (qy + 1) * h / 2;
          const std::int64_t x0 = qx * w / 2, x1 = (qx + 1) * w / 2;
          double sum = 0.0;
          for (std::int64_t cc = 0; cc < c; ++cc)
            for (std::int64_t y = y0; y < y1; ++y)
              for (std::int64_t x = x0; x < x1; ++x)
                sum += weights[static_cast<std::size_t>(((ch * c + cc) * h + y) * w + x)] *
                       static_cast<double>(image[pixel_index(layout, c, h, w, 0, cc, y, x)]);
          out[static_cast<std::size_t>((ch * 2 + qy) * 2 + qx)] =
              sum / static_cast<double>(c * (y1 - y0) * (x1 - x0));
        }
      }
    }
    return out;
  }

  /// The layer applied to a host batch, written as float.
  void forward_host(ConstImageView batch, float* out) const {
    for (std::int64_t i = 0; i < batch.n; ++i) {
      const std::vector<double> a = activations(batch.data + i * batch.image_size(), batch.layout);
      for (std::size_t e = 0; e < a.size(); ++e)
        out[i * activation_size() + static_cast<std::int64_t>(e)] = static_cast<float>(a[e]);
    }
  }

  /// A (crops x channels) of crops [0, count) computed from reference_crop in
  /// double: the activations averaged over the 2 x 2 locations.
  std::vector<double> reference_a(
      const CraftImages& images, std::int64_t patch, const std::vector<std::int64_t>& crop_ids,
      craft::CropResize resize = craft::CropResize::tensorflow_bicubic) const {
    std::vector<double> a;
    for (std::int64_t k : crop_ids) {
      const std::vector<double> crop = reference_crop(images, patch, k, resize);
      const std::vector<double> act = activations(crop.data(), images.layout);
      for (std::int64_t ch = 0; ch < channels; ++ch) {
        double mean = 0.0;
        for (int l = 0; l < 4; ++l) mean += act[static_cast<std::size_t>(ch * 4 + l)];
        a.push_back(mean / 4.0);
      }
    }
    return a;
  }
};

/// Heads over activation tensors channels x 2 x 2 (a[ch][l], 4 locations).
/// Output 0 reads channels 2 and 4 only, output 1 channels 0 and 1 only.
struct TwoReadHeads {
  std::int64_t channels = 6;
  static constexpr std::int64_t num_outputs = 2;

  void forward_host(const float* activations, std::int64_t n, float* out) const {
    for (std::int64_t i = 0; i < n; ++i) {
      const float* a = activations + i * channels * 4;
      double o0 = 0.0, o1 = 0.0;
      for (std::int64_t l = 0; l < 4; ++l) {
        const double a0 = a[0 * 4 + l], a1 = a[1 * 4 + l], a2 = a[2 * 4 + l], a4 = a[4 * 4 + l];
        o0 += 2.0 * a2 + a4 + 0.25 * a2 * a4;
        o1 += a0 + 1.5 * a1 + a0 * a1;
      }
      out[i * 2 + 0] = static_cast<float>(o0);
      out[i * 2 + 1] = static_cast<float>(o1);
    }
  }
};

/// A head reading every channel nonlinearly (for backend comparisons).
struct MixingHead {
  std::int64_t channels = 6;
  static constexpr std::int64_t num_outputs = 3;

  void forward_host(const float* activations, std::int64_t n, float* out) const {
    for (std::int64_t i = 0; i < n; ++i) {
      const float* a = activations + i * channels * 4;
      for (std::int64_t k = 0; k < num_outputs; ++k) {
        double s = 0.0;
        for (std::int64_t ch = 0; ch < channels; ++ch)
          for (std::int64_t l = 0; l < 4; ++l)
            s += (1.0 + 0.3 * ((ch + k) % 3)) * a[ch * 4 + l] + 0.1 * (ch == k) * a[ch * 4 + l] * a[ch * 4 + l];
        out[i * num_outputs + k] = static_cast<float>(std::tanh(0.05 * s));
      }
    }
  }
};

/// Counters of what the callbacks were given.
struct CallCounts {
  std::int64_t g_rows = 0, g_calls = 0, g_max_batch = 0;
  std::int64_t h_rows = 0, h_calls = 0, h_max_batch = 0;
};

/// Runs `host_forward` on ctx's memory: on CUDA the input is copied to the
/// host (copy_to_host waits for ctx's stream) and the result copied back.
template <class Forward>
void run_on_host(const Context& ctx, const float* input, std::int64_t input_count, float* output,
                 std::int64_t output_count, const Forward& host_forward) {
  if (ctx.is_host()) return host_forward(input, output);
  std::vector<float> in(static_cast<std::size_t>(input_count));
  copy_to_host(ctx, in.data(), input, in.size() * sizeof(float));
  std::vector<float> out(static_cast<std::size_t>(output_count));
  host_forward(in.data(), out.data());
  copy_to_device(ctx, output, out.data(), out.size() * sizeof(float));
}

/// The split model of a QuadrantLayer g and a head H, on ctx's memory.
template <class Head>
craft::SplitModel quadrant_model(const Context& ctx, const QuadrantLayer& layer, const Head& head,
                                 CallCounts* counts = nullptr) {
  craft::SplitModel model;
  model.channels = layer.channels;
  model.height = 2;
  model.width = 2;
  model.num_outputs = Head::num_outputs;
  model.g = [ctx, &layer, counts](ConstImageView batch, float* activations) {
    if (counts != nullptr) {
      counts->g_rows += batch.n;
      counts->g_calls += 1;
      counts->g_max_batch = std::max(counts->g_max_batch, batch.n);
    }
    run_on_host(ctx, batch.data, batch.size(), activations, batch.n * layer.activation_size(),
                [&](const float* in, float* out) {
                  ConstImageView host_batch = batch;
                  host_batch.data = in;
                  layer.forward_host(host_batch, out);
                });
  };
  model.h = [ctx, &layer, head, counts](const float* activations, std::int64_t n, float* outputs) {
    if (counts != nullptr) {
      counts->h_rows += n;
      counts->h_calls += 1;
      counts->h_max_batch = std::max(counts->h_max_batch, n);
    }
    run_on_host(ctx, activations, n * layer.activation_size(), outputs, n * Head::num_outputs,
                [&](const float* in, float* out) { head.forward_host(in, n, out); });
  };
  return model;
}

/// ||A - U W||_F / ||A||_F in double (A: n x p, U: n x r, W: r x p).
inline double relative_residual(const std::vector<double>& a, const std::vector<float>& u,
                                const std::vector<float>& w, std::int64_t n, std::int64_t p,
                                std::int64_t r) {
  double residual = 0.0, norm = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < p; ++j) {
      double uw = 0.0;
      for (std::int64_t k = 0; k < r; ++k)
        uw += static_cast<double>(u[static_cast<std::size_t>(i * r + k)]) *
              static_cast<double>(w[static_cast<std::size_t>(k * p + j)]);
      const double d = a[static_cast<std::size_t>(i * p + j)] - uw;
      residual += d * d;
      norm += a[static_cast<std::size_t>(i * p + j)] * a[static_cast<std::size_t>(i * p + j)];
    }
  }
  return std::sqrt(residual / norm);
}

/// The r x r identity as a concept bank (r = p).
inline std::vector<float> identity_bank(std::int64_t r) {
  std::vector<float> w(static_cast<std::size_t>(r * r), 0.0f);
  for (std::int64_t k = 0; k < r; ++k) w[static_cast<std::size_t>(k * r + k)] = 1.0f;
  return w;
}

/// Options for the small scenes of the tests: 28 x 28 images cut in 3 x 3
/// crops, `rank` concepts, a 16-point design, batches of 16.
inline craft::CraftOptions small_craft_options(std::int64_t rank) {
  craft::CraftOptions options;
  options.patch_size = 10;
  options.nmf.rank = rank;
  options.nb_design = 16;
  options.batch_size = 16;
  return options;
}

/// A case of the extract_crops tests (host and CUDA): images, patch and the
/// crop range.
struct CropCase {
  Layout layout;
  std::int64_t n, c, h, w, patch, first, count;
  craft::CropResize resize = craft::CropResize::tensorflow_bicubic;
};

/// Each case with both resizes.
inline std::vector<CropCase> with_both_resizes(const std::vector<CropCase>& cases) {
  std::vector<CropCase> out;
  for (craft::CropResize resize :
       {craft::CropResize::tensorflow_bicubic, craft::CropResize::opencv_bicubic}) {
    for (CropCase c : cases) {
      c.resize = resize;
      out.push_back(c);
    }
  }
  return out;
}

inline std::string crop_case_name(const CropCase& p) {
  return std::string(p.resize == craft::CropResize::tensorflow_bicubic ? "tf_" : "cv2_") +
         (p.layout == Layout::nchw ? "nchw" : "nhwc") + "_c" + std::to_string(p.c) + "_" +
         std::to_string(p.h) + "x" + std::to_string(p.w) + "_patch" + std::to_string(p.patch) +
         "_from" + std::to_string(p.first) + "_count" + std::to_string(p.count);
}

inline std::string crop_case_param_name(const ::testing::TestParamInfo<CropCase>& info) {
  return crop_case_name(info.param);
}

/// Prints a case by its name in test listings (not as raw bytes).
inline void PrintTo(const CropCase& p, std::ostream* os) { *os << crop_case_name(p); }

}  // namespace cuxplain::test

