#pragma once
// EVA (Fel et al., "Don't Lie to Me! Robust and Efficient Explainability with
// Verified Perturbation Analysis", CVPR 2023): how much fixing each grid cell
// to its value shrinks the verified adversarial overlap of an L-inf ball.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"
#include "core/views.hpp"
#include "nn.hpp"

namespace cuxplain {

/// Options of eva_attribution.
struct EvaOptions {
  std::int64_t grid_size = 8;  ///< g: the image is explained on g x g cells
  float epsilon = 0.05f;       ///< radius of the L-inf ball B around the image
  bool clamp = true;           ///< intersect the ball with [clamp_min, clamp_max]
  float clamp_min = 0.0f;      ///< the model's input range (Fashion-MNIST: [0, 1])
  float clamp_max = 1.0f;
  /// How pixels map to cells (as the masks of Sobol and HSIC do).
  Interpolation cell_mapping = Interpolation::nearest_exact;
  std::int64_t batch_size = 256;  ///< boxes per bound pass
  bool sound = false;             ///< outward-rounded float32 bounds (nn::BoundsOptions::sound)
};

/// EVA(u) = AO(x, B) - AO(x, B_u) for every grid cell u of every image, where
/// AO(x, B) = max over j != c of an upper bound of f_j - f_c on x + B (c the
/// target class; bounds by interval propagation with the margins folded into
/// the last layer) and B_u is B with the pixels of cell u fixed to x. One
/// image costs d + 1 boxes (d = g*g), propagated batch_size at a time.
///
/// network: built for ctx (nn::NetworkBuilder::build or nn::load_onnx), its
/// input shape equal to the images' c x h x w, images in NCHW layout.
/// targets: host class ids in [0, outputs). scores: n x g x g floats on ctx's
/// device, written only when the call succeeds. Scores are >= 0 up to
/// rounding, and a cell the network does not read scores exactly 0.
void eva_attribution(const Context& ctx, const nn::Network& network, ConstImageView images,
                     HostSpan<const int> targets, float* scores, const EvaOptions& options = {});

}  // namespace cuxplain
