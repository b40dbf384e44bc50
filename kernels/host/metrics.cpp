// Host backend of the metric and baseline ops: the walks of
// kernels/metrics_walks.hpp run as OpenMP loops, and the rank maps as one
// std::stable_sort per image.
#include "../metrics.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../metrics_walks.hpp"
#include "for_each.hpp"

namespace cuxplain::kernels::host {
namespace {

constexpr HostExec exec{};

}  // namespace

void select_activated_outputs(const Context&, const float* outputs, std::int64_t rows,
                              std::int64_t num_outputs, std::int64_t target,
                              OutputActivation activation, float* selected) {
  walks::select_activated_outputs(exec, outputs, rows, num_outputs, target, activation, selected);
}

void count_nonfinite(const Context&, const float* values, std::int64_t count, int* counter) {
  walks::count_nonfinite(exec, values, count, counter);
}

void explanation_means(const Context&, ConstImageView explanations, bool magnitude,
                       float* means) {
  walks::explanation_means(exec, explanations, magnitude, means);
}

void rank_maps(const Context&, const float* keys, std::int64_t n, std::int64_t pixels,
               bool ties_high_first, std::int32_t* ranks) {
#pragma omp parallel
  {
    std::vector<std::int32_t> order(static_cast<std::size_t>(pixels));
#pragma omp for schedule(static)
    for (std::int64_t image = 0; image < n; ++image) {
      const float* k = keys + image * pixels;
      std::iota(order.begin(), order.end(), 0);
      // Descending keys; equal keys keep the index order (stable), or the
      // reverse of it, NumPy's argsort(kind="stable")[::-1].
      if (ties_high_first) std::reverse(order.begin(), order.end());
      std::stable_sort(order.begin(), order.end(),
                       [k](std::int32_t a, std::int32_t b) { return k[a] > k[b]; });
      std::int32_t* r = ranks + image * pixels;
      for (std::int64_t j = 0; j < pixels; ++j) r[order[static_cast<std::size_t>(j)]] =
          static_cast<std::int32_t>(j);
    }
  }
}

void sort_ascending(const Context&, const float* keys, std::int64_t n, std::int64_t pixels,
                    float* sorted) {
#pragma omp parallel for schedule(static)
  for (std::int64_t image = 0; image < n; ++image) {
    std::copy(keys + image * pixels, keys + (image + 1) * pixels, sorted + image * pixels);
    std::sort(sorted + image * pixels, sorted + (image + 1) * pixels);
  }
}

void causal_fill(const Context&, ConstImageView images, const std::int32_t* ranks,
                 const std::int64_t* counts, std::int64_t points, bool deletion, float baseline,
                 std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::causal_fill(exec, images, ranks, counts, points, deletion, baseline, row_begin, rows,
                     out);
}

void weighted_sums(const Context&, const float* curves, std::int64_t n, std::int64_t points,
                   const double* weights, float* out) {
  walks::weighted_sums(exec, curves, n, points, weights, out);
}

void mufidelity_masks(const Context&, std::uint64_t seed, Convention convention,
                      std::int64_t group_size, std::int64_t samples, std::int64_t cells,
                      float subset_percent, std::int64_t row_begin, std::int64_t rows,
                      float* masks) {
  walks::mufidelity_masks(exec, seed, convention, group_size, samples, cells, subset_percent,
                          row_begin, rows, masks);
}

void cell_masses(const Context&, ConstImageView explanations, std::int64_t grid, double* masses) {
  walks::cell_masses(exec, explanations, grid, masses);
}

void removed_masses(const Context&, const float* masks, const double* masses, std::int64_t cells,
                    std::int64_t rows_per_image, std::int64_t row_begin, std::int64_t rows,
                    double* out) {
  walks::removed_masses(exec, masks, masses, cells, rows_per_image, row_begin, rows, out);
}

void mufidelity_correlations(const Context&, const float* outputs, const double* masses,
                             std::int64_t n, std::int64_t samples, float* preds,
                             std::int64_t* ranks, float* out) {
  walks::mufidelity_correlations(exec, outputs, masses, n, samples, preds, ranks, out);
}

void average_score_masks(const Context&, const float* means, std::int64_t n, std::int64_t pixels,
                         float* masks) {
  walks::average_score_masks(exec, means, n, pixels, masks);
}

void average_score_fill(const Context&, ConstImageView images, const float* masks,
                        std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::average_score_fill(exec, images, masks, row_begin, rows, out);
}

void average_score_values(const Context&, const float* outputs, std::int64_t n, float* drop,
                          float* increase, float* gain) {
  walks::average_score_values(exec, outputs, n, drop, increase, gain);
}

void stability_neighbours(const Context&, ConstImageView image, std::uint64_t seed,
                          std::int64_t group, std::int64_t samples, std::int64_t first,
                          std::int64_t count, float radius, float* out) {
  walks::stability_neighbours(exec, image, seed, group, samples, first, count, radius, out);
}

void explanation_distances(const Context&, const float* base, const float* batch,
                           std::int64_t count, std::int64_t size, Distance distance,
                           double* row_distances, double* sum) {
  walks::explanation_distances(exec, base, batch, count, size, distance, row_distances, sum);
}

void finish_means(const Context&, const double* sums, std::int64_t n, double divisor,
                  float* out) {
  walks::finish_means(exec, sums, n, divisor, out);
}

void entropies(const Context&, const float* means, std::int64_t n, std::int64_t pixels,
               float* out) {
  walks::entropies(exec, means, n, pixels, out);
}

void ginis(const Context&, const float* sorted, std::int64_t n, std::int64_t pixels, float* out) {
  walks::ginis(exec, sorted, n, pixels, out);
}

void occlusion_fill(const Context&, ConstImageView images,
                    const detail::OcclusionGeometry& geometry, float value,
                    std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::occlusion_fill(exec, images, geometry, value, row_begin, rows, out);
}

void occlusion_maps(const Context&, const float* outputs, std::int64_t n, std::int64_t h,
                    std::int64_t w, const detail::OcclusionGeometry& geometry, float* maps) {
  walks::occlusion_maps(exec, outputs, n, h, w, geometry, maps);
}

void rise_rows(const Context&, std::uint64_t seed, Convention convention, std::int64_t grid,
               float probability, std::int64_t masks, std::int64_t batch_size,
               std::int64_t shift_range_h, std::int64_t shift_range_w, std::int64_t row_begin,
               std::int64_t rows, float* cells, std::int64_t* shifts) {
  walks::rise_rows(exec, seed, convention, grid, probability, masks, batch_size, shift_range_h,
                   shift_range_w, row_begin, rows, cells, shifts);
}

void rise_fill(const Context&, ConstImageView images, const float* cells,
               const std::int64_t* shifts, std::int64_t grid,
               const detail::MaskAxisTap<std::int64_t>* taps_y,
               const detail::MaskAxisTap<std::int64_t>* taps_x, float mask_value,
               std::int64_t masks, std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::rise_fill(exec, images, cells, shifts, grid, taps_y, taps_x, mask_value, masks,
                   row_begin, rows, out);
}

void rise_accumulate(const Context&, const float* cells, const std::int64_t* shifts,
                     const float* scores, std::int64_t count, std::int64_t grid,
                     const detail::MaskAxisTap<std::int64_t>* taps_y,
                     const detail::MaskAxisTap<std::int64_t>* taps_x, std::int64_t h,
                     std::int64_t w, double* weighted, double* mask_sums) {
  walks::rise_accumulate(exec, cells, shifts, scores, count, grid, taps_y, taps_x, h, w,
                         weighted, mask_sums);
}

void rise_finalize(const Context&, const double* weighted, const double* mask_sums,
                   std::int64_t count, Convention convention, std::int64_t masks,
                   float probability, float* maps) {
  walks::rise_finalize(exec, weighted, mask_sums, count, convention, masks, probability, maps);
}

void kernel_shap_masks(const Context&, std::uint64_t seed, std::int64_t samples,
                       std::int64_t cells, const double* cdf, std::int64_t row_begin,
                       std::int64_t rows, std::uint32_t* keys, float* masks) {
  walks::kernel_shap_masks(exec, seed, samples, cells, cdf, row_begin, rows, keys, masks);
}

void normal_equations(const Context&, const float* masks, const float* scores,
                      std::int64_t count, std::int64_t cells, double* gram, double* moments) {
  walks::normal_equations(exec, masks, scores, count, cells, gram, moments);
}

}  // namespace cuxplain::kernels::host
