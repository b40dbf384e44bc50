#pragma once
// CRAFT concept extraction (Fel et al., "CRAFT: Concept Recursive Activation
// FacTorization for Explainability", CVPR 2023): concepts as an NMF of a
// layer's activations on image crops, their importance for a class by Sobol
// indices in concept space, per-image concept maps, and the paper's
// recursion into sub-concepts at an earlier layer.
//
//   craft::SplitModel model = craft::split_model(ctx, g, h);   // nn::Network halves
//   craft::CraftOptions options;
//   options.patch_size = 10;
//   options.nmf.rank = 10;
//   craft::Concepts concepts = craft::fit(ctx, model, images, options);
//   craft::concept_importance(ctx, model, concepts.W.data(), concepts.rank,
//                             images, targets, importances, options);
//   craft::concept_maps(ctx, model, concepts.W.data(), concepts.rank, images,
//                       maps, options);
//
// Every pointer is on ctx's device unless it says host. CUDA work is enqueued
// on ctx.stream(); the synchronizations are listed at each call.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/buffer.hpp"
#include "core/context.hpp"
#include "core/options.hpp"
#include "core/views.hpp"
#include "nmf.hpp"
#include "nn.hpp"

namespace cuxplain::craft {

/// The model cut at a layer: g maps images to that layer's activations,
/// h maps the activations to the outputs (logits).
struct SplitModel {
  /// Activations of one image: channels x height x width, NCHW (a flat layer
  /// is channels x 1 x 1). The channels are the NMF's features.
  std::int64_t channels = 0;
  std::int64_t height = 1;
  std::int64_t width = 1;
  /// Outputs of h per row; needed by concept_importance only.
  std::int64_t num_outputs = 0;
  /// g(batch, activations): writes batch.n x channels x height x width
  /// floats, finite and >= 0 (the layer after a ReLU). On CUDA the callback
  /// enqueues on ctx.stream() or synchronizes before returning.
  std::function<void(ConstImageView batch, float* activations)> g;
  /// h(activations, n, outputs): n x num_outputs floats from n activation
  /// tensors of the shape above. Needed by concept_importance only.
  std::function<void(const float* activations, std::int64_t n, float* outputs)> h;

  std::int64_t activation_size() const { return channels * height * width; }
};

/// g and h from two networks run on ctx (for instance
/// nn::load_onnx_split's halves): the shapes come from the networks; g's
/// input must be the images' c x h x w (NCHW). The networks and ctx are
/// held by the callbacks, which enqueue on ctx's stream: pass the same
/// Context to the CRAFT calls. h may be a default-constructed Network when
/// only fit, concept_maps and fit_subconcepts are used.
SplitModel split_model(const Context& ctx, const nn::Network& g, const nn::Network& h);

/// How crops are resized back to the images' size.
enum class CropResize {
  /// tf.image.resize(method="bicubic"), as xplique's CraftTf resizes its
  /// crops: Keys a = -0.5 from TensorFlow's 1024-step weight table, taps
  /// outside the crop dropped and the rest renormalized, the vertical pass
  /// first (detail/upsample.hpp); the same bits as TensorFlow's CPU kernel.
  tensorflow_bicubic,
  /// cv2.resize(INTER_CUBIC) (cuxplain::upsample's bicubic): a = -0.75,
  /// edge taps clamped.
  opencv_bicubic,
};

const char* to_string(CropResize resize);

/// Options of fit, concept_importance, concept_maps and fit_subconcepts.
/// Defaults are xplique's Craft where it has one.
struct CraftOptions {
  CraftOptions() { nmf.rank = 20; }

  /// Side of the square crops in pixels; crops start every
  /// stride = int(0.8 * patch_size) pixels ("VALID": whole crops only).
  std::int64_t patch_size = 64;
  /// How the crops are resized back to the images' size (xplique's CraftTf:
  /// TensorFlow's bicubic).
  CropResize crop_resize = CropResize::tensorflow_bicubic;
  /// The factorization; nmf.rank is the number of concepts (xplique's
  /// default 20). Also the NNLS solve of transform (max_iter, tol).
  nmf::Options nmf;
  /// scikit-learn's NMF(alpha_W=alpha_w, alpha_H='same', l1_ratio=0), as
  /// xplique's Craft calls it: added to nmf's L2 penalties as
  /// l2_u += alpha_w * p and l2_w += alpha_w * n (n crops, p channels) in
  /// fit. Every transform of images (concept_coefficients, and so
  /// concept_importance and concept_maps) keeps U's penalty, l2_u +=
  /// alpha_w * p, as scikit-learn's NMF.transform keeps the fitted model's
  /// regularization (its alpha_W scales by the number of features, the same
  /// p; W is fixed there, so its penalty plays no part). 0 turns it off.
  float alpha_w = 1e-2f;
  /// Importance: the Sobol design in concept space, as xplique's
  /// HaltonSequenceRS builds it: scipy's Halton(2r, scramble=False) from
  /// its first point (skip 0), 32 points, Jansen. nb_design is a power of
  /// two >= 2.
  std::int64_t nb_design = 32;
  Sampler sampler = Sampler::halton;
  std::int64_t skip = 0;
  std::uint64_t seed = 0;
  Estimator estimator = Estimator::jansen;
  /// Concept maps are resized from the activation grid to the image with
  /// bicubic (cv2 INTER_CUBIC) or nearest.
  Interpolation map_interpolation = Interpolation::bicubic;
  /// Images or crops per g call, activation tensors per h call.
  std::int64_t batch_size = 64;
};

/// Where the crops of an image lie: rows x cols crops of patch x patch
/// pixels, crop (i, j) at top = i * stride, left = j * stride.
struct CropGrid {
  std::int64_t patch = 0;
  std::int64_t stride = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t per_image() const { return rows * cols; }
  std::int64_t top(std::int64_t crop) const { return (crop % per_image()) / cols * stride; }
  std::int64_t left(std::int64_t crop) const { return (crop % per_image()) % cols * stride; }
};

/// The crop grid of height x width images. Throws cuxplain::Error unless
/// 1 <= patch_size <= min(height, width) and int(0.8 * patch_size) >= 1.
CropGrid crop_grid(std::int64_t height, std::int64_t width, std::int64_t patch_size);

/// Crops [first, first + count) of `images` (crop k is crop k % per_image()
/// of image k / per_image(), row-major over the grid), each resized back to
/// the images' h x w with `resize` (each crop resized as an image of its
/// own: its edge is the resizer's edge), written to `crops` (count images in
/// the layout of `images`).
void extract_crops(const Context& ctx, ConstImageView images, std::int64_t patch_size,
                   std::int64_t first, std::int64_t count, float* crops,
                   CropResize resize = CropResize::tensorflow_bicubic);

/// What fit learns.
struct Concepts {
  std::int64_t rank = 0;      ///< r concepts
  std::int64_t features = 0;  ///< p = the layer's channels
  CropGrid grid;              ///< of the images fit ran on
  std::int64_t crops = 0;     ///< n = images x grid.per_image()
  /// Concept bank, r x p (row-major), on ctx's device.
  Buffer<float> W;
  /// Each crop's concept coefficients, crops x r, on ctx's device.
  Buffer<float> U;
  /// The factorization's report.
  nmf::Result nmf;
};

/// CRAFT's concept extraction: every crop of every image (crop_grid), resized
/// back to the image size, through g; the activations averaged over space
/// give A (crops x channels, >= 0), factorized as A ~ U W with options.nmf
/// (rank r concepts) and alpha_w.
///
/// Memory: batch_size crops and their activations at a time, plus A, U and
/// W and the NMF's temporaries (nmf.hpp). Throws cuxplain::Error on bad
/// arguments (naming them), when g throws, or when its averaged activations
/// are negative or not finite (the NMF's message, naming the crop); nothing
/// is returned then. Synchronizes as nmf::fit does.
Concepts fit(const Context& ctx, const SplitModel& model, ConstImageView images,
             const CraftOptions& options = {});

/// Each image's coefficient map: its activations at every location
/// (height x width rows of channels) solved for U with W fixed
/// (nmf::transform with options.nmf and U's share of alpha_w, l2_u +=
/// alpha_w * channels, as scikit-learn's NMF.transform; all images of a
/// batch_size batch together), written as
/// coefficients (n x r x height x width, concept-major per image). The
/// building block of concept_importance and concept_maps.
void concept_coefficients(const Context& ctx, const SplitModel& model, const float* W,
                          std::int64_t rank, ConstImageView images, float* coefficients,
                          const CraftOptions& options = {});

/// Concept importance for each image's target class, averaged over images:
/// Sobol total indices in concept space. For image i with coefficient map
/// U_i (locations x r) and design row m in [0, 1]^r (options.sampler,
/// nb_design points, the stacked A, C_1..C_r design of sobol_design_masks),
/// h runs on the activations (U_i o m) W at every location (xplique's
/// re-parameterization for spatial layers), and its targets[i] output feeds
/// options.estimator. r concepts give nb_design (r + 1) h rows per image.
///
/// importances: r floats (mean over the n images); per_image: optional
/// n x r. Both written only when the call succeeds. targets: n host class
/// ids in [0, num_outputs). Throws cuxplain::Error on bad arguments, when g
/// or h throws, or when h writes a non-finite or no target output (naming
/// the image). h runs on the designs of a g batch's images back to back,
/// batch_size rows per call. CUDA synchronizes once per h call that
/// completes images' designs (the output check) and as nmf::transform does.
void concept_importance(const Context& ctx, const SplitModel& model, const float* W,
                        std::int64_t rank, ConstImageView images, HostSpan<const int> targets,
                        float* importances, const CraftOptions& options = {},
                        float* per_image = nullptr);

/// Concept attribution maps: concept_coefficients resized from the
/// activation grid to the images' h x w with options.map_interpolation.
/// maps: n x r x h x w floats.
void concept_maps(const Context& ctx, const SplitModel& model, const float* W, std::int64_t rank,
                  ConstImageView images, float* maps, const CraftOptions& options = {});

/// The `count` crops expressing concept `concept` most (largest U[:, concept],
/// ties to the lower crop id), as crop ids of concepts.U, best first.
/// count is clamped to concepts.crops. Reads U back (one synchronization).
std::vector<std::int64_t> top_crops(const Context& ctx, const Concepts& concepts,
                                    std::int64_t concept, std::int64_t count);

/// The recursion of the CRAFT paper: sub-concepts of concept `concept`.
/// The `count` crops that express it most (top_crops) are cut again from
/// `images` (those fit ran on), resized, passed through `earlier` (g of a
/// split at an earlier layer; its h is not used) and factorized there with
/// options.nmf.rank sub-concepts: the result's U rows follow `crop_ids`.
struct SubConcepts {
  Concepts concepts;                   ///< at the earlier layer; .crops = crop_ids.size()
  std::vector<std::int64_t> crop_ids;  ///< the parent's crop ids, best first
};
SubConcepts fit_subconcepts(const Context& ctx, const SplitModel& earlier, ConstImageView images,
                            const Concepts& parent, std::int64_t concept, std::int64_t count,
                            const CraftOptions& options = {});

}  // namespace cuxplain::craft

namespace cuxplain {

/// The names of craft::CropResize (core/options.hpp's enum_names).
template <>
HostSpan<const EnumName<craft::CropResize>> enum_names<craft::CropResize>();

}  // namespace cuxplain
