#pragma once
// Classic black-box attribution methods, so that the metrics (metrics.hpp)
// have something to rank the published methods against: Occlusion
// (Zeiler and Fergus, ECCV 2014), RISE (Petsiuk et al., BMVC 2018) and
// KernelSHAP (Lundberg and Lee, NeurIPS 2017) on grid cells.
//
// They drive the model as the other explainers do: perturbed copies of the
// images, batch_size rows per Model call (rows of consecutive images share a
// batch), outputs poisoned before each call and required finite; memory is
// bounded by batch_size perturbed images, plus O(rows) scalars per image.
// A failing call throws cuxplain::Error naming the argument, the image or
// the callback and leaves its output untouched. On CUDA all work is ordered
// on ctx.stream(); a call synchronizes it at its end (the outputs'
// finiteness; KernelSHAP also reads its normal equations back for the host
// solve).
#include <cstdint>
#include <optional>

#include "core/context.hpp"
#include "core/conventions.hpp"
#include "core/options.hpp"
#include "core/views.hpp"
#include "model.hpp"

namespace cuxplain {

// ---------------------------------------------------------------- Occlusion

/// Options of occlusion(). Defaults are xplique's (Occlusion(batch_size=32,
/// patch_size=3, patch_stride=3, occlusion_value=0.0)).
struct OcclusionOptions {
  std::int64_t patch_h = 3;   ///< patch size on each axis, in [1, image side]
  std::int64_t patch_w = 3;
  std::int64_t stride_h = 3;  ///< >= 1
  std::int64_t stride_w = 3;
  float occlusion_value = 0.0f;
  std::int64_t batch_size = 32;
};

/// Patches of occlusion() on an h x w image: anchors k * stride for
/// k < ceil((side - patch + 1) / stride) on each axis (whole patches only,
/// as xplique), row-major.
std::int64_t occlusion_patches(std::int64_t h, std::int64_t w, const OcclusionOptions& options);

/// Occlusion sensitivity, as xplique: every patch sets its pixels (all
/// channels) to occlusion_value, and a pixel's score is the sum, over the
/// patches that cover it, of g(x) - g(x with the patch occluded) (a sum,
/// not a mean, where patches overlap). maps: n x h x w floats on ctx's
/// device. The model runs n * (occlusion_patches + 1) times.
void occlusion(const Context& ctx, const Model& model, ConstImageView images,
               HostSpan<const int> targets, float* maps, const OcclusionOptions& options = {});

// --------------------------------------------------------------------- RISE

/// Options of rise(). Defaults are xplique's (Rise(batch_size=32,
/// nb_samples=4000, grid_size=7, preservation_probability=0.5,
/// mask_value=0.0)).
///
/// Mask i is a grid_size x grid_size grid of cells kept (1) with probability
/// p = preservation_probability (u < p, u cuRAND's Philox uniform at stream
/// position i * grid_size^2 + cell, seeded with `seed`), the same masks for
/// every image. It is stretched bilinearly (half-pixel centres, edges
/// clamped, as tf.image.resize) over an upsampled S_h x S_w canvas and
/// read at the image's pixel (y + dy, x + dx); the masked image is
/// m x + (1 - m) mask_value. The two conventions differ where xplique's code
/// differs from the paper:
///  - Convention::paper: S = (g + 1) * ceil(side / g); each mask has its own
///    shift, dy and dx uniform in [0, ceil(side / g)) (stream positions
///    kRegionShifts + 2i, +2i+1); saliency = sum_i g(x_i) m_i / (N p).
///  - Convention::xplique: S = int(side * (1 + 1 / g)); one shift per image
///    and batch of batch_size masks (tf.image.random_crop crops a batch at
///    one offset), uniform in [0, S - side]; saliency = sum_i g(x_i) m_i /
///    (sum_i m_i + 1e-4), per pixel. Results then depend on batch_size, as
///    xplique's do.
/// Both upsample as TensorFlow's bilinear resize (the paper's code uses
/// skimage's, whose 'reflect' mode differs within half a cell of the border).
struct RiseOptions {
  std::int64_t nb_samples = 4000;           ///< N >= 1
  std::int64_t grid_size = 7;               ///< g in [1, min(h, w)]
  float preservation_probability = 0.5f;    ///< p in (0, 1]
  float mask_value = 0.0f;
  std::uint64_t seed = 0;
  Convention convention = Convention::paper;
  std::int64_t batch_size = 32;
};

/// RISE saliency maps: n x h x w floats on ctx's device. The model runs
/// n * nb_samples times; the sums are accumulated in double, per pixel in
/// mask order.
void rise(const Context& ctx, const Model& model, ConstImageView images,
          HostSpan<const int> targets, float* maps, const RiseOptions& options = {});

// --------------------------------------------------------------- KernelSHAP

/// Options of kernel_shap(). Defaults are xplique's KernelShap(batch_size=64,
/// nb_samples=800, ref_value=None), on grid cells instead of xplique's
/// default segmentation (felzenszwalb for one channel, quickshift for RGB).
///
/// Sample j of image i is a coalition z in {0, 1}^d (d = grid_size^2):
/// its size k in [1, d - 1] is drawn with probability proportional to
/// (d - 1) / (k (d - k)) (cuRAND uniform at kRegionSubsetSizes + i * N + j,
/// inverse CDF), and the k cells with the largest random keys (stream
/// position (i * N + j) * d + cell; ties to the lower cell) are kept: every
/// subset of size k equally likely, which is the Shapley kernel's weighting
/// (xplique's and Captum's sampling). Absent cells are set to `baseline` on
/// every channel (Interpolation mask_interpolation maps pixels to cells).
/// The scores are the coefficients of the ordinary least-squares fit of
/// g(x_z) on z with an intercept (scikit-learn's LinearRegression, which
/// xplique fits): the minimum-norm solution of the centred normal equations
/// in double (LAPACK's dgelsd, as scipy's lstsq). As in xplique, and unlike
/// Lundberg and Lee's KernelSHAP, there is no efficiency constraint
/// (sum of scores = g(x) - g(baseline)) and the empty and full coalitions
/// are never drawn.
///
/// Why KernelSHAP rather than LIME as the third baseline: it has no free
/// hyperparameter (LIME's similarity kernel width, 45 in xplique, and its
/// Ridge penalty are tuned to 224 x 224 RGB inputs and shrink or reweight
/// everything on other sizes), and it estimates Shapley values, which are
/// known in closed form on additive models (the tests check them).
struct KernelShapOptions {
  std::int64_t grid_size = 8;
  std::int64_t nb_samples = 800;   ///< N >= 2
  /// Value of absent cells; unset: xplique's rule, 0.5 for 3-channel images
  /// and 0 otherwise.
  std::optional<float> baseline;
  std::uint64_t seed = 0;
  Interpolation mask_interpolation = Interpolation::nearest_exact;  ///< nearest or nearest_exact
  std::int64_t batch_size = 64;
};

/// True when this build can solve KernelSHAP's least squares (LAPACK found
/// with the host BLAS); kernel_shap throws a cuxplain::Error otherwise.
bool kernel_shap_available();

/// KernelSHAP scores per grid cell: n x grid_size x grid_size floats on
/// ctx's device. The model runs n * nb_samples times. Memory beyond the
/// batch: a (d + 1)^2 double normal-equation matrix per image, read back
/// once, after the model runs, for the host solves.
void kernel_shap(const Context& ctx, const Model& model, ConstImageView images,
                 HostSpan<const int> targets, float* scores, const KernelShapOptions& options = {});

}  // namespace cuxplain
