#pragma once
// Sobol attribution (Fel et al., "Look at the Variance!", NeurIPS 2021).
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"
#include "core/views.hpp"
#include "model.hpp"

namespace cuxplain {

/// Options of sobol_attribution. Defaults are xplique's.
struct SobolOptions {
  std::int64_t grid_size = 8;     ///< g: the image is explained on g x g cells
  std::int64_t nb_design = 32;    ///< N: points of the design, a power of two >= 2
  Sampler sampler = Sampler::sobol;
  std::int64_t skip = 1;          ///< leading points of the sequence skipped
  std::uint64_t seed = 0;         ///< for sobol_owen, lhs and monte_carlo
  Estimator estimator = Estimator::jansen;
  bool first_order = false;       ///< also estimate first-order indices (N more forwards)
  bool per_channel = false;       ///< one cell per (gy, gx, channel): d = g*g*c
  Perturbation perturbation = Perturbation::inpainting;
  float baseline = 0.0f;          ///< inpainting value
  std::int64_t blur_size = 10;    ///< blurring: box size (cv2.blur)
  float sigma = 1.0f;             ///< amplitude scale
  Interpolation mask_interpolation = Interpolation::nearest_exact;
  std::int64_t batch_size = 256;  ///< perturbed images per model call
};

/// Total-order Sobol indices of every grid cell for every image.
///
/// For each image, the model runs on nb_design * (d + 1) perturbed copies
/// (d = g*g, or g*g*c with per_channel; plus nb_design with first_order),
/// at most batch_size at a time: memory stays bounded by batch_size perturbed
/// images plus the model outputs, whatever nb_design and d are. The images'
/// designs run back to back, so that a call may hold the end of one image's
/// design and the start of the next and every call but the last is full;
/// with a model whose output on a row does not depend on the rest of the
/// batch, the scores are those of one image per call, bit for bit.
///
/// images: n images on ctx's device. targets: n host class ids in
/// [0, model.num_outputs). scores: n x g x g (x c with per_channel, channel
/// fastest) floats on ctx's device, written only when the call succeeds.
/// first_order_scores: same shape, required when options.first_order.
///
/// Throws cuxplain::Error on invalid arguments, when the model callback throws
/// or writes a non-finite output; `scores` is then left untouched. On CUDA the
/// call synchronizes ctx.stream() once per model call that completes images'
/// designs, to check their outputs.
void sobol_attribution(const Context& ctx, const Model& model, ConstImageView images,
                       HostSpan<const int> targets, float* scores,
                       const SobolOptions& options = {}, float* first_order_scores = nullptr);

}  // namespace cuxplain
