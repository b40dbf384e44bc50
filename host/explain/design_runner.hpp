#pragma once
// What the design-based explainers share (Sobol and HSIC attribution,
// CRAFT's concept importance): their argument checks, the Sobol design and
// its estimators, the perturbed copies of an image, and the runner that
// streams one image's design through a model callback in bounded batches.
// Everything here is called after the public entry has validated its
// arguments: the loops call internal (dispatched) ops only.
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

#include "../core/validate.hpp"

namespace cuxplain::detail {

/// Checks shared by the perturbation explainers (SobolOptions, HsicOptions):
/// model, images, targets, the scores pointer, grid, skip, perturbation and
/// batch size.
template <class Options>
void validate_explainer(const Context& ctx, const Model& model, ConstImageView images,
                        HostSpan<const int> targets, const float* scores, const Options& options,
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

/// Rows per model call: options.batch_size, or one image's design when that
/// is smaller (so that a large batch size allocates no more than the design).
std::int64_t batch_rows(std::int64_t batch_size, std::int64_t design_rows);
/// What sized those rows, for allocation errors.
std::string batch_rows_origin(std::int64_t batch_size, std::int64_t design_rows);

/// The Saltelli design of Sobol indices over d factors (Sobol attribution's
/// cells, CRAFT's concepts): one 2d-dimensional sequence serves every
/// image, A and B its halves, rows [A | B (first order only) | C_1..C_d]
/// (detail/sobol_design.hpp); and the estimators of one image's outputs.
class SobolDesign {
 public:
  /// factor: how messages name d ("d", "rank").
  SobolDesign(const Context& ctx, Sampler sampler, std::int64_t nb_design, std::int64_t d,
              bool with_b, std::int64_t skip, std::uint64_t seed, const char* caller,
              const char* factor);

  /// Rows of one image's design: nb_design (d + 1), or (d + 2) with B.
  std::int64_t rows() const { return rows_; }
  /// Design rows [row_begin, row_begin + count) into masks (count x d).
  void masks(std::int64_t row_begin, std::int64_t count, float* masks) const;
  /// The total-order indices (d) of one image's outputs on the design, and
  /// the first-order ones when the design has B.
  void estimate(const float* outputs, Estimator estimator, float* total, float* first) const;

 private:
  Context ctx_;
  std::int64_t nb_design_, d_;
  bool with_b_;
  std::int64_t rows_;
  Buffer<float> sequence_;
};

/// Perturbed copies of one image at a time (Sobol and HSIC attribution):
/// rows masks of the design in, batch_rows perturbed images out, the image
/// blurred once when the perturbation blurs.
class PerturbedImages {
 public:
  /// design_rows: the most rows an image's design has; caller: the public
  /// entry, for allocation errors.
  PerturbedImages(const Context& ctx, ConstImageView images, const PerturbationParams& params,
                  std::int64_t blur_size, std::int64_t batch_size, std::int64_t design_rows,
                  const char* caller);

  std::int64_t batch_rows() const { return batch_rows_; }
  /// Room for batch_rows rows of masks, for designs made batch by batch.
  float* mask_scratch() const { return masks_.data(); }
  /// Starts image `image` (blurs it when the perturbation blurs).
  void start(std::int64_t image);
  /// The copies of the current image perturbed by `rows` masks.
  ConstImageView perturb(const float* masks, std::int64_t rows);

 private:
  Context ctx_;
  ConstImageView images_, image_;
  PerturbationParams params_;
  std::int64_t blur_size_;
  std::int64_t batch_rows_;
  Buffer<float> masks_, perturbed_, blurred_;
};

/// What the runner's errors say about the callback: its name in them
/// ("model.forward", "craft::concept_importance: model.h"), what a row of
/// its batch is ("perturbed copies") and what it must write ("batch.n x
/// num_outputs").
struct CallbackNames {
  std::string callback;
  std::string rows;
  std::string contract;
};

/// Streams the rows of one image's design through a model callback,
/// batch_rows at a time, and keeps each row's target output. The output
/// batch is poisoned (NaN) before the callback writes it, so that an
/// unwritten output reads as non-finite; the target column is copied out and
/// the non-finite rows counted on the device, read back once per image.
class DesignRunner {
 public:
  /// Writes the model input of design rows [row_begin, row_begin + rows).
  using MakeBatch = std::function<void(std::int64_t row_begin, std::int64_t rows)>;
  /// Runs the model on the batch just made, writing rows x num_outputs.
  using Forward = std::function<void(std::int64_t rows, float* outputs)>;

  /// what: the output batch's description in an allocation error.
  DesignRunner(const Context& ctx, std::int64_t num_outputs, std::int64_t batch_rows,
               CallbackNames names, const std::string& what);

  /// Fills target_outputs[0, total_rows) with the model's `target` output on
  /// image `image`'s design rows. Throws cuxplain::Error when the callback
  /// throws or any of those outputs is not finite (on CUDA this synchronizes
  /// the stream once).
  void run(std::int64_t image, int target, std::int64_t total_rows, const MakeBatch& make,
           const Forward& forward, float* target_outputs);

 private:
  Context ctx_;
  std::int64_t num_outputs_;
  std::int64_t batch_rows_;
  CallbackNames names_;
  Buffer<float> outputs_;
  Buffer<int> nonfinite_rows_;
};

template <class Options>
void validate_explainer(const Context& ctx, const Model& model, ConstImageView images,
                        HostSpan<const int> targets, const float* scores, const Options& options,
                        const char* caller) {
  validate_model_and_images(ctx, model, images, targets, caller);
  expect_on_device(ctx, scores, concat(caller, ": scores").c_str());
  validate_grid(images, options.grid_size, caller);
  validate_skip(options.skip, caller);
  validate_perturbation(options.perturbation, options.mask_interpolation, options.blur_size,
                        options.baseline, options.sigma, options.batch_size, caller);
}

}  // namespace cuxplain::detail
