#include "design_runner.hpp"

#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/qmc.hpp>

#include <algorithm>
#include <limits>

#include "../../kernels/dispatch.hpp"
#include "../../kernels/estimators.hpp"
#include "../../kernels/model_outputs.hpp"
#include "../../kernels/perturbation.hpp"
#include "../../kernels/sobol_design.hpp"

namespace cuxplain::detail {

std::int64_t batch_rows(std::int64_t batch_size, std::int64_t design_rows) {
  return std::max<std::int64_t>(1, std::min(batch_size, design_rows));
}

std::string batch_rows_origin(std::int64_t batch_size, std::int64_t design_rows) {
  return batch_size <= design_rows
             ? concat("options.batch_size = ", batch_size)
             : concat("one image's design, smaller than options.batch_size = ", batch_size);
}

// ---------------------------------------------------------------------------
// SobolDesign
// ---------------------------------------------------------------------------

SobolDesign::SobolDesign(const Context& ctx, Sampler sampler, std::int64_t nb_design,
                         std::int64_t d, bool with_b, std::int64_t skip, std::uint64_t seed,
                         const char* caller, const char* factor)
    : ctx_(ctx),
      nb_design_(nb_design),
      d_(d),
      with_b_(with_b),
      rows_(checked_product(nb_design, d + (with_b ? 2 : 1),
                            concat("the design rows of ", caller, ", options.nb_design x (",
                                   factor, " + 1)"))),
      sequence_(ctx, checked_product(nb_design, 2 * d, concat("the design sequence of ", caller)),
                concat("the design sequence of ", caller, " (options.nb_design = ", nb_design,
                       " points x ", 2 * d, " dimensions)")) {
  // Once per call: the public entry checks the sampler's limits.
  generate_samples(ctx, sampler, nb_design, 2 * d, sequence_.data(), skip, seed);
}

void SobolDesign::masks(std::int64_t row_begin, std::int64_t count, float* masks) const {
  CUXPLAIN_DISPATCH(ctx_, sobol_design_masks, sequence_.data(), nb_design_, d_, with_b_,
                    row_begin, count, masks);
}

void SobolDesign::estimate(const float* outputs, Estimator estimator, float* total,
                           float* first) const {
  const float* y_a = outputs;
  const float* y_b = with_b_ ? y_a + nb_design_ : nullptr;
  const float* y_c = y_a + nb_design_ * (with_b_ ? 2 : 1);
  CUXPLAIN_DISPATCH(ctx_, sobol_total_order, estimator, y_a, y_c, nb_design_, d_, total);
  if (with_b_) CUXPLAIN_DISPATCH(ctx_, sobol_first_order, y_a, y_b, y_c, nb_design_, d_, first);
}

// ---------------------------------------------------------------------------
// PerturbedImages
// ---------------------------------------------------------------------------

PerturbedImages::PerturbedImages(const Context& ctx, ConstImageView images,
                                 const PerturbationParams& params, std::int64_t blur_size,
                                 std::int64_t batch_size, std::int64_t design_rows,
                                 const char* caller)
    : ctx_(ctx),
      images_(images),
      params_(params),
      blur_size_(blur_size),
      batch_rows_(detail::batch_rows(batch_size, design_rows)),
      masks_(ctx, checked_product(batch_rows_, mask_cells(params, images.c), "the mask batch"),
             concat("the mask batch of ", caller, " (", batch_rows_, " rows x ",
                    mask_cells(params, images.c), " cells; ",
                    batch_rows_origin(batch_size, design_rows), ")")),
      perturbed_(ctx, checked_product(batch_rows_, images.image_size(), "the perturbed images"),
                 concat("the perturbed images of ", caller, " (", batch_rows_, " rows x ",
                        images.image_size(), " floats; ",
                        batch_rows_origin(batch_size, design_rows), ")")),
      blurred_(ctx, params.kind == Perturbation::blurring ? images.image_size() : 0,
               concat("the blurred image of ", caller)) {}

void PerturbedImages::start(std::int64_t image) {
  image_ = images_.image(image);
  if (params_.kind == Perturbation::blurring) {
    CUXPLAIN_DISPATCH(ctx_, box_blur, image_, blur_size_,
                      ImageView{blurred_.data(), 1, image_.c, image_.h, image_.w, image_.layout});
  }
}

ConstImageView PerturbedImages::perturb(const float* masks, std::int64_t rows) {
  CUXPLAIN_DISPATCH(ctx_, perturb, image_, masks, rows, params_, blurred_.data(),
                    perturbed_.data(), DType::f32);
  return {perturbed_.data(), rows, image_.c, image_.h, image_.w, image_.layout};
}

// ---------------------------------------------------------------------------
// DesignRunner
// ---------------------------------------------------------------------------

DesignRunner::DesignRunner(const Context& ctx, std::int64_t num_outputs, std::int64_t batch_rows,
                           CallbackNames names, const std::string& what)
    : ctx_(ctx),
      num_outputs_(num_outputs),
      batch_rows_(batch_rows),
      names_(std::move(names)),
      outputs_(ctx, checked_product(batch_rows, num_outputs, what), what),
      nonfinite_rows_(ctx, 1) {}

void DesignRunner::run(std::int64_t image, int target, std::int64_t total_rows,
                       const MakeBatch& make, const Forward& forward, float* target_outputs) {
  CUXPLAIN_DISPATCH(ctx_, zero, nonfinite_rows_.data(), sizeof(int));
  for (std::int64_t row_begin = 0; row_begin < total_rows; row_begin += batch_rows_) {
    const std::int64_t rows = std::min(batch_rows_, total_rows - row_begin);
    make(row_begin, rows);
    float* outputs = outputs_.data();
    CUXPLAIN_DISPATCH(ctx_, fill, outputs, rows * num_outputs_,
                      std::numeric_limits<float>::quiet_NaN());
    invoke_callback(
        names_.callback,
        [&] { return concat("on image ", image, " (design rows ", row_begin, "..",
                            row_begin + rows - 1, ")"); },
        [&] { forward(rows, outputs); });
    CUXPLAIN_DISPATCH(ctx_, select_target_outputs, outputs, rows, num_outputs_, target,
                      target_outputs + row_begin, nonfinite_rows_.data());
  }
  int nonfinite = 0;
  CUXPLAIN_DISPATCH(ctx_, copy_to_host, &nonfinite, nonfinite_rows_.data(), sizeof(int));
  CUXPLAIN_EXPECTS(nonfinite == 0, names_.callback, " wrote a non-finite (NaN/Inf) or no output "
                   "for targets[", image, "] = ", target, " in ", nonfinite, " of ", total_rows,
                   " ", names_.rows, " of image ", image, "; the callback must write ",
                   names_.contract, " finite floats");
}

}  // namespace cuxplain::detail
