#pragma once
// What the design-based explainers share (Sobol and HSIC attribution,
// CRAFT's concept importance): their argument checks, the Sobol design and
// its estimators, the perturbed copies of the images, and the runner that
// streams the images' designs, back to back, through a model callback in
// bounded batches.
// Everything here is called after the public entry has validated its
// arguments: the loops call internal (dispatched) ops only.
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

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

/// Rows per model call: options.batch_size, or all the rows of the images'
/// designs when they are fewer (so that a large batch size allocates no more
/// than the work).
std::int64_t batch_rows(std::int64_t batch_size, std::int64_t total_rows);
/// What sized those rows, for allocation errors.
std::string batch_rows_origin(std::int64_t batch_size, std::int64_t total_rows);

/// The part of one image's design that a batch of the runner holds: design
/// rows [row, row + rows) of image `image`, at batch rows [offset, offset +
/// rows). The images' designs run back to back, so a batch holds the end of
/// one image's design and the start of the next ones.
struct DesignSegment {
  std::int64_t image;
  std::int64_t row;
  std::int64_t rows;
  std::int64_t offset;
};

/// The segments of rows [row_begin, row_begin + rows) of designs of
/// rows_per_image rows, laid back to back from image first_image on.
std::vector<DesignSegment> design_segments(std::int64_t first_image, std::int64_t rows_per_image,
                                           std::int64_t row_begin, std::int64_t rows);

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

/// Perturbed copies of the images (Sobol and HSIC attribution), segment
/// by segment into a batch of batch_rows rows: design masks in, perturbed
/// images out, an image blurred once per run of its segments when the
/// perturbation blurs.
class PerturbedImages {
 public:
  /// total_rows: the rows of all the images' designs; caller: the public
  /// entry, for allocation errors.
  PerturbedImages(const Context& ctx, ConstImageView images, const PerturbationParams& params,
                  std::int64_t blur_size, std::int64_t batch_size, std::int64_t total_rows,
                  const char* caller);

  std::int64_t batch_rows() const { return batch_rows_; }
  /// Room for batch_rows rows of masks, for designs made batch by batch.
  float* mask_scratch() const { return masks_.data(); }
  /// Writes the copies of segment.image perturbed by `masks` (segment.rows
  /// rows) at the segment's rows of the batch.
  void perturb(const DesignSegment& segment, const float* masks);
  /// The first `rows` rows of the batch.
  ConstImageView batch(std::int64_t rows) const;

 private:
  Context ctx_;
  ConstImageView images_;
  PerturbationParams params_;
  std::int64_t blur_size_;
  std::int64_t batch_rows_;
  Buffer<float> masks_, perturbed_, blurred_;
  std::int64_t blurred_image_ = -1;  ///< the image in blurred_
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

/// Streams the rows of several images' designs through a model callback,
/// batch_rows at a time, the designs back to back so that every call but the
/// last gets a full batch, and hands each image's target outputs over once
/// its design is through. The output batch is poisoned (NaN) before the
/// callback writes it, so that an unwritten output reads as non-finite; the
/// target column is copied out and the non-finite rows counted on the
/// device, read back once per batch that completes images (on CUDA the one
/// stream synchronization of that batch).
class DesignRunner {
 public:
  /// Writes the model input of a batch, segment by segment (`rows` rows in all).
  using MakeBatch =
      std::function<void(const std::vector<DesignSegment>& segments, std::int64_t rows)>;
  /// Runs the model on the batch just made, writing rows x num_outputs.
  using Forward = std::function<void(std::int64_t rows, float* outputs)>;
  /// Takes image `image`'s target outputs on its design (design_rows
  /// values on the context's device, valid until the next batch).
  using Finish = std::function<void(std::int64_t image, const float* target_outputs)>;

  /// Runs of at most max_images images of design_rows rows each. what: the
  /// output batch's description in an allocation error.
  DesignRunner(const Context& ctx, std::int64_t num_outputs, std::int64_t batch_rows,
               std::int64_t design_rows, std::int64_t max_images, CallbackNames names,
               const std::string& what);

  /// Runs the designs of images [first_image, first_image + count) through
  /// the model and calls finish on each image in order, after checking that
  /// its outputs are finite. targets[image] is image `image`'s target.
  /// Throws cuxplain::Error when the callback throws or any target output of
  /// an image is not finite (before finish is called on that image).
  void run(std::int64_t first_image, std::int64_t count, HostSpan<const int> targets,
           const MakeBatch& make, const Forward& forward, const Finish& finish);

 private:
  Context ctx_;
  std::int64_t num_outputs_;
  std::int64_t batch_rows_;
  std::int64_t design_rows_;
  std::int64_t slots_;  ///< images whose target outputs are held at once
  CallbackNames names_;
  Buffer<float> outputs_;
  Buffer<float> target_outputs_;  ///< slots_ x design_rows_, image i in slot i % slots_
  Buffer<int> nonfinite_rows_;    ///< per image of a run
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
