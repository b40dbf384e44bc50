#include "row_stream.hpp"

#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>

#include <algorithm>
#include <limits>

#include "../../kernels/metrics.hpp"
#include "../../kernels/dispatch.hpp"
#include "design_runner.hpp"
#include "../core/validate.hpp"

namespace cuxplain::detail {
namespace {

std::string rows_origin(std::int64_t batch_size, std::int64_t total) {
  return batch_size <= total
             ? concat("options.batch_size = ", batch_size)
             : concat("all ", total, " rows, fewer than options.batch_size = ", batch_size);
}

}  // namespace

RowStream::RowStream(const Context& ctx, const Model& model, ConstImageView images,
                     HostSpan<const int> targets, std::int64_t rows_per_image,
                     std::int64_t batch_size, OutputActivation activation, const char* caller)
    : ctx_(ctx),
      model_(model),
      images_(images),
      targets_(targets),
      rows_per_image_(rows_per_image),
      total_rows_(checked_product(images.n, rows_per_image,
                                  concat("the model evaluations of ", caller))),
      batch_rows_(std::max<std::int64_t>(1, std::min(batch_size, total_rows_))),
      activation_(activation),
      caller_(caller),
      batch_(ctx, checked_product(batch_rows_, images.image_size(), "the perturbed images"),
             concat("the perturbed images of ", caller, " (", batch_rows_, " rows x ",
                    images.image_size(), " floats; ", rows_origin(batch_size, total_rows_), ")")),
      outputs_(ctx, checked_product(batch_rows_, model.num_outputs, "the model outputs"),
               concat("the model outputs of a batch of ", caller, " (", batch_rows_,
                      " rows x model.num_outputs = ", model.num_outputs, ")")),
      scores_(ctx, batch_rows_, concat("the target scores of a batch of ", caller)),
      nonfinite_(ctx, images.n, concat("the per-image output checks of ", caller)) {}

std::vector<RowStream::Segment> RowStream::segments(std::int64_t row_begin,
                                                    std::int64_t rows) const {
  return design_segments(0, rows_per_image_, row_begin, rows);
}

void RowStream::run(const Fill& fill, const Consume& consume) {
  zero(ctx_, nonfinite_.data(), static_cast<std::size_t>(nonfinite_.bytes()));
  const std::int64_t k = model_.num_outputs;
  for (std::int64_t row_begin = 0; row_begin < total_rows_; row_begin += batch_rows_) {
    const std::int64_t rows = std::min(batch_rows_, total_rows_ - row_begin);
    fill(row_begin, rows, batch_.data());
    // Poisoned, so that an output the callback leaves unwritten reads as NaN.
    cuxplain::fill(ctx_, outputs_.data(), rows * k, std::numeric_limits<float>::quiet_NaN());
    const ConstImageView batch{batch_.data(), rows, images_.c, images_.h, images_.w,
                               images_.layout};
    float* outputs = outputs_.data();
    invoke_callback(
        "model.forward",
        [&] {
          const std::int64_t first = row_begin / rows_per_image_;
          const std::int64_t last = (row_begin + rows - 1) / rows_per_image_;
          return concat("on images ", first, "..", last, " (rows ", row_begin, "..",
                        row_begin + rows - 1, " of ", caller_, ")");
        },
        [&] { model_.forward(batch, outputs); });
    for (const Segment& s : segments(row_begin, rows)) {
      CUXPLAIN_DISPATCH(ctx_, select_activated_outputs, outputs + s.offset * k, s.rows, k,
                        targets_[static_cast<std::size_t>(s.image)], activation_,
                        scores_.data() + s.offset);
      CUXPLAIN_DISPATCH(ctx_, count_nonfinite, scores_.data() + s.offset, s.rows,
                        nonfinite_.data() + s.image);
    }
    consume(row_begin, rows, scores_.data());
  }

  std::vector<int> counts(static_cast<std::size_t>(images_.n));
  copy_to_host(ctx_, counts.data(), nonfinite_.data(), nonfinite_.bytes());
  for (std::size_t image = 0; image < counts.size(); ++image) {
    CUXPLAIN_EXPECTS(counts[image] == 0, caller_, ": model.forward wrote a non-finite (NaN/Inf) "
                     "or no output for targets[", image, "] = ", targets_[image],
                     activation_ == OutputActivation::none
                         ? ""
                         : concat(" (after ", to_string(activation_), ")").c_str(),
                     " in ", counts[image], " of the ", rows_per_image_,
                     " perturbed copies of image ", image,
                     "; the callback must write batch.n x num_outputs finite floats");
  }
}

}  // namespace cuxplain::detail
