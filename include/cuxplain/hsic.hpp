#pragma once
// HSIC attribution (Novello et al., "Making Sense of Dependence", NeurIPS 2022)
// and the estimator ops it is built from.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"
#include "core/views.hpp"
#include "model.hpp"

namespace cuxplain {

/// The largest design HSIC takes: its N x N output Gram matrix stays below
/// 2^31 entries (the sizes of one GEMM), 8 GiB of floats.
constexpr std::int64_t kHsicMaxDesign = 46340;

/// Options of hsic_attribution. Defaults are xplique's.
struct HsicOptions {
  std::int64_t grid_size = 8;
  /// N: model runs per image, in [2, kHsicMaxDesign]. Memory: the N x N
  /// output Gram matrix and N x d masks beside the batch.
  std::int64_t nb_design = 500;
  Sampler sampler = Sampler::sobol;
  std::int64_t skip = 1;
  std::uint64_t seed = 0;
  bool binary = true;  ///< masks rounded half to even to {0, 1} (np.round)
  HsicKernel input_kernel = HsicKernel::binary;
  Bandwidth output_width = Bandwidth::median_output;
  bool interactions = false;  ///< also the d x d pairwise interaction matrix
  Perturbation perturbation = Perturbation::inpainting;
  float baseline = 0.0f;
  std::int64_t blur_size = 10;
  float sigma = 1.0f;
  Interpolation mask_interpolation = Interpolation::nearest_exact;
  std::int64_t batch_size = 256;
};

/// HSIC between each grid cell's mask and the model's target output.
///
/// For each image the model runs exactly nb_design times, batch_size at a
/// time, on the image perturbed by N masks (the same masks for every image);
/// the images' designs run back to back, so that every call but the last
/// holds batch_size rows (with a model whose output on a row does not depend
/// on the rest of the batch, the scores are those of one image per call,
/// bit for bit).
/// score_i = tr(K_i H L H) / N with K_i the input kernel on cell i, L the
/// output RBF Gram matrix, H = I - 11^T/N.
///
/// scores: n x g x g floats on ctx's device. interactions: n x d x d (d = g*g)
/// when options.interactions, S_ij = HSIC((1+k_i)(1+k_j)) - HSIC_i - HSIC_j
/// for i != j and 0 on the diagonal. Both written only when the call succeeds.
/// Throws cuxplain::Error on invalid arguments, a model that throws or writes
/// non-finite outputs, or outputs that are constant over the design (HSIC is
/// undefined: no output kernel width exists). On CUDA the call synchronizes
/// ctx.stream() once per model call that completes images' designs (the
/// output checks) and once per image (the kernel width).
void hsic_attribution(const Context& ctx, const Model& model, ConstImageView images,
                      HostSpan<const int> targets, float* scores, const HsicOptions& options = {},
                      float* interactions = nullptr);

// ---- the estimator, as ops (all pointers on ctx's device) ----

/// N x d masks for HSIC: the sampler's points, rounded half to even when binary.
void hsic_design(const Context& ctx, Sampler sampler, std::int64_t nb_design, std::int64_t d,
                 bool binary, float* masks, std::int64_t skip = 1, std::uint64_t seed = 0);

/// Width of the output kernel for outputs y (N floats). Synchronizes ctx's
/// stream on CUDA (the width is a host scalar). Throws when the outputs are
/// constant or not finite.
float hsic_output_width(const Context& ctx, const float* y, std::int64_t nb_design,
                        Bandwidth bandwidth);

/// Lc = H L H (N x N, row-major) with L_jl = exp(-(y_j - y_l)^2 / (2 w^2)),
/// computed in O(N^2) without forming H.
void hsic_centered_gram(const Context& ctx, const float* y, std::int64_t nb_design, float width,
                        float* centered_gram);

/// score_i = sum_jl k(x_ji, x_li) Lc[j, l] / N for i < d. masks: N x d.
/// binary_masks: the masks hold only 0 and 1, which turns the sum into one
/// GEMM (U^T Lc U's diagonal); otherwise a tiled kernel evaluates k on the fly.
/// Memory: O(N d) beyond Lc.
void hsic_scores(const Context& ctx, const float* masks, std::int64_t nb_design, std::int64_t d,
                 HsicKernel kernel, bool binary_masks, const float* centered_gram, float* scores);

/// S_ij = sum_ab k_i[a,b] k_j[a,b] Lc[a,b] / N (i != j), 0 on the diagonal:
/// d x d, row-major, symmetric.
void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                       std::int64_t d, HsicKernel kernel, const float* centered_gram,
                       float* interactions);

}  // namespace cuxplain
