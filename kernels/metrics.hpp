#pragma once
// Backend ops of the metrics (host/explain/metrics.cpp, row_stream.cpp) and
// the baselines (host/explain/baselines.cpp), declared for both backends.
// Internal: the public entries validate their arguments first; these assume
// them valid. Written once in kernels/metrics.inl but for the sorts,
// std::stable_sort on the CPU and CUB's radix sort on CUDA.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/conventions.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/detail/baselines.hpp>

#define CUXPLAIN_METRIC_OPS                                                                       \
  /* selected[r] = activated target score of output row r */                                     \
  void select_activated_outputs(const Context& ctx, const float* outputs, std::int64_t rows,     \
                                std::int64_t num_outputs, std::int64_t target,                   \
                                OutputActivation activation, float* selected);                   \
  /* *counter += the non-finite values among values[0, count) */                                 \
  void count_nonfinite(const Context& ctx, const float* values, std::int64_t count,              \
                       int* counter);                                                            \
  /* n x h*w channel means of the explanations (of |values| with magnitude) */                  \
  void explanation_means(const Context& ctx, ConstImageView explanations, bool magnitude,        \
                         float* means);                                                          \
  /* ranks[i][p]: position of pixel p when image i's keys are sorted descending; ties to the */  \
  /* lower index, or the higher with ties_high_first */                                          \
  void rank_maps(const Context& ctx, const float* keys, std::int64_t n, std::int64_t pixels,      \
                 bool ties_high_first, std::int32_t* ranks);                                     \
  /* each image's keys sorted ascending */                                                       \
  void sort_ascending(const Context& ctx, const float* keys, std::int64_t n,                     \
                      std::int64_t pixels, float* sorted);                                       \
  /* rows [row_begin, +rows) of the causal design, points rows per image */                      \
  void causal_fill(const Context& ctx, ConstImageView images, const std::int32_t* ranks,         \
                   const std::int64_t* counts, std::int64_t points, bool deletion,               \
                   float baseline, std::int64_t row_begin, std::int64_t rows, float* out);       \
  /* out[i] = sum_s weights[s] * curves[i][s] */                                                 \
  void weighted_sums(const Context& ctx, const float* curves, std::int64_t n,                    \
                     std::int64_t points, const double* weights, float* out);                    \
  /* MuFidelity's cell masks of rows [row_begin, +rows), samples + 1 rows per image (row 0 */   \
  /* all kept) */                                                                                \
  void mufidelity_masks(const Context& ctx, std::uint64_t seed, Convention convention,           \
                        std::int64_t group_size, std::int64_t samples, std::int64_t cells,        \
                        float subset_percent, std::int64_t row_begin, std::int64_t rows,          \
                        float* masks);                                                           \
  /* n x grid^2 sums of the explanations over each cell's pixels (nearest_exact) */             \
  void cell_masses(const Context& ctx, ConstImageView explanations, std::int64_t grid,           \
                   double* masses);                                                              \
  /* out[b] = sum over the removed cells of row b of the image's cell masses */                 \
  void removed_masses(const Context& ctx, const float* masks, const double* masses,              \
                      std::int64_t cells, std::int64_t rows_per_image, std::int64_t row_begin,    \
                      std::int64_t rows, double* out);                                           \
  /* Spearman of (outputs[0] - outputs[1 + j], masses[1 + j]) per image */                       \
  void mufidelity_correlations(const Context& ctx, const float* outputs, const double* masses,   \
                               std::int64_t n, std::int64_t samples, float* preds,               \
                               std::int64_t* ranks, float* out);                                 \
  /* xplique's min-max normalized masks per image */                                             \
  void average_score_masks(const Context& ctx, const float* means, std::int64_t n,               \
                           std::int64_t pixels, float* masks);                                   \
  /* rows [row_begin, +rows), two per image: the image, the image times its mask */              \
  void average_score_fill(const Context& ctx, ConstImageView images, const float* masks,         \
                          std::int64_t row_begin, std::int64_t rows, float* out);                \
  void average_score_values(const Context& ctx, const float* outputs, std::int64_t n,            \
                            float* drop, float* increase, float* gain);                          \
  /* neighbours [first, first + count) of one image */                                           \
  void stability_neighbours(const Context& ctx, ConstImageView image, std::uint64_t seed,        \
                            std::int64_t group, std::int64_t samples, std::int64_t first,         \
                            std::int64_t count, float radius, float* out);                       \
  /* *sum += sum over the count rows of distance(batch row, base), rows in order */              \
  void explanation_distances(const Context& ctx, const float* base, const float* batch,          \
                             std::int64_t count, std::int64_t size, Distance distance,           \
                             double* row_distances, double* sum);                                \
  /* out[i] = sums[i] / divisor */                                                               \
  void finish_means(const Context& ctx, const double* sums, std::int64_t n, double divisor,      \
                    float* out);                                                                 \
  void entropies(const Context& ctx, const float* means, std::int64_t n, std::int64_t pixels,    \
                 float* out);                                                                    \
  void ginis(const Context& ctx, const float* sorted, std::int64_t n, std::int64_t pixels,       \
             float* out);                                                                        \
  /* ---- baselines ---- */                                                                      \
  void occlusion_fill(const Context& ctx, ConstImageView images,                                 \
                      const detail::OcclusionGeometry& geometry, float value,                    \
                      std::int64_t row_begin, std::int64_t rows, float* out);                    \
  void occlusion_maps(const Context& ctx, const float* outputs, std::int64_t n, std::int64_t h,  \
                      std::int64_t w, const detail::OcclusionGeometry& geometry, float* maps);   \
  /* cells (rows x grid^2) and shifts (rows x 2) of RISE rows [row_begin, +rows) */             \
  void rise_rows(const Context& ctx, std::uint64_t seed, Convention convention,                  \
                 std::int64_t grid, float probability, std::int64_t masks,                       \
                 std::int64_t batch_size, std::int64_t shift_range_h,                            \
                 std::int64_t shift_range_w, std::int64_t row_begin, std::int64_t rows,           \
                 float* cells, std::int64_t* shifts);                                            \
  /* taps_y / taps_x: rise_axis_tap of every canvas row / column */                           \
  void rise_fill(const Context& ctx, ConstImageView images, const float* cells,                  \
                 const std::int64_t* shifts, std::int64_t grid,                                  \
                 const detail::MaskAxisTap<std::int64_t>* taps_y,                                \
                 const detail::MaskAxisTap<std::int64_t>* taps_x, float mask_value,              \
                 std::int64_t masks, std::int64_t row_begin, std::int64_t rows, float* out);     \
  /* one image's rows: weighted[p] += sum_r scores[r] m_r(p), mask_sums[p] += sum_r m_r(p) */   \
  void rise_accumulate(const Context& ctx, const float* cells, const std::int64_t* shifts,       \
                       const float* scores, std::int64_t count, std::int64_t grid,               \
                       const detail::MaskAxisTap<std::int64_t>* taps_y,                          \
                       const detail::MaskAxisTap<std::int64_t>* taps_x, std::int64_t h,          \
                       std::int64_t w, double* weighted, double* mask_sums);                     \
  void rise_finalize(const Context& ctx, const double* weighted, const double* mask_sums,        \
                     std::int64_t count, Convention convention, std::int64_t masks,              \
                     float probability, float* maps);                                            \
  /* KernelSHAP coalitions of rows [row_begin, +rows) (keys: rows x cells scratch) */            \
  void kernel_shap_masks(const Context& ctx, std::uint64_t seed, std::int64_t samples,           \
                         std::int64_t cells, const double* cdf, std::int64_t row_begin,           \
                         std::int64_t rows, std::uint32_t* keys, float* masks);                  \
  /* one image's rows: gram += x x^T, moments += x y with x = [1, mask] */                       \
  void normal_equations(const Context& ctx, const float* masks, const float* scores,             \
                        std::int64_t count, std::int64_t cells, double* gram, double* moments);

namespace cuxplain::kernels::cpu {
CUXPLAIN_METRIC_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_METRIC_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_METRIC_OPS
