#pragma once
// What the perturbation-based explainers (Sobol, HSIC) share: argument checks
// and the loop that streams masks through the model in bounded batches.
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/model.hpp>
#include <cuxplain/perturbation.hpp>

namespace cuxplain::detail {

/// model, images and targets as every explainer needs them.
void validate_model_and_images(const Context& ctx, const Model& model, ConstImageView images,
                               HostSpan<const int> targets, const char* caller);

/// images: a non-empty batch of known layout on ctx's device.
void validate_images(const Context& ctx, ConstImageView images, const char* caller);

/// targets: n class ids in [0, num_outputs).
void validate_targets(HostSpan<const int> targets, std::int64_t n, std::int64_t num_outputs,
                      const char* caller);

/// Runs a user callback. An exception it throws becomes a cuxplain::Error
/// "<callback> threw <where()>: <what>" (or "<callback> threw a
/// non-standard exception <where()>"); `where` is evaluated only then.
template <class Call, class Where>
void invoke_callback(const std::string& callback, const Where& where, Call&& call) {
  try {
    call();
  } catch (const std::exception& e) {
    CUXPLAIN_FAIL(callback, " threw ", where(), ": ", e.what());
  } catch (...) {
    CUXPLAIN_FAIL(callback, " threw a non-standard exception ", where());
  }
}

/// How the explainers read a model's outputs one batch at a time: the batch
/// is poisoned (NaN) before the callback writes it, so that an unwritten
/// output reads as non-finite; then the target column is copied out and
/// the rows whose target output is not finite are counted on the device,
/// read back once per image.
class TargetOutputs {
 public:
  /// what: the output batch's description in an allocation error.
  TargetOutputs(const Context& ctx, std::int64_t num_outputs, std::int64_t batch_rows,
                const std::string& what = "the model outputs of a batch");

  /// Starts an image: the count of non-finite rows goes back to 0.
  void reset();
  /// The output batch for the callback (batch_rows x num_outputs), its
  /// first `rows` rows poisoned.
  float* poisoned(std::int64_t rows);
  /// Copies column `target` of the batch's first `rows` rows to `selected`
  /// and counts the non-finite ones.
  void select(std::int64_t rows, int target, float* selected);
  /// Rows counted since reset() (a read-back: one stream synchronization on
  /// CUDA).
  int nonfinite_rows();

 private:
  const Context& ctx_;
  std::int64_t num_outputs_;
  Buffer<float> outputs_;
  Buffer<int> nonfinite_rows_;
};

/// The scores pointer: non-null, on ctx's device.
void validate_scores(const Context& ctx, const float* scores, const char* caller);

/// options.skip >= 0.
void validate_skip(std::int64_t skip, const char* caller);

/// grid_size in [1, min(h, w)].
void validate_grid(ConstImageView images, std::int64_t grid_size, const char* caller);

/// Perturbation options and batch_size.
void validate_perturbation(Perturbation perturbation, Interpolation mask_interpolation,
                           std::int64_t blur_size, float baseline, float sigma,
                           std::int64_t batch_size, const char* caller);

/// Checks shared by the perturbation explainers (SobolOptions, HsicOptions):
/// model, images, targets, the scores pointer, grid, skip, perturbation and
/// batch size.
template <class Options>
void validate_explainer(const Context& ctx, const Model& model, ConstImageView images,
                        HostSpan<const int> targets, const float* scores, const Options& options,
                        const char* caller);

/// The perturbation an explainer's options describe.
template <class Options>
PerturbationParams perturbation_params(const Options& options, bool per_channel) {
  PerturbationParams params;
  params.kind = options.perturbation;
  params.baseline = options.baseline;
  params.sigma = options.sigma;
  params.interpolation = options.mask_interpolation;
  params.grid_size = options.grid_size;
  params.per_channel = per_channel;
  return params;
}

/// Runs the model on perturbed copies of one image at a time, batch_size rows
/// per call, and collects the target class output of every row. Memory:
/// min(batch_size, max_rows) masks, perturbed images and output rows,
/// allocated once.
class PerturbationStream {
 public:
  /// Returns mask rows [row_begin, row_begin + rows) (rows x cells on ctx's
  /// device): either written to `scratch` (room for batch_size rows) or
  /// pointing into masks the caller already holds.
  using MaskSource =
      std::function<const float*(std::int64_t row_begin, std::int64_t rows, float* scratch)>;

  /// max_rows: the most rows run_image will be asked for (one image's
  /// design), so that a batch_size beyond it allocates no more than that.
  /// caller: the public entry, for error messages.
  PerturbationStream(const Context& ctx, const Model& model, ConstImageView images,
                     const PerturbationParams& params, std::int64_t blur_size,
                     std::int64_t batch_size, std::int64_t max_rows, const char* caller);

  /// Fills target_outputs[0, total_rows) with the model's `target` output on
  /// the perturbed copies of image `image` made from the masks `masks_for`
  /// supplies. Throws cuxplain::Error when the model throws or any of those
  /// outputs is not finite (on CUDA this synchronizes the stream once).
  void run_image(std::int64_t image, int target, std::int64_t total_rows,
                 const MaskSource& masks_for, float* target_outputs);

 private:
  const Context& ctx_;
  const Model& model_;
  ConstImageView images_;
  PerturbationParams params_;
  std::int64_t blur_size_;
  std::int64_t batch_size_;
  Buffer<float> masks_;
  Buffer<float> perturbed_;
  Buffer<float> blurred_;
  TargetOutputs outputs_;
};

template <class Options>
void validate_explainer(const Context& ctx, const Model& model, ConstImageView images,
                        HostSpan<const int> targets, const float* scores, const Options& options,
                        const char* caller) {
  validate_model_and_images(ctx, model, images, targets, caller);
  validate_scores(ctx, scores, caller);
  validate_grid(images, options.grid_size, caller);
  validate_skip(options.skip, caller);
  validate_perturbation(options.perturbation, options.mask_interpolation, options.blur_size,
                        options.baseline, options.sigma, options.batch_size, caller);
}

}  // namespace cuxplain::detail
