// The baselines' public entries (Occlusion, RISE, KernelSHAP): argument
// checks, the rows streamed through the model (RowStream), the reductions
// on the backend; KernelSHAP's small least-squares solves run on the host
// with LAPACK.
#include <cuxplain/baselines.hpp>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/perturbation.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../../kernels/metrics.hpp"
#include "../../kernels/dispatch.hpp"
#include "design_runner.hpp"
#include "metrics_common.hpp"
#include "row_stream.hpp"
#include "../core/validate.hpp"

#if CUXPLAIN_HAVE_LAPACK
extern "C" void dgelsd_(const int* m, const int* n, const int* nrhs, double* a, const int* lda,
                        double* b, const int* ldb, double* s, const double* rcond, int* rank,
                        double* work, const int* lwork, int* iwork, int* info);
#endif

namespace cuxplain {
namespace {

using detail::concat;

detail::OcclusionGeometry occlusion_geometry(std::int64_t h, std::int64_t w,
                                             const OcclusionOptions& options) {
  return {options.patch_h,
          options.patch_w,
          options.stride_h,
          options.stride_w,
          detail::occlusion_axis_count(h, options.patch_h, options.stride_h),
          detail::occlusion_axis_count(w, options.patch_w, options.stride_w)};
}

void validate_occlusion(std::int64_t h, std::int64_t w, const OcclusionOptions& options,
                        const char* caller) {
  CUXPLAIN_EXPECTS(options.patch_h >= 1 && options.patch_h <= h, caller,
                   ": options.patch_h must be in [1, h = ", h, "], got ", options.patch_h);
  CUXPLAIN_EXPECTS(options.patch_w >= 1 && options.patch_w <= w, caller,
                   ": options.patch_w must be in [1, w = ", w, "], got ", options.patch_w);
  CUXPLAIN_EXPECTS(options.stride_h >= 1, caller, ": options.stride_h must be >= 1, got ",
                   options.stride_h);
  CUXPLAIN_EXPECTS(options.stride_w >= 1, caller, ": options.stride_w must be >= 1, got ",
                   options.stride_w);
  CUXPLAIN_EXPECTS(std::isfinite(options.occlusion_value), caller,
                   ": options.occlusion_value must be finite, got ", options.occlusion_value);
  detail::validate_batch_size(options.batch_size, caller);
}

/// Cumulative probabilities of KernelSHAP's coalition sizes k = 1..d-1,
/// p(k) proportional to (d - 1) / (k (d - k)), in double; the last is 1.
std::vector<double> coalition_size_cdf(std::int64_t cells) {
  std::vector<double> cdf(static_cast<std::size_t>(cells - 1));
  double total = 0.0;
  for (std::int64_t k = 1; k < cells; ++k) {
    total += static_cast<double>(cells - 1) / (static_cast<double>(k) * (cells - k));
    cdf[static_cast<std::size_t>(k - 1)] = total;
  }
  for (double& c : cdf) c /= total;
  cdf.back() = 1.0;
  return cdf;
}

#if CUXPLAIN_HAVE_LAPACK
/// The least-squares coefficients of y on z with an intercept, from the sums
/// gram = X^T X and moments = X^T y of X = [1 | Z]: the minimum-norm
/// solution of the centred normal equations N C beta = N c, with
/// N C = N Z^T Z - s s^T (exact: integer counts), N c = N Z^T y - s sum(y).
std::vector<double> least_squares(const double* gram, const double* moments, std::int64_t cells,
                                  std::int64_t image) {
  const std::int64_t d = cells + 1;
  const double n = gram[0];
  std::vector<double> a(static_cast<std::size_t>(cells * cells));
  std::vector<double> b(static_cast<std::size_t>(cells));
  for (std::int64_t i = 0; i < cells; ++i) {
    for (std::int64_t j = 0; j < cells; ++j) {
      a[static_cast<std::size_t>(j * cells + i)] =
          n * gram[(i + 1) * d + (j + 1)] - gram[i + 1] * gram[j + 1];
    }
    b[static_cast<std::size_t>(i)] = n * moments[i + 1] - gram[i + 1] * moments[0];
  }
  const int m = static_cast<int>(cells), nrhs = 1;
  std::vector<double> singular(static_cast<std::size_t>(cells));
  const double rcond = -1.0;  // machine precision, as scipy's lstsq
  int rank = 0, info = 0, lwork = -1, iwork_query = 0;
  double work_query = 0.0;
  dgelsd_(&m, &m, &nrhs, a.data(), &m, b.data(), &m, singular.data(), &rcond, &rank,
          &work_query, &lwork, &iwork_query, &info);
  CUXPLAIN_EXPECTS(info == 0, "kernel_shap: LAPACK dgelsd workspace query failed (info ", info,
                   ") on image ", image);
  lwork = static_cast<int>(work_query);
  std::vector<double> work(static_cast<std::size_t>(std::max(1, lwork)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(1, iwork_query)));
  dgelsd_(&m, &m, &nrhs, a.data(), &m, b.data(), &m, singular.data(), &rcond, &rank, work.data(),
          &lwork, iwork.data(), &info);
  CUXPLAIN_EXPECTS(info == 0, "kernel_shap: LAPACK dgelsd did not converge (info ", info,
                   ") on image ", image);
  return b;
}
#endif

}  // namespace

std::int64_t occlusion_patches(std::int64_t h, std::int64_t w, const OcclusionOptions& options) {
  CUXPLAIN_EXPECTS(h >= 1 && w >= 1, "occlusion_patches: h and w must be >= 1, got h=", h,
                   " w=", w);
  validate_occlusion(h, w, options, "occlusion_patches");
  const detail::OcclusionGeometry g = occlusion_geometry(h, w, options);
  return g.count_h * g.count_w;
}

void occlusion(const Context& ctx, const Model& model, ConstImageView images,
               HostSpan<const int> targets, float* maps, const OcclusionOptions& options) {
  constexpr const char* caller = "occlusion";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::expect_output(ctx, maps, "maps", caller);
  validate_occlusion(images.h, images.w, options, caller);
  const detail::OcclusionGeometry geometry = occlusion_geometry(images.h, images.w, options);
  const std::int64_t per_image = geometry.count_h * geometry.count_w + 1;

  Buffer<float> outputs(ctx, detail::checked_product(images.n, per_image, caller),
                        concat("the target scores of ", caller, " (images.n x (",
                               per_image - 1, " patches + 1))"));
  detail::RowStream stream(ctx, model, images, targets, per_image, options.batch_size,
                           OutputActivation::none, caller);
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, occlusion_fill, images, geometry, options.occlusion_value,
                          row_begin, rows, batch);
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores) {
        copy_on_device(ctx, outputs.data() + row_begin, scores,
                       static_cast<std::size_t>(rows) * sizeof(float));
      });
  Buffer<float> staged(ctx, images.n * images.h * images.w,
                       concat("the staged maps of ", caller));
  CUXPLAIN_DISPATCH(ctx, occlusion_maps, outputs.data(), images.n, images.h, images.w, geometry,
                    staged.data());
  copy_on_device(ctx, maps, staged.data(), staged.bytes());
}

void rise(const Context& ctx, const Model& model, ConstImageView images,
          HostSpan<const int> targets, float* maps, const RiseOptions& options) {
  constexpr const char* caller = "rise";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::expect_output(ctx, maps, "maps", caller);
  CUXPLAIN_EXPECTS(options.nb_samples >= 1, caller, ": options.nb_samples must be >= 1, got ",
                   options.nb_samples);
  detail::validate_grid(images, options.grid_size, caller);
  CUXPLAIN_EXPECTS(options.preservation_probability > 0.0f &&
                       options.preservation_probability <= 1.0f,
                   caller, ": options.preservation_probability must be in (0, 1], got ",
                   options.preservation_probability);
  CUXPLAIN_EXPECTS(std::isfinite(options.mask_value), caller,
                   ": options.mask_value must be finite, got ", options.mask_value);
  detail::validate_convention(options.convention, caller);
  detail::validate_batch_size(options.batch_size, caller);

  const std::int64_t grid = options.grid_size, cells = grid * grid;
  const std::int64_t pixels = images.h * images.w;
  const std::int64_t masks = options.nb_samples;
  const detail::RiseAxis ay = detail::rise_axis(options.convention, images.h, grid);
  const detail::RiseAxis ax = detail::rise_axis(options.convention, images.w, grid);

  // The bilinear taps of every canvas row and column, tabulated once.
  using Tap = detail::MaskAxisTap<std::int64_t>;
  std::vector<Tap> host_taps;
  for (std::int64_t y = 0; y < ay.canvas; ++y) {
    host_taps.push_back(detail::rise_axis_tap(y, grid, ay.canvas));
  }
  for (std::int64_t x = 0; x < ax.canvas; ++x) {
    host_taps.push_back(detail::rise_axis_tap(x, grid, ax.canvas));
  }
  Buffer<Tap> taps(ctx, static_cast<std::int64_t>(host_taps.size()),
                   concat("the mask taps of ", caller));
  copy_to_device(ctx, taps.data(), host_taps.data(), host_taps.size() * sizeof(Tap));
  const Tap* taps_y = taps.data();
  const Tap* taps_x = taps.data() + ay.canvas;

  Buffer<double> weighted(ctx, detail::checked_product(images.n, pixels, caller),
                          concat("the weighted mask sums of ", caller));
  Buffer<double> mask_sums(ctx, weighted.size(), concat("the mask sums of ", caller));
  zero(ctx, weighted.data(), weighted.bytes());
  zero(ctx, mask_sums.data(), mask_sums.bytes());
  detail::RowStream stream(ctx, model, images, targets, masks, options.batch_size,
                           OutputActivation::none, caller);
  Buffer<float> batch_cells(ctx, stream.batch_rows() * cells,
                            concat("the mask cells of a batch of ", caller));
  Buffer<std::int64_t> shifts(ctx, stream.batch_rows() * 2,
                              concat("the mask shifts of a batch of ", caller));
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, rise_rows, options.seed, options.convention, grid,
                          options.preservation_probability, masks, options.batch_size,
                          ay.shift_range, ax.shift_range, row_begin, rows, batch_cells.data(),
                          shifts.data());
        CUXPLAIN_DISPATCH(ctx, rise_fill, images, batch_cells.data(), shifts.data(), grid, taps_y,
                          taps_x, options.mask_value, masks, row_begin, rows, batch);
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores) {
        for (const auto& s : stream.segments(row_begin, rows)) {
          CUXPLAIN_DISPATCH(ctx, rise_accumulate, batch_cells.data() + s.offset * cells,
                            shifts.data() + s.offset * 2, scores + s.offset, s.rows, grid,
                            taps_y, taps_x, images.h, images.w,
                            weighted.data() + s.image * pixels,
                            mask_sums.data() + s.image * pixels);
        }
      });
  Buffer<float> staged(ctx, weighted.size(), concat("the staged maps of ", caller));
  CUXPLAIN_DISPATCH(ctx, rise_finalize, weighted.data(), mask_sums.data(), weighted.size(),
                    options.convention, masks, options.preservation_probability, staged.data());
  copy_on_device(ctx, maps, staged.data(), staged.bytes());
}

bool kernel_shap_available() { return CUXPLAIN_HAVE_LAPACK != 0; }

void kernel_shap(const Context& ctx, const Model& model, ConstImageView images,
                 HostSpan<const int> targets, float* scores, const KernelShapOptions& options) {
  constexpr const char* caller = "kernel_shap";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::expect_output(ctx, scores, "scores", caller);
  detail::validate_grid(images, options.grid_size, caller);
  CUXPLAIN_EXPECTS(options.grid_size >= 2, caller,
                   ": options.grid_size must be >= 2 (KernelSHAP needs coalitions of 1 to "
                   "d - 1 cells), got ", options.grid_size);
  CUXPLAIN_EXPECTS(options.nb_samples >= 2, caller, ": options.nb_samples must be >= 2, got ",
                   options.nb_samples);
  CUXPLAIN_EXPECTS(!options.baseline || std::isfinite(*options.baseline), caller,
                   ": options.baseline must be finite, got ", options.baseline.value_or(0.0f));
  CUXPLAIN_EXPECTS(options.mask_interpolation == Interpolation::nearest ||
                       options.mask_interpolation == Interpolation::nearest_exact,
                   caller, ": options.mask_interpolation must be nearest or nearest_exact, got ",
                   to_string(options.mask_interpolation));
  detail::validate_batch_size(options.batch_size, caller);
  CUXPLAIN_EXPECTS(kernel_shap_available(), caller,
                   ": this build of cuxplain has no LAPACK (dgelsd) for the least-squares fit; "
                   "rebuild with OpenBLAS or a LAPACK installed");

  const std::int64_t n = images.n, grid = options.grid_size, cells = grid * grid;
  const std::int64_t samples = options.nb_samples, d = cells + 1;
  const float baseline = options.baseline.value_or(images.c == 3 ? 0.5f : 0.0f);

  const std::vector<double> cdf = coalition_size_cdf(cells);
  Buffer<double> size_cdf(ctx, cells - 1, concat("the coalition size distribution of ", caller));
  copy_to_device(ctx, size_cdf.data(), cdf.data(), cdf.size() * sizeof(double));
  Buffer<double> gram(ctx, detail::checked_product(n, d * d, caller),
                      concat("the normal equations of ", caller, " (images.n x (grid_size^2 + "
                             "1)^2 doubles)"));
  Buffer<double> moments(ctx, n * d, concat("the moments of ", caller));
  zero(ctx, gram.data(), gram.bytes());
  zero(ctx, moments.data(), moments.bytes());

  detail::RowStream stream(ctx, model, images, targets, samples, options.batch_size,
                           OutputActivation::none, caller);
  Buffer<std::uint32_t> keys(ctx, stream.batch_rows() * cells,
                             concat("the coalition keys of a batch of ", caller));
  Buffer<float> masks(ctx, stream.batch_rows() * cells,
                      concat("the coalitions of a batch of ", caller));
  PerturbationParams params;
  params.kind = Perturbation::inpainting;
  params.baseline = baseline;
  params.interpolation = options.mask_interpolation;
  params.grid_size = grid;
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, kernel_shap_masks, options.seed, samples, cells, size_cdf.data(),
                          row_begin, rows, keys.data(), masks.data());
        for (const auto& s : stream.segments(row_begin, rows)) {
          perturb(ctx, images.image(s.image), masks.data() + s.offset * cells, s.rows, params,
                  nullptr, batch + s.offset * images.image_size());
        }
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores_batch) {
        for (const auto& s : stream.segments(row_begin, rows)) {
          CUXPLAIN_DISPATCH(ctx, normal_equations, masks.data() + s.offset * cells,
                            scores_batch + s.offset, s.rows, cells, gram.data() + s.image * d * d,
                            moments.data() + s.image * d);
        }
      });

  // The solves, on the host in double; the result goes to `scores` last.
  std::vector<double> host_gram(static_cast<std::size_t>(gram.size()));
  std::vector<double> host_moments(static_cast<std::size_t>(moments.size()));
  copy_to_host(ctx, host_gram.data(), gram.data(), gram.bytes());
  copy_to_host(ctx, host_moments.data(), moments.data(), moments.bytes());
  std::vector<float> result(static_cast<std::size_t>(n * cells));
#if CUXPLAIN_HAVE_LAPACK
  for (std::int64_t image = 0; image < n; ++image) {
    const std::vector<double> beta = least_squares(host_gram.data() + image * d * d,
                                                   host_moments.data() + image * d, cells, image);
    for (std::int64_t k = 0; k < cells; ++k) {
      result[static_cast<std::size_t>(image * cells + k)] =
          static_cast<float>(beta[static_cast<std::size_t>(k)]);
    }
  }
#endif
  copy_to_device(ctx, scores, result.data(), result.size() * sizeof(float));
}

}  // namespace cuxplain
