#pragma once
// Reference perturbations in double precision, written straight from the
// formulas and independent of include/cuxplain/detail: each mask is upsampled
// to a full image-sized array, the box blur is the literal 2D window mean with
// the border reflected step by step (as OpenCV's borderInterpolate does), and
// half-precision rounding searches the table of representable values.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <cuxplain/core/options.hpp>
#include <cuxplain/core/views.hpp>

namespace cuxplain::reference {

/// Position of element (ch, y, x) in one c x h x w image.
inline std::int64_t element_offset(std::int64_t c, std::int64_t h, std::int64_t w, Layout layout,
                                   std::int64_t ch, std::int64_t y, std::int64_t x) {
  return layout == Layout::nchw ? (ch * h + y) * w + x : (y * w + x) * c + ch;
}

/// One g x g (x channels) mask resized to h x w, as [(ch*h + y)*w + x];
/// channels = c for per-channel masks (cell (gy*g + gx)*c + ch), else 1.
inline std::vector<double> upsample_mask(const float* mask, std::int64_t g, std::int64_t channels,
                                         std::int64_t h, std::int64_t w, Interpolation mode) {
  struct Source {
    std::int64_t i0, i1;
    double lambda;
  };
  // position*g/size, multiplied before dividing: dst*g is an exact integer in
  // double and the single division cannot cross an integer, so the floors are
  // exact (a precomputed scale g/size can land a hair below one).
  const auto source = [&](std::int64_t dst, std::int64_t size) {
    const auto ratio = [&](double position) {
      return position * static_cast<double>(g) / static_cast<double>(size);
    };
    if (mode == Interpolation::nearest) {
      const auto i =
          std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(ratio(dst))), g - 1);
      return Source{i, i, 0.0};
    }
    if (mode == Interpolation::nearest_exact) {
      const auto i =
          std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(ratio(dst + 0.5))), g - 1);
      return Source{i, i, 0.0};
    }
    const double src = std::max(0.0, ratio(dst + 0.5) - 0.5);
    const auto i0 = static_cast<std::int64_t>(std::floor(src));
    return Source{i0, std::min<std::int64_t>(i0 + 1, g - 1), src - static_cast<double>(i0)};
  };
  const auto cell = [&](std::int64_t gy, std::int64_t gx, std::int64_t ch) {
    return static_cast<double>(mask[(gy * g + gx) * channels + ch]);
  };

  std::vector<double> out(static_cast<std::size_t>(channels * h * w));
  for (std::int64_t ch = 0; ch < channels; ++ch) {
    for (std::int64_t y = 0; y < h; ++y) {
      const Source sy = source(y, h);
      for (std::int64_t x = 0; x < w; ++x) {
        const Source sx = source(x, w);
        const double top =
            (1.0 - sx.lambda) * cell(sy.i0, sx.i0, ch) + sx.lambda * cell(sy.i0, sx.i1, ch);
        const double bottom =
            (1.0 - sx.lambda) * cell(sy.i1, sx.i0, ch) + sx.lambda * cell(sy.i1, sx.i1, ch);
        out[static_cast<std::size_t>((ch * h + y) * w + x)] =
            (1.0 - sy.lambda) * top + sy.lambda * bottom;
      }
    }
  }
  return out;
}

struct PerturbCase {
  Perturbation kind = Perturbation::inpainting;
  Interpolation interpolation = Interpolation::nearest_exact;
  std::int64_t grid = 8;
  bool per_channel = false;
  double baseline = 0.0;
  double sigma = 1.0;
};

/// num_masks perturbed copies of one c x h x w image (layout `layout`), in
/// double; `blurred` (image-shaped) is read for Perturbation::blurring.
inline std::vector<double> perturb(const std::vector<float>& image, std::int64_t c, std::int64_t h,
                                   std::int64_t w, Layout layout, const std::vector<float>& masks,
                                   std::int64_t num_masks, const PerturbCase& p,
                                   const std::vector<float>& blurred) {
  const std::int64_t channels = p.per_channel ? c : 1;
  const std::int64_t cells = p.grid * p.grid * channels;
  const std::int64_t image_size = c * h * w;
  std::vector<double> out(static_cast<std::size_t>(num_masks * image_size));
  for (std::int64_t k = 0; k < num_masks; ++k) {
    const std::vector<double> m_full =
        upsample_mask(masks.data() + k * cells, p.grid, channels, h, w, p.interpolation);
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          const std::int64_t at = element_offset(c, h, w, layout, ch, y, x);
          const double px = image[static_cast<std::size_t>(at)];
          const double m =
              m_full[static_cast<std::size_t>(((p.per_channel ? ch : 0) * h + y) * w + x)];
          double value = 0.0;
          switch (p.kind) {
            case Perturbation::inpainting: value = px * m + (1.0 - m) * p.baseline; break;
            case Perturbation::blurring:
              value =
                  px * m + (1.0 - m) * static_cast<double>(blurred[static_cast<std::size_t>(at)]);
              break;
            case Perturbation::amplitude: value = px * (m - 0.5) * p.sigma; break;
          }
          out[static_cast<std::size_t>(k * image_size + at)] = value;
        }
      }
    }
  }
  return out;
}

/// BORDER_REFLECT_101, one reflection at a time until the index is inside.
inline std::int64_t reflect_101(std::int64_t i, std::int64_t n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/// cv2.blur(x, (k, k)) of every channel of n images: the mean of the k x k
/// window [y - k/2, y + k - 1 - k/2] x [x - k/2, x + k - 1 - k/2], reflect-101.
inline std::vector<double> box_blur(const std::vector<float>& images, std::int64_t n,
                                    std::int64_t c, std::int64_t h, std::int64_t w, Layout layout,
                                    std::int64_t k) {
  const std::int64_t image_size = c * h * w;
  std::vector<double> out(images.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const float* img = images.data() + i * image_size;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          double sum = 0.0;
          for (std::int64_t dy = 0; dy < k; ++dy) {
            for (std::int64_t dx = 0; dx < k; ++dx) {
              const std::int64_t sy = reflect_101(y - k / 2 + dy, h);
              const std::int64_t sx = reflect_101(x - k / 2 + dx, w);
              sum += img[element_offset(c, h, w, layout, ch, sy, sx)];
            }
          }
          out[static_cast<std::size_t>(i * image_size +
                                       element_offset(c, h, w, layout, ch, y, x))] =
              sum / static_cast<double>(k * k);
        }
      }
    }
  }
  return out;
}

// ------------------------------------------------------ half precision ---

/// Magnitude of a binary16 / bfloat16 bit pattern with sign bit clear, decoded
/// from its fields. The all-ones exponent with a zero mantissa decodes to the
/// power of two where it would sit (2^16, 2^128): the rounding threshold to Inf.
inline double f16_magnitude(std::uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent == 0) return std::ldexp(mantissa, -24);
  return std::ldexp(1024 + mantissa, exponent - 25);
}
inline double bf16_magnitude(std::uint16_t bits) {
  const int exponent = (bits >> 7) & 0xff;
  const int mantissa = bits & 0x7f;
  if (exponent == 0) return std::ldexp(mantissa, -133);
  return std::ldexp(128 + mantissa, exponent - 134);
}

/// Nearest representable value to a float, ties to the even bit pattern, by
/// binary search among the magnitudes 0..inf_bits; NaN gives `nan_bits`.
template <class Magnitude>
std::uint16_t round_by_search(float value, std::uint16_t inf_bits, std::uint16_t sign_bit,
                              std::uint16_t nan_bits, Magnitude magnitude) {
  if (std::isnan(value)) return nan_bits;
  const std::uint16_t sign = std::signbit(value) ? sign_bit : 0;
  const double a = std::fabs(static_cast<double>(value));
  if (a >= magnitude(inf_bits)) return sign | inf_bits;
  // Largest pattern whose magnitude is <= a.
  std::uint32_t lo = 0, hi = inf_bits;
  while (hi - lo > 1) {
    const std::uint32_t mid = (lo + hi) / 2;
    (magnitude(static_cast<std::uint16_t>(mid)) <= a ? lo : hi) = mid;
  }
  const double below = a - magnitude(static_cast<std::uint16_t>(lo));
  const double above = magnitude(static_cast<std::uint16_t>(lo + 1)) - a;
  std::uint32_t nearest = lo;
  if (above < below || (above == below && (lo & 1u) != 0)) nearest = lo + 1;
  return static_cast<std::uint16_t>(sign | nearest);
}

inline std::uint16_t round_to_f16(float value) {
  return round_by_search(value, 0x7c00, 0x8000, 0x7e00, f16_magnitude);
}
inline std::uint16_t round_to_bf16(float value) {
  return round_by_search(value, 0x7f80, 0x8000, 0x7fc0, bf16_magnitude);
}

/// Signed value of binary16 / bfloat16 bits (Inf and NaN included).
inline double f16_value(std::uint16_t bits) {
  if ((bits & 0x7c00) == 0x7c00) {
    return (bits & 0x3ff) != 0 ? NAN : ((bits & 0x8000) ? -INFINITY : INFINITY);
  }
  const double m = f16_magnitude(bits & 0x7fff);
  return (bits & 0x8000) ? -m : m;
}
inline double bf16_value(std::uint16_t bits) {
  if ((bits & 0x7f80) == 0x7f80) {
    return (bits & 0x7f) != 0 ? NAN : ((bits & 0x8000) ? -INFINITY : INFINITY);
  }
  const double m = bf16_magnitude(bits & 0x7fff);
  return (bits & 0x8000) ? -m : m;
}

}  // namespace cuxplain::reference
