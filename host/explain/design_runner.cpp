#include "design_runner.hpp"

#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "../../kernels/model_outputs.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain::detail {

void validate_model_and_images(const Context& ctx, const Model& model, ConstImageView images,
                               HostSpan<const int> targets, const char* caller) {
  CUXPLAIN_EXPECTS(model.num_outputs >= 1, caller, ": model.num_outputs must be >= 1, got ",
                   model.num_outputs);
  CUXPLAIN_EXPECTS(static_cast<bool>(model.forward), caller, ": model.forward is empty");
  validate_images(ctx, images, caller);
  validate_targets(targets, images.n, model.num_outputs, caller);
}

void validate_images(const Context& ctx, ConstImageView images, const char* caller) {
  CUXPLAIN_EXPECTS(images.n >= 1, caller, ": images.n must be >= 1 (empty batch), got ",
                   images.n);
  CUXPLAIN_EXPECTS(images.c >= 1 && images.h >= 1 && images.w >= 1, caller,
                   ": image dimensions must be >= 1, got c=", images.c, " h=", images.h,
                   " w=", images.w);
  CUXPLAIN_EXPECTS(images.layout == Layout::nchw || images.layout == Layout::nhwc, caller,
                   ": images.layout is not nchw or nhwc");
  expect_on_device(ctx, images.data, concat(caller, ": images.data").c_str());
}

void validate_targets(HostSpan<const int> targets, std::int64_t n, std::int64_t num_outputs,
                      const char* caller) {
  CUXPLAIN_EXPECTS(targets.size() == static_cast<std::size_t>(n), caller, ": targets has ",
                   targets.size(), " entries for ", n, " images");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    CUXPLAIN_EXPECTS(targets[i] >= 0 && targets[i] < num_outputs, caller, ": targets[", i,
                     "] = ", targets[i], " is outside [0, ", num_outputs, ")");
  }
}

TargetOutputs::TargetOutputs(const Context& ctx, std::int64_t num_outputs,
                             std::int64_t batch_rows, const std::string& what)
    : ctx_(ctx),
      num_outputs_(num_outputs),
      outputs_(ctx, checked_product(batch_rows, num_outputs, what), what),
      nonfinite_rows_(ctx, 1) {}

void TargetOutputs::reset() { zero(ctx_, nonfinite_rows_.data(), sizeof(int)); }

float* TargetOutputs::poisoned(std::int64_t rows) {
  fill(ctx_, outputs_.data(), rows * num_outputs_, std::numeric_limits<float>::quiet_NaN());
  return outputs_.data();
}

void TargetOutputs::select(std::int64_t rows, int target, float* selected) {
  CUXPLAIN_DISPATCH(ctx_, select_target_outputs, outputs_.data(), rows, num_outputs_, target,
                    selected, nonfinite_rows_.data());
}

int TargetOutputs::nonfinite_rows() {
  int count = 0;
  copy_to_host(ctx_, &count, nonfinite_rows_.data(), sizeof(int));
  return count;
}

void validate_scores(const Context& ctx, const float* scores, const char* caller) {
  expect_on_device(ctx, scores, concat(caller, ": scores").c_str());
}

void validate_skip(std::int64_t skip, const char* caller) {
  CUXPLAIN_EXPECTS(skip >= 0, caller, ": options.skip must be >= 0, got ", skip);
}

void validate_grid(ConstImageView images, std::int64_t grid_size, const char* caller) {
  CUXPLAIN_EXPECTS(grid_size >= 1, caller, ": options.grid_size must be >= 1, got ", grid_size);
  CUXPLAIN_EXPECTS(grid_size <= std::min(images.h, images.w), caller, ": options.grid_size ",
                   grid_size, " is larger than the image (", images.h, " x ", images.w, ")");
}

void validate_perturbation(Perturbation perturbation, Interpolation mask_interpolation,
                           std::int64_t blur_size, float baseline, float sigma,
                           std::int64_t batch_size, const char* caller) {
  CUXPLAIN_EXPECTS(perturbation == Perturbation::inpainting ||
                       perturbation == Perturbation::blurring ||
                       perturbation == Perturbation::amplitude,
                   caller, ": options.perturbation has an unknown value ",
                   static_cast<int>(perturbation));
  CUXPLAIN_EXPECTS(mask_interpolation == Interpolation::nearest ||
                       mask_interpolation == Interpolation::nearest_exact ||
                       mask_interpolation == Interpolation::bilinear,
                   caller, ": options.mask_interpolation must be nearest, nearest_exact or "
                   "bilinear, got ", to_string(mask_interpolation));
  CUXPLAIN_EXPECTS(perturbation != Perturbation::blurring || blur_size >= 1, caller,
                   ": options.blur_size must be >= 1, got ", blur_size);
  CUXPLAIN_EXPECTS(std::isfinite(baseline), caller, ": options.baseline must be finite, got ",
                   baseline);
  CUXPLAIN_EXPECTS(std::isfinite(sigma), caller, ": options.sigma must be finite, got ", sigma);
  CUXPLAIN_EXPECTS(batch_size >= 1, caller, ": options.batch_size must be >= 1, got ",
                   batch_size);
}

namespace {

/// What sized a batch buffer: the option, or the design when it is smaller.
std::string batch_rows_origin(std::int64_t batch_size, std::int64_t max_rows) {
  return batch_size <= max_rows
             ? concat("options.batch_size = ", batch_size)
             : concat("one image's design, smaller than options.batch_size = ", batch_size);
}

}  // namespace

PerturbationStream::PerturbationStream(const Context& ctx, const Model& model,
                                       ConstImageView images, const PerturbationParams& params,
                                       std::int64_t blur_size, std::int64_t batch_size,
                                       std::int64_t max_rows, const char* caller)
    : ctx_(ctx),
      model_(model),
      images_(images),
      params_(params),
      blur_size_(blur_size),
      batch_size_(std::max<std::int64_t>(1, std::min(batch_size, max_rows))),
      masks_(ctx, checked_product(batch_size_, mask_cells(params, images.c), "the mask batch"),
             concat("the mask batch of ", caller, " (", batch_size_, " rows x ",
                    mask_cells(params, images.c), " cells; ",
                    batch_rows_origin(batch_size, max_rows), ")")),
      perturbed_(ctx, checked_product(batch_size_, images.image_size(), "the perturbed images"),
                 concat("the perturbed images of ", caller, " (", batch_size_, " rows x ",
                        images.image_size(), " floats; ", batch_rows_origin(batch_size, max_rows),
                        ")")),
      blurred_(ctx, params.kind == Perturbation::blurring ? images.image_size() : 0,
               concat("the blurred image of ", caller)),
      outputs_(ctx, model.num_outputs, batch_size_,
               concat("the model outputs of a batch of ", caller, " (", batch_size_,
                      " rows x model.num_outputs = ", model.num_outputs, "; ",
                      batch_rows_origin(batch_size, max_rows), ")")) {}

void PerturbationStream::run_image(std::int64_t image, int target, std::int64_t total_rows,
                                   const MaskSource& masks_for, float* target_outputs) {
  const ConstImageView source = images_.image(image);
  if (params_.kind == Perturbation::blurring) {
    box_blur(ctx_, source, blur_size_,
             ImageView{blurred_.data(), 1, source.c, source.h, source.w, source.layout});
  }
  outputs_.reset();

  for (std::int64_t row_begin = 0; row_begin < total_rows; row_begin += batch_size_) {
    const std::int64_t rows = std::min(batch_size_, total_rows - row_begin);
    const float* masks = masks_for(row_begin, rows, masks_.data());
    perturb(ctx_, source, masks, rows, params_, blurred_.data(), perturbed_.data());
    float* outputs = outputs_.poisoned(rows);
    const ConstImageView batch{perturbed_.data(), rows, source.c, source.h, source.w,
                               source.layout};
    invoke_callback(
        "model.forward",
        [&] { return concat("on image ", image, " (design rows ", row_begin, "..",
                            row_begin + rows - 1, ")"); },
        [&] { model_.forward(batch, outputs); });
    outputs_.select(rows, target, target_outputs + row_begin);
  }

  const int nonfinite = outputs_.nonfinite_rows();
  CUXPLAIN_EXPECTS(nonfinite == 0, "model.forward wrote a non-finite (NaN/Inf) or no output for "
                   "targets[", image, "] = ", target, " in ", nonfinite, " of ", total_rows,
                   " perturbed copies of image ", image,
                   "; the callback must write batch.n x num_outputs finite floats");
}

}  // namespace cuxplain::detail
