// The metric and baseline ops, written once over the execution contract
// (kernels/backend.hpp) with CUXPLAIN_LAMBDA bodies and compiled for each
// backend by kernels/cpu/metrics.cpp and kernels/cuda/metrics.cu, beside
// their sorts (std::stable_sort on the CPU, CUB's radix sort on CUDA).
// Per-element math is in include/cuxplain/detail/{metrics,baselines}.hpp;
// here only the index space is walked. Every body writes its own outputs;
// sums run sequentially inside one index, in a fixed order, so both
// backends add in the same order.
#include <cmath>
#include <cstdint>

#include <cuxplain/core/conventions.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/detail/baselines.hpp>
#include <cuxplain/detail/metrics.hpp>
#include <cuxplain/detail/model_outputs.hpp>
#include <cuxplain/detail/perturbation.hpp>
#include <cuxplain/detail/rounding.hpp>

#include "metrics.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace metrics_ops {

using Index = std::int64_t;

/// An image batch's geometry as plain scalars (the lambdas capture it).
struct Geometry {
  const float* data;
  Index c, h, w, size, pixels;
  bool nhwc;
};

inline Geometry geometry_of(ConstImageView v) {
  return {v.data, v.c, v.h, v.w, v.c * v.h * v.w, v.h * v.w, v.layout == Layout::nhwc};
}

/// Offset of (channel, pixel) in an image.
CUXPLAIN_HD Index offset_of(const Geometry& g, Index channel, Index pixel) {
  return g.nhwc ? pixel * g.c + channel : channel * g.pixels + pixel;
}

}  // namespace metrics_ops

using metrics_ops::Geometry;
using metrics_ops::Index;
using metrics_ops::geometry_of;
using metrics_ops::offset_of;

// ------------------------------------------------------------------ outputs

void select_activated_outputs(const Context& ctx, const float* outputs, Index rows, Index num_outputs,
                              Index target, OutputActivation activation, float* selected) {
  for_each(ctx, rows, [=] CUXPLAIN_LAMBDA(Index r) {
    selected[r] = detail::activated_output(outputs + r * num_outputs, num_outputs, target,
                                           activation);
  });
}

void count_nonfinite(const Context& ctx, const float* values, Index count, int* counter) {
  for_each(ctx, 1, [=] CUXPLAIN_LAMBDA(Index) {
    int bad = 0;
    for (Index i = 0; i < count; ++i) bad += detail::is_finite_bits(values[i]) ? 0 : 1;
    *counter += bad;
  });
}

// ------------------------------------------------------------- explanations

void explanation_means(const Context& ctx, ConstImageView explanations, bool magnitude,
                       float* means) {
  const Geometry g = geometry_of(explanations);
  for_each(ctx, explanations.n * g.pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index image = i / g.pixels, pixel = i % g.pixels;
    const float* first = g.data + image * g.size + offset_of(g, 0, pixel);
    means[i] = detail::explanation_channel_mean(first, g.c, g.nhwc ? 1 : g.pixels, magnitude);
  });
}

// --------------------------------------------------------- deletion, insertion

void causal_fill(const Context& ctx, ConstImageView images, const std::int32_t* ranks,
                 const std::int64_t* counts, Index points, bool deletion, float baseline,
                 Index row_begin, Index rows, float* out) {
  const Geometry g = geometry_of(images);
  // One index per (row, pixel): the rank is read once for the channels.
  for_each(ctx, rows * g.pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index b = i / g.pixels, pixel = i % g.pixels;
    const Index row = row_begin + b;
    const Index image = row / points, step = row % points;
    const std::int32_t rank = ranks[image * g.pixels + pixel];
    const std::int64_t count = counts[step];
    for (Index c = 0; c < g.c; ++c) {
      const Index e = offset_of(g, c, pixel);
      out[b * g.size + e] =
          detail::causal_value(deletion, g.data[image * g.size + e], baseline, rank, count);
    }
  });
}

void weighted_sums(const Context& ctx, const float* curves, Index n, Index points,
                   const double* weights, float* out) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index i) {
    double sum = 0.0;
    for (Index s = 0; s < points; ++s) {
      sum += detail::mul_unfused(weights[s], static_cast<double>(curves[i * points + s]));
    }
    out[i] = static_cast<float>(sum);
  });
}

// --------------------------------------------------------------- MuFidelity

void mufidelity_masks(const Context& ctx, std::uint64_t seed, Convention convention,
                      Index group_size, Index samples, Index cells, float subset_percent,
                      Index row_begin, Index rows, float* masks) {
  const Index per_image = samples + 1;
  for_each(ctx, rows * cells, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index row = row_begin + i / cells, cell = i % cells;
    const Index image = row / per_image, local = row % per_image;
    masks[i] = local == 0 ? 1.0f
                          : detail::mufidelity_cell(
                                seed, detail::mufidelity_group(convention, image, group_size),
                                samples, local - 1, cells, cell, subset_percent);
  });
}

void cell_masses(const Context& ctx, ConstImageView explanations, Index grid, double* masses) {
  const Geometry g = geometry_of(explanations);
  const Index cells = grid * grid;
  for_each(ctx, explanations.n * cells, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index image = i / cells, cell = i % cells;
    const Index gy = cell / grid, gx = cell % grid;
    const float* base = g.data + image * g.size;
    double sum = 0.0;
    for (Index y = 0; y < g.h; ++y) {
      if (detail::mask_axis_tap(Interpolation::nearest_exact, y, grid, g.h).i0 != gy) continue;
      for (Index x = 0; x < g.w; ++x) {
        if (detail::mask_axis_tap(Interpolation::nearest_exact, x, grid, g.w).i0 != gx) continue;
        for (Index c = 0; c < g.c; ++c) sum += base[offset_of(g, c, y * g.w + x)];
      }
    }
    masses[i] = sum;
  });
}

void removed_masses(const Context& ctx, const float* masks, const double* masses, Index cells,
                    Index rows_per_image, Index row_begin, Index rows, double* out) {
  for_each(ctx, rows, [=] CUXPLAIN_LAMBDA(Index b) {
    const Index image = (row_begin + b) / rows_per_image;
    double sum = 0.0;
    for (Index k = 0; k < cells; ++k) {
      if (masks[b * cells + k] == 0.0f) sum += masses[image * cells + k];
    }
    out[b] = sum;
  });
}

void mufidelity_correlations(const Context& ctx, const float* outputs, const double* masses,
                             Index n, Index samples, float* preds, std::int64_t* ranks,
                             float* out) {
  const Index per_image = samples + 1;
  for_each(ctx, n * samples, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index image = i / samples, j = i % samples;
    // xplique: base - perturbed, in float.
    preds[i] = outputs[image * per_image] - outputs[image * per_image + 1 + j];
  });
  std::int64_t* pred_ranks = ranks;
  std::int64_t* mass_ranks = ranks + n * samples;
  for_each(ctx, n * samples, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index image = i / samples, j = i % samples;
    pred_ranks[i] = detail::centred_rank2(preds + image * samples, samples, j);
    mass_ranks[i] = detail::centred_rank2(masses + image * per_image + 1, samples, j);
  });
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index image) {
    std::int64_t sxy = 0, sxx = 0, syy = 0;
    for (Index j = 0; j < samples; ++j) {
      const std::int64_t a = pred_ranks[image * samples + j], b = mass_ranks[image * samples + j];
      sxy += a * b;
      sxx += a * a;
      syy += b * b;
    }
    out[image] = detail::spearman_of_sums(sxy, sxx, syy);
  });
}

// ---------------------------------------------- Average Drop/Increase/Gain

void average_score_masks(const Context& ctx, const float* means, Index n, Index pixels,
                         float* masks) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index image) {
    const float* m = means + image * pixels;
    float low = m[0], high = m[0];
    for (Index p = 1; p < pixels; ++p) {
      low = m[p] < low ? m[p] : low;
      high = m[p] > high ? m[p] : high;
    }
    for (Index p = 0; p < pixels; ++p) {
      masks[image * pixels + p] = detail::average_score_mask(m[p], low, high);
    }
  });
}

void average_score_fill(const Context& ctx, ConstImageView images, const float* masks,
                        Index row_begin, Index rows, float* out) {
  const Geometry g = geometry_of(images);
  for_each(ctx, rows * g.pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index b = i / g.pixels, pixel = i % g.pixels;
    const Index row = row_begin + b, image = row / 2;
    const bool masked = row % 2 == 1;
    const float m = masks[image * g.pixels + pixel];
    for (Index c = 0; c < g.c; ++c) {
      const Index e = offset_of(g, c, pixel);
      const float x = g.data[image * g.size + e];
      out[b * g.size + e] = masked ? x * m : x;
    }
  });
}

void average_score_values(const Context& ctx, const float* outputs, Index n, float* drop,
                          float* increase, float* gain) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index i) {
    const detail::AverageScores s = detail::average_scores(outputs[2 * i], outputs[2 * i + 1]);
    drop[i] = s.drop;
    increase[i] = s.increase;
    gain[i] = s.gain;
  });
}

// ---------------------------------------------------------------- stability

void stability_neighbours(const Context& ctx, ConstImageView image, std::uint64_t seed, Index group,
                          Index samples, Index first, Index count, float radius, float* out) {
  const Geometry g = geometry_of(image);
  for_each(ctx, count * g.size, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index sample = first + i / g.size, e = i % g.size;
    const std::uint64_t position =
        detail::kRegionNoise + static_cast<std::uint64_t>((group * samples + sample) * g.size + e);
    const float noise = detail::mul_rounded<detail::Rounding::nearest>(
        detail::curand_philox_uniform(seed, position), radius);
    out[i] = g.data[e] + noise;
  });
}

void explanation_distances(const Context& ctx, const float* base, const float* batch, Index count,
                           Index size, Distance distance, double* row_distances, double* sum) {
  for_each(ctx, count, [=] CUXPLAIN_LAMBDA(Index r) {
    double total = 0.0;
    for (Index e = 0; e < size; ++e) {
      const double d =
          static_cast<double>(batch[r * size + e]) - static_cast<double>(base[e]);
      total += distance == Distance::l1 ? fabs(d) : detail::mul_unfused(d, d);
    }
    row_distances[r] = distance == Distance::l1 ? total : sqrt(total);
  });
  for_each(ctx, 1, [=] CUXPLAIN_LAMBDA(Index) {
    double total = *sum;
    for (Index r = 0; r < count; ++r) total += row_distances[r];
    *sum = total;
  });
}

void finish_means(const Context& ctx, const double* sums, Index n, double divisor, float* out) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index i) { out[i] = static_cast<float>(sums[i] / divisor); });
}

// --------------------------------------------------------------- complexity

void entropies(const Context& ctx, const float* means, Index n, Index pixels, float* out) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index i) {
    out[i] = static_cast<float>(detail::entropy_of(means + i * pixels, pixels));
  });
}

void ginis(const Context& ctx, const float* sorted, Index n, Index pixels, float* out) {
  for_each(ctx, n, [=] CUXPLAIN_LAMBDA(Index i) {
    out[i] = static_cast<float>(detail::gini_of_sorted(sorted + i * pixels, pixels));
  });
}

// ---------------------------------------------------------------- occlusion

void occlusion_fill(const Context& ctx, ConstImageView images,
                    const detail::OcclusionGeometry& patches, float value, Index row_begin,
                    Index rows, float* out) {
  const Geometry g = geometry_of(images);
  const detail::OcclusionGeometry p = patches;
  const Index per_image = p.count_h * p.count_w + 1;
  for_each(ctx, rows * g.pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index b = i / g.pixels, pixel = i % g.pixels;
    const Index row = row_begin + b;
    const Index image = row / per_image, local = row % per_image;
    const bool occluded =
        local > 0 && detail::occlusion_covers(p, local - 1, pixel / g.w, pixel % g.w);
    for (Index c = 0; c < g.c; ++c) {
      const Index e = offset_of(g, c, pixel);
      out[b * g.size + e] = occluded ? value : g.data[image * g.size + e];
    }
  });
}

void occlusion_maps(const Context& ctx, const float* outputs, Index n, Index h, Index w,
                    const detail::OcclusionGeometry& patches, float* maps) {
  const detail::OcclusionGeometry p = patches;
  const Index per_image = p.count_h * p.count_w + 1;
  const Index pixels = h * w;
  for_each(ctx, n * pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index image = i / pixels, pixel = i % pixels;
    maps[i] = detail::occlusion_score(p, outputs + image * per_image, pixel / w, pixel % w);
  });
}

// --------------------------------------------------------------------- RISE

void rise_rows(const Context& ctx, std::uint64_t seed, Convention convention, Index grid,
               float probability, Index masks, Index batch_size, Index shift_range_h,
               Index shift_range_w, Index row_begin, Index rows, float* cells,
               std::int64_t* shifts) {
  const Index per_mask = grid * grid;
  for_each(ctx, rows * per_mask, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index mask = (row_begin + i / per_mask) % masks;
    cells[i] = detail::rise_cell(seed, mask, per_mask, i % per_mask, probability);
  });
  for_each(ctx, rows * 2, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index row = row_begin + i / 2;
    const int axis = static_cast<int>(i % 2);
    shifts[i] = detail::rise_shift(seed, convention, row / masks, row % masks, masks, batch_size,
                                   axis, axis == 0 ? shift_range_h : shift_range_w);
  });
}

using Tap = detail::MaskAxisTap<Index>;

void rise_fill(const Context& ctx, ConstImageView images, const float* cells,
               const std::int64_t* shifts, Index grid, const Tap* taps_y, const Tap* taps_x,
               float mask_value, Index masks, Index row_begin, Index rows, float* out) {
  const Geometry g = geometry_of(images);
  const Index per_mask = grid * grid;
  // One index per (row, pixel): the mask value is shared by the channels.
  for_each(ctx, rows * g.pixels, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index b = i / g.pixels, pixel = i % g.pixels;
    const Index image = (row_begin + b) / masks;
    const float m =
        detail::rise_mask_value(cells + b * per_mask, grid, taps_y[pixel / g.w + shifts[2 * b]],
                                taps_x[pixel % g.w + shifts[2 * b + 1]]);
    for (Index c = 0; c < g.c; ++c) {
      const Index e = offset_of(g, c, pixel);
      out[b * g.size + e] = detail::perturbed_value(
          Perturbation::inpainting, g.data[image * g.size + e], m, mask_value, 1.0f);
    }
  });
}

void rise_accumulate(const Context& ctx, const float* cells, const std::int64_t* shifts,
                     const float* scores, Index count, Index grid, const Tap* taps_y,
                     const Tap* taps_x, Index h, Index w, double* weighted, double* mask_sums) {
  const Index per_mask = grid * grid;
  for_each(ctx, h * w, [=] CUXPLAIN_LAMBDA(Index p) {
    const Index y = p / w, x = p % w;
    double numerator = weighted[p], denominator = mask_sums[p];
    for (Index r = 0; r < count; ++r) {
      const double m = detail::rise_mask_value(cells + r * per_mask, grid,
                                               taps_y[y + shifts[2 * r]],
                                               taps_x[x + shifts[2 * r + 1]]);
      numerator += detail::mul_unfused(static_cast<double>(scores[r]), m);
      denominator += m;
    }
    weighted[p] = numerator;
    mask_sums[p] = denominator;
  });
}

void rise_finalize(const Context& ctx, const double* weighted, const double* mask_sums, Index count,
                   Convention convention, Index masks, float probability, float* maps) {
  for_each(ctx, count, [=] CUXPLAIN_LAMBDA(Index i) {
    maps[i] = detail::rise_saliency(convention, weighted[i], mask_sums[i], masks, probability);
  });
}

// --------------------------------------------------------------- KernelSHAP

void kernel_shap_masks(const Context& ctx, std::uint64_t seed, Index samples, Index cells,
                       const double* cdf, Index row_begin, Index rows, std::uint32_t* keys,
                       float* masks) {
  for_each(ctx, rows * cells, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index row = row_begin + i / cells;
    keys[i] = detail::kernel_shap_key(seed, row / samples, samples, row % samples, cells,
                                      i % cells);
  });
  // The rank of each key, then the coalition's size: two passes, because
  // Philox and the rank loop together need more registers than CUB's
  // DeviceFor policy grants a thread (the kernel spilled).
  for_each(ctx, rows * cells, [=] CUXPLAIN_LAMBDA(Index i) {
    masks[i] = static_cast<float>(detail::kernel_shap_key_rank(keys + i / cells * cells, cells,
                                                              i % cells));
  });
  for_each(ctx, rows * cells, [=] CUXPLAIN_LAMBDA(Index i) {
    const Index row = row_begin + i / cells;
    const Index size =
        detail::kernel_shap_size(seed, row / samples, samples, row % samples, cdf, cells);
    masks[i] = masks[i] < static_cast<float>(size) ? 1.0f : 0.0f;
  });
}

void normal_equations(const Context& ctx, const float* masks, const float* scores, Index count,
                      Index cells, double* gram, double* moments) {
  const Index d = cells + 1;
  for_each(ctx, d * d, [=] CUXPLAIN_LAMBDA(Index idx) {
    const Index a = idx / d, b = idx % d;
    double sum = gram[idx];
    for (Index r = 0; r < count; ++r) {
      const float xa = a == 0 ? 1.0f : masks[r * cells + a - 1];
      const float xb = b == 0 ? 1.0f : masks[r * cells + b - 1];
      sum += static_cast<double>(xa * xb);  // 0 or 1: exact
    }
    gram[idx] = sum;
  });
  for_each(ctx, d, [=] CUXPLAIN_LAMBDA(Index a) {
    double sum = moments[a];
    for (Index r = 0; r < count; ++r) {
      const float xa = a == 0 ? 1.0f : masks[r * cells + a - 1];
      if (xa != 0.0f) sum += static_cast<double>(scores[r]);
    }
    moments[a] = sum;
  });
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
