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

std::int64_t batch_rows(std::int64_t batch_size, std::int64_t total_rows) {
  return std::max<std::int64_t>(1, std::min(batch_size, total_rows));
}

std::string batch_rows_origin(std::int64_t batch_size, std::int64_t total_rows) {
  return batch_size <= total_rows
             ? concat("options.batch_size = ", batch_size)
             : concat("all ", total_rows, " design rows of the images, fewer than "
                      "options.batch_size = ", batch_size);
}

std::vector<DesignSegment> design_segments(std::int64_t first_image, std::int64_t rows_per_image,
                                           std::int64_t row_begin, std::int64_t rows) {
  std::vector<DesignSegment> out;
  for (std::int64_t row = row_begin; row < row_begin + rows;) {
    const std::int64_t image = row / rows_per_image;
    const std::int64_t end = std::min(row_begin + rows, (image + 1) * rows_per_image);
    out.push_back({first_image + image, row - image * rows_per_image, end - row, row - row_begin});
    row = end;
  }
  return out;
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
                                 std::int64_t batch_size, std::int64_t total_rows,
                                 const char* caller)
    : ctx_(ctx),
      images_(images),
      params_(params),
      blur_size_(blur_size),
      batch_rows_(detail::batch_rows(batch_size, total_rows)),
      masks_(ctx, checked_product(batch_rows_, mask_cells(params, images.c), "the mask batch"),
             concat("the mask batch of ", caller, " (", batch_rows_, " rows x ",
                    mask_cells(params, images.c), " cells; ",
                    batch_rows_origin(batch_size, total_rows), ")")),
      perturbed_(ctx, checked_product(batch_rows_, images.image_size(), "the perturbed images"),
                 concat("the perturbed images of ", caller, " (", batch_rows_, " rows x ",
                        images.image_size(), " floats; ",
                        batch_rows_origin(batch_size, total_rows), ")")),
      blurred_(ctx, params.kind == Perturbation::blurring ? images.image_size() : 0,
               concat("the blurred image of ", caller)) {}

void PerturbedImages::perturb(const DesignSegment& segment, const float* masks) {
  const ConstImageView image = images_.image(segment.image);
  // A batch starts where the last one ended: the image blurred last is
  // usually the one this segment needs.
  if (params_.kind == Perturbation::blurring && blurred_image_ != segment.image) {
    CUXPLAIN_DISPATCH(ctx_, box_blur, image, blur_size_,
                      ImageView{blurred_.data(), 1, image.c, image.h, image.w, image.layout});
    blurred_image_ = segment.image;
  }
  CUXPLAIN_DISPATCH(ctx_, perturb, image, masks, segment.rows, params_, blurred_.data(),
                    perturbed_.data() + segment.offset * images_.image_size(), DType::f32);
}

ConstImageView PerturbedImages::batch(std::int64_t rows) const {
  return {perturbed_.data(), rows, images_.c, images_.h, images_.w, images_.layout};
}

// ---------------------------------------------------------------------------
// DesignRunner
// ---------------------------------------------------------------------------

namespace {

/// Where a batch sits in the images' designs, for the callback's errors.
std::string describe(const std::vector<DesignSegment>& segments) {
  const DesignSegment& a = segments.front();
  const DesignSegment& b = segments.back();
  if (segments.size() == 1) {
    return concat("on image ", a.image, " (design rows ", a.row, "..", a.row + a.rows - 1, ")");
  }
  return concat("on images ", a.image, "..", b.image, " (design rows ", a.row, "..",
                a.row + a.rows - 1, " of image ", a.image, " to ", b.row, "..",
                b.row + b.rows - 1, " of image ", b.image, ")");
}

}  // namespace

DesignRunner::DesignRunner(const Context& ctx, std::int64_t num_outputs, std::int64_t batch_rows,
                           std::int64_t design_rows, std::int64_t max_images, CallbackNames names,
                           const std::string& what)
    : ctx_(ctx),
      num_outputs_(num_outputs),
      batch_rows_(batch_rows),
      design_rows_(design_rows),
      // A batch spans at most ceil((batch_rows - 1) / design_rows) + 1 images,
      // the first of which may have started in an earlier batch; the images
      // before it are finished.
      slots_(std::min(max_images, (batch_rows - 1 + design_rows - 1) / design_rows + 1)),
      names_(std::move(names)),
      outputs_(ctx, checked_product(batch_rows, num_outputs, what), what),
      target_outputs_(ctx, checked_product(slots_, design_rows, "the target outputs"),
                      concat("the target outputs of ", slots_, " images' designs (", design_rows,
                             " rows each)")),
      nonfinite_rows_(ctx, max_images) {}

void DesignRunner::run(std::int64_t first_image, std::int64_t count, HostSpan<const int> targets,
                       const MakeBatch& make, const Forward& forward, const Finish& finish) {
  const auto slot = [&](std::int64_t image) {
    return target_outputs_.data() + (image % slots_) * design_rows_;
  };
  CUXPLAIN_DISPATCH(ctx_, zero, nonfinite_rows_.data(), count * sizeof(int));
  std::vector<int> nonfinite(static_cast<std::size_t>(count));
  const std::int64_t total_rows = count * design_rows_;
  for (std::int64_t row_begin = 0; row_begin < total_rows; row_begin += batch_rows_) {
    const std::int64_t rows = std::min(batch_rows_, total_rows - row_begin);
    const std::vector<DesignSegment> segments =
        design_segments(first_image, design_rows_, row_begin, rows);
    make(segments, rows);
    float* outputs = outputs_.data();
    CUXPLAIN_DISPATCH(ctx_, fill, outputs, rows * num_outputs_,
                      std::numeric_limits<float>::quiet_NaN());
    invoke_callback(names_.callback, [&] { return describe(segments); },
                    [&] { forward(rows, outputs); });
    std::int64_t done_begin = -1, done_end = -1;  // the images this batch completes
    for (const DesignSegment& s : segments) {
      CUXPLAIN_DISPATCH(ctx_, select_target_outputs, outputs + s.offset * num_outputs_, s.rows,
                        num_outputs_, targets[static_cast<std::size_t>(s.image)],
                        slot(s.image) + s.row, nonfinite_rows_.data() + (s.image - first_image));
      if (s.row + s.rows == design_rows_) {
        if (done_begin < 0) done_begin = s.image;
        done_end = s.image + 1;
      }
    }
    if (done_begin < 0) continue;
    const std::int64_t local = done_begin - first_image;
    CUXPLAIN_DISPATCH(ctx_, copy_to_host, nonfinite.data() + local,
                      nonfinite_rows_.data() + local, (done_end - done_begin) * sizeof(int));
    for (std::int64_t image = done_begin; image < done_end; ++image) {
      const int bad = nonfinite[static_cast<std::size_t>(image - first_image)];
      const int target = targets[static_cast<std::size_t>(image)];
      CUXPLAIN_EXPECTS(bad == 0, names_.callback, " wrote a non-finite (NaN/Inf) or no output "
                       "for targets[", image, "] = ", target, " in ", bad, " of ", design_rows_,
                       " ", names_.rows, " of image ", image, "; the callback must write ",
                       names_.contract, " finite floats");
      finish(image, slot(image));
    }
  }
}

}  // namespace cuxplain::detail
