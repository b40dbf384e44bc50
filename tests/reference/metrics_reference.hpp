#pragma once
// Reference metrics and baselines in double precision, written from their
// definitions (metrics.hpp, baselines.hpp, the papers and xplique's code)
// and independent of include/cuxplain/detail and kernels/: perturbed images
// are built one at a time, rankings come from std::sort with the tie rule
// spelled out, Spearman's ranks from sorting, least squares from Gaussian
// elimination. The one shared piece is the random stream, detail/philox.hpp,
// which tests/host/test_philox.cpp checks against Random123's known answers
// and tests/curand/ against cuRAND itself.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

#include <cuxplain/baselines.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/detail/philox.hpp>
#include <cuxplain/metrics.hpp>
#include <cuxplain/model.hpp>

#include "perturbation_reference.hpp"

namespace cuxplain::reference {

/// Host images with their shape.
struct Images {
  std::vector<float> data;
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  Layout layout = Layout::nchw;

  std::int64_t size() const { return c * h * w; }
  ConstImageView view() const { return {data.data(), n, c, h, w, layout}; }
  std::vector<float> image(std::int64_t i) const {
    return {data.begin() + i * size(), data.begin() + (i + 1) * size()};
  }
  float at(std::int64_t i, std::int64_t ch, std::int64_t y, std::int64_t x) const {
    return data[static_cast<std::size_t>(i * size() + element_offset(c, h, w, layout, ch, y, x))];
  }
};

/// The model's target score on host images, through the activation, in double.
inline std::vector<double> scores(const Model& model, const std::vector<float>& batch,
                                  std::int64_t count, std::int64_t c, std::int64_t h,
                                  std::int64_t w, Layout layout, int target,
                                  OutputActivation activation = OutputActivation::none) {
  std::vector<float> out(static_cast<std::size_t>(count * model.num_outputs));
  model.forward({batch.data(), count, c, h, w, layout}, out.data());
  std::vector<double> result(static_cast<std::size_t>(count));
  for (std::int64_t r = 0; r < count; ++r) {
    const float* row = out.data() + r * model.num_outputs;
    double v = row[target];
    if (activation == OutputActivation::sigmoid) v = 1.0 / (1.0 + std::exp(-v));
    if (activation == OutputActivation::softmax) {
      double top = row[0];
      for (std::int64_t k = 0; k < model.num_outputs; ++k) top = std::max<double>(top, row[k]);
      double sum = 0.0;
      for (std::int64_t k = 0; k < model.num_outputs; ++k) sum += std::exp(row[k] - top);
      v = std::exp(v - top) / sum;
    }
    result[static_cast<std::size_t>(r)] = v;
  }
  return result;
}

/// Channel mean (of magnitudes, with `magnitude`) of explanation i per pixel.
inline std::vector<double> channel_mean(const Images& e, std::int64_t i, bool magnitude) {
  std::vector<double> out(static_cast<std::size_t>(e.h * e.w), 0.0);
  for (std::int64_t y = 0; y < e.h; ++y)
    for (std::int64_t x = 0; x < e.w; ++x) {
      double sum = 0.0;
      for (std::int64_t ch = 0; ch < e.c; ++ch) {
        const double v = e.at(i, ch, y, x);
        sum += magnitude ? std::fabs(v) : v;
      }
      out[static_cast<std::size_t>(y * e.w + x)] = sum / static_cast<double>(e.c);
    }
  return out;
}

/// The ranking key of deletion and insertion: the channel mean in float32,
/// as xplique's np.mean(explanations, -1) computes it (a running float sum
/// from 0, divided once), so that ties are the ones xplique sees.
inline std::vector<double> float_channel_mean(const Images& e, std::int64_t i) {
  std::vector<double> out(static_cast<std::size_t>(e.h * e.w), 0.0);
  for (std::int64_t y = 0; y < e.h; ++y)
    for (std::int64_t x = 0; x < e.w; ++x) {
      float sum = 0.0f;
      for (std::int64_t ch = 0; ch < e.c; ++ch) sum += e.at(i, ch, y, x);
      out[static_cast<std::size_t>(y * e.w + x)] = sum / static_cast<float>(e.c);
    }
  return out;
}

/// Pixels by descending key; equal keys by ascending index, or descending
/// with ties_high_first.
inline std::vector<std::int64_t> ranking(const std::vector<double>& keys, bool ties_high_first) {
  std::vector<std::int64_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    if (keys[a] != keys[b]) return keys[a] > keys[b];
    return ties_high_first ? a > b : a < b;
  });
  return order;
}

/// floor(s * M / steps) in exact integers, M = floor(P * max) (a test picks
/// cases where NumPy's double linspace agrees with it).
inline std::vector<std::int64_t> step_counts(std::int64_t pixels, const CausalOptions& options) {
  const auto m = static_cast<std::int64_t>(
      std::floor(static_cast<double>(pixels) * options.max_percentage_perturbed));
  std::vector<std::int64_t> counts;
  for (std::int64_t s = 0; s <= options.steps; ++s) counts.push_back(s * m / options.steps);
  return counts;
}

struct Causal {
  std::vector<double> curves;  // n x (steps + 1)
  std::vector<double> aucs;
};

inline Causal causal(const Model& model, const Images& images, const std::vector<int>& targets,
                     const Images& explanations, const CausalOptions& options, bool deletion) {
  const std::int64_t pixels = images.h * images.w, points = options.steps + 1;
  const std::vector<std::int64_t> counts = step_counts(pixels, options);
  const double m = static_cast<double>(counts.back());
  Causal out;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const std::vector<std::int64_t> order = ranking(
        float_channel_mean(explanations, i), options.convention == Convention::xplique);
    std::vector<float> batch;
    for (std::int64_t s = 0; s < points; ++s) {
      std::vector<bool> moved(static_cast<std::size_t>(pixels), false);
      for (std::int64_t j = 0; j < counts[static_cast<std::size_t>(s)]; ++j) {
        moved[static_cast<std::size_t>(order[static_cast<std::size_t>(j)])] = true;
      }
      std::vector<float> image(static_cast<std::size_t>(images.size()));
      for (std::int64_t ch = 0; ch < images.c; ++ch)
        for (std::int64_t y = 0; y < images.h; ++y)
          for (std::int64_t x = 0; x < images.w; ++x) {
            const bool is_moved = moved[static_cast<std::size_t>(y * images.w + x)];
            const bool keep_image = deletion ? !is_moved : is_moved;
            image[static_cast<std::size_t>(
                element_offset(images.c, images.h, images.w, images.layout, ch, y, x))] =
                keep_image ? images.at(i, ch, y, x) : options.baseline;
          }
      batch.insert(batch.end(), image.begin(), image.end());
    }
    const std::vector<double> y =
        scores(model, batch, points, images.c, images.h, images.w, images.layout,
               targets[static_cast<std::size_t>(i)], options.activation);
    out.curves.insert(out.curves.end(), y.begin(), y.end());
    double auc = 0.0;
    if (options.convention == Convention::paper) {
      for (std::int64_t s = 0; s + 1 < points; ++s) {
        auc += static_cast<double>(counts[s + 1] - counts[s]) * (y[s] + y[s + 1]) / (2.0 * m);
      }
    } else {
      // xplique's dict keyed by the count, then np.mean of the trapezoids.
      std::vector<double> kept;
      for (std::int64_t s = 0; s < points; ++s) {
        if (s == 0 || counts[s] != counts[s - 1]) kept.push_back(y[s]);
      }
      for (std::size_t j = 0; j + 1 < kept.size(); ++j) auc += (kept[j] + kept[j + 1]) * 0.5;
      auc /= static_cast<double>(kept.size() - 1);
    }
    out.aucs.push_back(auc);
  }
  return out;
}

/// Spearman's rho by sorting: average ranks for ties, then Pearson's r of the
/// ranks (two-pass); NaN when a side is constant.
inline double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const auto ranks = [](const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
    std::vector<double> r(v.size());
    for (std::size_t start = 0; start < order.size();) {
      std::size_t end = start;
      while (end < order.size() && v[order[end]] == v[order[start]]) ++end;
      const double average = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2.0;
      for (std::size_t k = start; k < end; ++k) r[order[k]] = average;
      start = end;
    }
    return r;
  };
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += ra[i] / n;
    mb += rb[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

/// MuFidelity per image, from the definition in metrics.hpp.
inline std::vector<double> mu_fidelity(const Model& model, const Images& images,
                                       const std::vector<int>& targets, const Images& e,
                                       const MuFidelityOptions& options) {
  const std::int64_t g = options.grid_size, cells = g * g, samples = options.nb_samples;
  const std::int64_t group_size =
      std::max<std::int64_t>(1, options.batch_size / std::min(options.batch_size, samples));
  std::vector<double> out;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const std::int64_t group = options.convention == Convention::paper ? i : i / group_size;
    const int target = targets[static_cast<std::size_t>(i)];
    const std::vector<float> x = images.image(i);
    const double base = scores(model, x, 1, images.c, images.h, images.w, images.layout, target,
                               options.activation)[0];
    std::vector<double> preds, masses;
    for (std::int64_t j = 0; j < samples; ++j) {
      std::vector<float> cell_mask(static_cast<std::size_t>(cells));
      for (std::int64_t k = 0; k < cells; ++k) {
        const std::uint64_t position = static_cast<std::uint64_t>((group * samples + j) * cells + k);
        cell_mask[static_cast<std::size_t>(k)] =
            detail::curand_philox_uniform(options.seed, position) > options.subset_percent ? 1.0f
                                                                                            : 0.0f;
      }
      const std::vector<double> m = upsample_mask(cell_mask.data(), g, 1, images.h, images.w,
                                                  Interpolation::nearest_exact);
      std::vector<float> perturbed(x.size());
      double mass = 0.0;
      for (std::int64_t y = 0; y < images.h; ++y)
        for (std::int64_t xx = 0; xx < images.w; ++xx) {
          const double mv = m[static_cast<std::size_t>(y * images.w + xx)];
          for (std::int64_t ch = 0; ch < images.c; ++ch) {
            const auto o = static_cast<std::size_t>(
                element_offset(images.c, images.h, images.w, images.layout, ch, y, xx));
            perturbed[o] = static_cast<float>(x[o] * mv + (1.0 - mv) * options.baseline);
          }
          for (std::int64_t ch = 0; ch < e.c; ++ch) mass += e.at(i, ch, y, xx) * (1.0 - mv);
        }
      const double after = scores(model, perturbed, 1, images.c, images.h, images.w,
                                  images.layout, target, options.activation)[0];
      // xplique subtracts in float32.
      preds.push_back(static_cast<float>(base) - static_cast<float>(after));
      masses.push_back(mass);
    }
    const double rho = spearman(preds, masses);
    out.push_back(std::isnan(rho) ? 0.0 : rho);
  }
  return out;
}

struct AverageScores {
  std::vector<double> drop, increase, gain;
};

inline AverageScores average_scores(const Model& model, const Images& images,
                                    const std::vector<int>& targets, const Images& e,
                                    OutputActivation activation) {
  AverageScores out;
  const double eps = 1e-8;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const std::vector<double> m = channel_mean(e, i, true);
    const double low = *std::min_element(m.begin(), m.end());
    const double high = *std::max_element(m.begin(), m.end());
    std::vector<float> x = images.image(i), masked(x.size());
    for (std::int64_t ch = 0; ch < images.c; ++ch)
      for (std::int64_t y = 0; y < images.h; ++y)
        for (std::int64_t xx = 0; xx < images.w; ++xx) {
          const auto o = static_cast<std::size_t>(
              element_offset(images.c, images.h, images.w, images.layout, ch, y, xx));
          const double mask = (m[static_cast<std::size_t>(y * images.w + xx)] - low) /
                              (high - low + eps);
          masked[o] = static_cast<float>(x[o] * mask);
        }
    const int t = targets[static_cast<std::size_t>(i)];
    const double base =
        scores(model, x, 1, images.c, images.h, images.w, images.layout, t, activation)[0];
    const double after =
        scores(model, masked, 1, images.c, images.h, images.w, images.layout, t, activation)[0];
    out.drop.push_back(std::max(0.0, base - after) / (base + eps));
    out.increase.push_back(after > base ? 1.0 : 0.0);
    out.gain.push_back(std::max(0.0, after - base) / (1.0 - base + eps));
  }
  return out;
}

inline std::vector<double> complexity(const Images& e) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < e.n; ++i) {
    const std::vector<double> m = channel_mean(e, i, true);
    const double total = std::accumulate(m.begin(), m.end(), 0.0) + 1e-8;
    double h = 0.0;
    for (double v : m) h -= (v / total) * std::log(v / total + 1e-8);
    out.push_back(h);
  }
  return out;
}

inline std::vector<double> sparseness(const Images& e) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < e.n; ++i) {
    std::vector<double> m = channel_mean(e, i, true);
    const double total = std::accumulate(m.begin(), m.end(), 0.0) + 1e-8;
    for (double& v : m) v /= total;
    std::sort(m.begin(), m.end());
    const double n = static_cast<double>(m.size());
    double weighted = 0.0, sum = 0.0;
    for (std::size_t k = 0; k < m.size(); ++k) {
      weighted += static_cast<double>(k + 1) * m[k];
      sum += m[k];
    }
    out.push_back(2.0 * weighted / (n * sum + 1e-8) - (n + 1.0) / n);
  }
  return out;
}

/// Occlusion by enumeration of xplique's patches.
inline std::vector<double> occlusion(const Model& model, const Images& images,
                                     const std::vector<int>& targets,
                                     const OcclusionOptions& o) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const int t = targets[static_cast<std::size_t>(i)];
    const std::vector<float> x = images.image(i);
    const double base = scores(model, x, 1, images.c, images.h, images.w, images.layout, t)[0];
    std::vector<double> map(static_cast<std::size_t>(images.h * images.w), 0.0);
    for (std::int64_t top = 0; top + o.patch_h <= images.h; top += o.stride_h)
      for (std::int64_t left = 0; left + o.patch_w <= images.w; left += o.stride_w) {
        std::vector<float> occluded = x;
        for (std::int64_t y = top; y < top + o.patch_h; ++y)
          for (std::int64_t xx = left; xx < left + o.patch_w; ++xx)
            for (std::int64_t ch = 0; ch < images.c; ++ch)
              occluded[static_cast<std::size_t>(element_offset(
                  images.c, images.h, images.w, images.layout, ch, y, xx))] = o.occlusion_value;
        const double delta =
            base - scores(model, occluded, 1, images.c, images.h, images.w, images.layout, t)[0];
        for (std::int64_t y = top; y < top + o.patch_h; ++y)
          for (std::int64_t xx = left; xx < left + o.patch_w; ++xx)
            map[static_cast<std::size_t>(y * images.w + xx)] += delta;
      }
    out.insert(out.end(), map.begin(), map.end());
  }
  return out;
}

/// RISE from its definition: mask i's cells, shift, the bilinear canvas.
struct RiseMask {
  std::vector<double> values;  // h x w at the image's pixels
};

inline RiseMask rise_mask(const RiseOptions& o, std::int64_t image, std::int64_t i,
                          std::int64_t h, std::int64_t w) {
  const std::int64_t g = o.grid_size, cells = g * g;
  std::vector<float> cell(static_cast<std::size_t>(cells));
  for (std::int64_t k = 0; k < cells; ++k) {
    cell[static_cast<std::size_t>(k)] =
        detail::curand_philox_uniform(o.seed, static_cast<std::uint64_t>(i * cells + k)) <
                o.preservation_probability
            ? 1.0f
            : 0.0f;
  }
  const auto axis = [&](std::int64_t side) {
    if (o.convention == Convention::paper) {
      const std::int64_t c = (side + g - 1) / g;
      return std::pair<std::int64_t, std::int64_t>{(g + 1) * c, c};
    }
    const auto canvas = static_cast<std::int64_t>(side * (1.0 + 1.0 / g));
    return std::pair<std::int64_t, std::int64_t>{canvas, canvas - side + 1};
  };
  const auto [canvas_h, range_h] = axis(h);
  const auto [canvas_w, range_w] = axis(w);
  std::int64_t draw = i;
  if (o.convention == Convention::xplique) {
    draw = image * ((o.nb_samples + o.batch_size - 1) / o.batch_size) + i / o.batch_size;
  }
  const auto shift = [&](int a, std::int64_t range) {
    const std::uint32_t bits = detail::curand_philox_bits(
        o.seed, detail::kRegionShifts + static_cast<std::uint64_t>(2 * draw + a));
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(bits) *
                                      static_cast<std::uint64_t>(range)) >> 32);
  };
  const std::int64_t dy = shift(0, range_h), dx = shift(1, range_w);
  const std::vector<double> canvas =
      upsample_mask(cell.data(), g, 1, canvas_h, canvas_w, Interpolation::bilinear);
  RiseMask m;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x)
      m.values.push_back(canvas[static_cast<std::size_t>((y + dy) * canvas_w + x + dx)]);
  return m;
}

inline std::vector<double> rise(const Model& model, const Images& images,
                                const std::vector<int>& targets, const RiseOptions& o) {
  std::vector<double> out;
  const std::int64_t pixels = images.h * images.w;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const std::vector<float> x = images.image(i);
    std::vector<double> weighted(static_cast<std::size_t>(pixels), 0.0), sums = weighted;
    for (std::int64_t k = 0; k < o.nb_samples; ++k) {
      const RiseMask m = rise_mask(o, i, k, images.h, images.w);
      std::vector<float> masked(x.size());
      for (std::int64_t ch = 0; ch < images.c; ++ch)
        for (std::int64_t p = 0; p < pixels; ++p) {
          const auto off = static_cast<std::size_t>(element_offset(
              images.c, images.h, images.w, images.layout, ch, p / images.w, p % images.w));
          masked[off] = static_cast<float>(m.values[p] * x[off] +
                                           (1.0 - m.values[p]) * o.mask_value);
        }
      const double score = scores(model, masked, 1, images.c, images.h, images.w, images.layout,
                                  targets[static_cast<std::size_t>(i)])[0];
      for (std::int64_t p = 0; p < pixels; ++p) {
        weighted[p] += score * m.values[p];
        sums[p] += m.values[p];
      }
    }
    for (std::int64_t p = 0; p < pixels; ++p) {
      out.push_back(o.convention == Convention::paper
                        ? weighted[p] / (static_cast<double>(o.nb_samples) *
                                         o.preservation_probability)
                        : weighted[p] / (sums[p] + 1e-4));
    }
  }
  return out;
}

/// Solves A x = b (n x n, row-major) by Gaussian elimination with partial
/// pivoting, in long double.
inline std::vector<double> solve(std::vector<long double> a, std::vector<long double> b) {
  const std::size_t n = b.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    for (std::size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (std::size_t r = col + 1; r < n; ++r) {
      const long double f = a[r * n + col] / a[col * n + col];
      for (std::size_t k = col; k < n; ++k) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> x(n);
  for (std::size_t i = n; i-- > 0;) {
    long double s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= a[i * n + k] * x[k];
    x[i] = static_cast<double>(s / a[i * n + i]);
  }
  return x;
}

/// KernelSHAP: the documented coalitions, then ordinary least squares with an
/// intercept (the normal equations of [1 | Z], solved by elimination).
inline std::vector<double> kernel_shap(const Model& model, const Images& images,
                                       const std::vector<int>& targets,
                                       const KernelShapOptions& o) {
  const std::int64_t g = o.grid_size, d = g * g, samples = o.nb_samples;
  const float baseline = o.baseline.value_or(images.c == 3 ? 0.5f : 0.0f);
  std::vector<double> weights;
  for (std::int64_t k = 1; k < d; ++k) weights.push_back((d - 1.0) / (k * (d - k + 0.0)));
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<double> out;
  for (std::int64_t i = 0; i < images.n; ++i) {
    const std::vector<float> x = images.image(i);
    std::vector<long double> a(static_cast<std::size_t>((d + 1) * (d + 1)), 0.0L);
    std::vector<long double> b(static_cast<std::size_t>(d + 1), 0.0L);
    for (std::int64_t j = 0; j < samples; ++j) {
      const double u = detail::curand_philox_uniform(
          o.seed, detail::kRegionSubsetSizes + static_cast<std::uint64_t>(i * samples + j));
      std::int64_t size = d - 1;
      double cumulative = 0.0;
      for (std::int64_t k = 1; k < d; ++k) {
        cumulative += weights[static_cast<std::size_t>(k - 1)] / total;
        if (cumulative >= u) {
          size = k;
          break;
        }
      }
      std::vector<std::pair<std::uint32_t, std::int64_t>> keys;
      for (std::int64_t k = 0; k < d; ++k) {
        keys.push_back({detail::curand_philox_bits(
                            o.seed, static_cast<std::uint64_t>((i * samples + j) * d + k)),
                        k});
      }
      std::sort(keys.begin(), keys.end(), [](const auto& p, const auto& q) {
        return p.first != q.first ? p.first > q.first : p.second < q.second;
      });
      std::vector<float> z(static_cast<std::size_t>(d), 0.0f);
      for (std::int64_t k = 0; k < size; ++k) z[static_cast<std::size_t>(keys[k].second)] = 1.0f;
      const std::vector<double> m =
          upsample_mask(z.data(), g, 1, images.h, images.w, o.mask_interpolation);
      std::vector<float> perturbed(x.size());
      for (std::int64_t ch = 0; ch < images.c; ++ch)
        for (std::int64_t p = 0; p < images.h * images.w; ++p) {
          const auto off = static_cast<std::size_t>(element_offset(
              images.c, images.h, images.w, images.layout, ch, p / images.w, p % images.w));
          perturbed[off] = m[p] != 0.0 ? x[off] : baseline;
        }
      const double y = scores(model, perturbed, 1, images.c, images.h, images.w, images.layout,
                              targets[static_cast<std::size_t>(i)])[0];
      std::vector<double> row{1.0};
      row.insert(row.end(), z.begin(), z.end());
      for (std::int64_t r = 0; r <= d; ++r) {
        for (std::int64_t c = 0; c <= d; ++c) a[r * (d + 1) + c] += row[r] * row[c];
        b[r] += row[r] * y;
      }
    }
    const std::vector<double> beta = solve(a, b);
    out.insert(out.end(), beta.begin() + 1, beta.end());
  }
  return out;
}

}  // namespace cuxplain::reference
