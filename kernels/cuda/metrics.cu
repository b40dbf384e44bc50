// CUDA backend of the metric and baseline ops: the walks of
// kernels/metrics_walks.hpp as cub::DeviceFor launches on the context's
// stream, and the rank maps as one CUB radix sort per image (stable, as the
// host's std::stable_sort, so that both backends rank ties alike).
#include "../metrics.hpp"

#include <cub/device/device_radix_sort.cuh>

#include <cstdint>

#include <cuxplain/core/buffer.hpp>

#include "../metrics_walks.hpp"
#include "check.cuh"
#include "for_each.cuh"

namespace cuxplain::kernels::cuda {
namespace {

CudaExec exec_of(const Context& ctx) { return CudaExec{ctx.stream()}; }

/// CUB's temporary storage, from the context's allocator.
template <class Run>
void with_temp_storage(const Context& ctx, Run run) {
  std::size_t bytes = 0;
  CUXPLAIN_CUDA_TRY(run(nullptr, bytes));
  Buffer<unsigned char> storage(ctx, static_cast<std::int64_t>(bytes > 0 ? bytes : 1),
                                "CUB's temporary storage of a sort");
  CUXPLAIN_CUDA_TRY(run(storage.data(), bytes));
}

}  // namespace

void rank_maps(const Context& ctx, const float* keys, std::int64_t n, std::int64_t pixels,
               bool ties_high_first, std::int32_t* ranks) {
  // One image at a time: the sort's memory is one image's, whatever n.
  // Radix sorts are stable, so equal keys keep the input order: the index
  // order, or its reverse (the keys fed back to front) with ties_high_first.
  const CudaExec exec = exec_of(ctx);
  const int count = static_cast<int>(pixels);
  Buffer<float> keys_in(ctx, pixels, "the keys of a rank map");
  Buffer<float> keys_out(ctx, pixels, "the sorted keys of a rank map");
  Buffer<std::int32_t> index_in(ctx, pixels, "the pixel indices of a rank map");
  Buffer<std::int32_t> index_out(ctx, pixels, "the sorted pixel indices of a rank map");
  float* kin = keys_in.data();
  std::int32_t* iin = index_in.data();
  const std::int32_t* iout = index_out.data();
  for (std::int64_t image = 0; image < n; ++image) {
    const float* k = keys + image * pixels;
    std::int32_t* r = ranks + image * pixels;
    exec(pixels, [=] __host__ __device__(std::int64_t j) {
      const std::int64_t p = ties_high_first ? pixels - 1 - j : j;
      kin[j] = k[p];
      iin[j] = static_cast<std::int32_t>(p);
    });
    with_temp_storage(ctx, [&](void* storage, std::size_t& bytes) {
      return cub::DeviceRadixSort::SortPairsDescending(storage, bytes, keys_in.data(),
                                                       keys_out.data(), index_in.data(),
                                                       index_out.data(), count, 0,
                                                       static_cast<int>(sizeof(float) * 8),
                                                       ctx.stream());
    });
    exec(pixels, [=] __host__ __device__(std::int64_t j) {
      r[iout[j]] = static_cast<std::int32_t>(j);
    });
  }
}

void sort_ascending(const Context& ctx, const float* keys, std::int64_t n, std::int64_t pixels,
                    float* sorted) {
  for (std::int64_t image = 0; image < n; ++image) {
    with_temp_storage(ctx, [&](void* storage, std::size_t& bytes) {
      return cub::DeviceRadixSort::SortKeys(storage, bytes, keys + image * pixels,
                                            sorted + image * pixels, static_cast<int>(pixels), 0,
                                            static_cast<int>(sizeof(float) * 8), ctx.stream());
    });
  }
}

void select_activated_outputs(const Context& ctx, const float* outputs, std::int64_t rows,
                              std::int64_t num_outputs, std::int64_t target,
                              OutputActivation activation, float* selected) {
  walks::select_activated_outputs(exec_of(ctx), outputs, rows, num_outputs, target, activation, selected);
}

void count_nonfinite(const Context& ctx, const float* values, std::int64_t count, int* counter) {
  walks::count_nonfinite(exec_of(ctx), values, count, counter);
}

void explanation_means(const Context& ctx, ConstImageView explanations, bool magnitude,
                       float* means) {
  walks::explanation_means(exec_of(ctx), explanations, magnitude, means);
}

void causal_fill(const Context& ctx, ConstImageView images, const std::int32_t* ranks,
                 const std::int64_t* counts, std::int64_t points, bool deletion, float baseline,
                 std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::causal_fill(exec_of(ctx), images, ranks, counts, points, deletion, baseline, row_begin, rows,
                     out);
}

void weighted_sums(const Context& ctx, const float* curves, std::int64_t n, std::int64_t points,
                   const double* weights, float* out) {
  walks::weighted_sums(exec_of(ctx), curves, n, points, weights, out);
}

void mufidelity_masks(const Context& ctx, std::uint64_t seed, Convention convention,
                      std::int64_t group_size, std::int64_t samples, std::int64_t cells,
                      float subset_percent, std::int64_t row_begin, std::int64_t rows,
                      float* masks) {
  walks::mufidelity_masks(exec_of(ctx), seed, convention, group_size, samples, cells, subset_percent,
                          row_begin, rows, masks);
}

void cell_masses(const Context& ctx, ConstImageView explanations, std::int64_t grid, double* masses) {
  walks::cell_masses(exec_of(ctx), explanations, grid, masses);
}

void removed_masses(const Context& ctx, const float* masks, const double* masses, std::int64_t cells,
                    std::int64_t rows_per_image, std::int64_t row_begin, std::int64_t rows,
                    double* out) {
  walks::removed_masses(exec_of(ctx), masks, masses, cells, rows_per_image, row_begin, rows, out);
}

void mufidelity_correlations(const Context& ctx, const float* outputs, const double* masses,
                             std::int64_t n, std::int64_t samples, float* preds,
                             std::int64_t* ranks, float* out) {
  walks::mufidelity_correlations(exec_of(ctx), outputs, masses, n, samples, preds, ranks, out);
}

void average_score_masks(const Context& ctx, const float* means, std::int64_t n, std::int64_t pixels,
                         float* masks) {
  walks::average_score_masks(exec_of(ctx), means, n, pixels, masks);
}

void average_score_fill(const Context& ctx, ConstImageView images, const float* masks,
                        std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::average_score_fill(exec_of(ctx), images, masks, row_begin, rows, out);
}

void average_score_values(const Context& ctx, const float* outputs, std::int64_t n, float* drop,
                          float* increase, float* gain) {
  walks::average_score_values(exec_of(ctx), outputs, n, drop, increase, gain);
}

void stability_neighbours(const Context& ctx, ConstImageView image, std::uint64_t seed,
                          std::int64_t group, std::int64_t samples, std::int64_t first,
                          std::int64_t count, float radius, float* out) {
  walks::stability_neighbours(exec_of(ctx), image, seed, group, samples, first, count, radius, out);
}

void explanation_distances(const Context& ctx, const float* base, const float* batch,
                           std::int64_t count, std::int64_t size, Distance distance,
                           double* row_distances, double* sum) {
  walks::explanation_distances(exec_of(ctx), base, batch, count, size, distance, row_distances, sum);
}

void finish_means(const Context& ctx, const double* sums, std::int64_t n, double divisor,
                  float* out) {
  walks::finish_means(exec_of(ctx), sums, n, divisor, out);
}

void entropies(const Context& ctx, const float* means, std::int64_t n, std::int64_t pixels,
               float* out) {
  walks::entropies(exec_of(ctx), means, n, pixels, out);
}

void ginis(const Context& ctx, const float* sorted, std::int64_t n, std::int64_t pixels, float* out) {
  walks::ginis(exec_of(ctx), sorted, n, pixels, out);
}

void occlusion_fill(const Context& ctx, ConstImageView images,
                    const detail::OcclusionGeometry& geometry, float value,
                    std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::occlusion_fill(exec_of(ctx), images, geometry, value, row_begin, rows, out);
}

void occlusion_maps(const Context& ctx, const float* outputs, std::int64_t n, std::int64_t h,
                    std::int64_t w, const detail::OcclusionGeometry& geometry, float* maps) {
  walks::occlusion_maps(exec_of(ctx), outputs, n, h, w, geometry, maps);
}

void rise_rows(const Context& ctx, std::uint64_t seed, Convention convention, std::int64_t grid,
               float probability, std::int64_t masks, std::int64_t batch_size,
               std::int64_t shift_range_h, std::int64_t shift_range_w, std::int64_t row_begin,
               std::int64_t rows, float* cells, std::int64_t* shifts) {
  walks::rise_rows(exec_of(ctx), seed, convention, grid, probability, masks, batch_size, shift_range_h,
                   shift_range_w, row_begin, rows, cells, shifts);
}

void rise_fill(const Context& ctx, ConstImageView images, const float* cells,
               const std::int64_t* shifts, std::int64_t grid,
               const detail::MaskAxisTap<std::int64_t>* taps_y,
               const detail::MaskAxisTap<std::int64_t>* taps_x, float mask_value,
               std::int64_t masks, std::int64_t row_begin, std::int64_t rows, float* out) {
  walks::rise_fill(exec_of(ctx), images, cells, shifts, grid, taps_y, taps_x, mask_value, masks,
                   row_begin, rows, out);
}

void rise_accumulate(const Context& ctx, const float* cells, const std::int64_t* shifts,
                     const float* scores, std::int64_t count, std::int64_t grid,
                     const detail::MaskAxisTap<std::int64_t>* taps_y,
                     const detail::MaskAxisTap<std::int64_t>* taps_x, std::int64_t h,
                     std::int64_t w, double* weighted, double* mask_sums) {
  walks::rise_accumulate(exec_of(ctx), cells, shifts, scores, count, grid, taps_y, taps_x, h, w,
                         weighted, mask_sums);
}

void rise_finalize(const Context& ctx, const double* weighted, const double* mask_sums,
                   std::int64_t count, Convention convention, std::int64_t masks,
                   float probability, float* maps) {
  walks::rise_finalize(exec_of(ctx), weighted, mask_sums, count, convention, masks, probability, maps);
}

void kernel_shap_masks(const Context& ctx, std::uint64_t seed, std::int64_t samples,
                       std::int64_t cells, const double* cdf, std::int64_t row_begin,
                       std::int64_t rows, std::uint32_t* keys, float* masks) {
  walks::kernel_shap_masks(exec_of(ctx), seed, samples, cells, cdf, row_begin, rows, keys, masks);
}

void normal_equations(const Context& ctx, const float* masks, const float* scores,
                      std::int64_t count, std::int64_t cells, double* gram, double* moments) {
  walks::normal_equations(exec_of(ctx), masks, scores, count, cells, gram, moments);
}

}  // namespace cuxplain::kernels::cuda
