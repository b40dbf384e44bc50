// EVA: d + 1 input boxes per image (the ball, then the ball with one cell
// fixed), bounded in batches through the network with folded margins.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/perturbation.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../../kernels/eva.hpp"
#include "../../kernels/dispatch.hpp"
#include "design_runner.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace {

void validate(const Context& ctx, const nn::Network& network, ConstImageView images,
              HostSpan<const int> targets, const float* scores, const EvaOptions& options) {
  const char* caller = "eva_attribution";
  CUXPLAIN_EXPECTS(network.backend() == ctx.backend(), caller,
                   ": the network was built for the other backend; build it with this context");
  CUXPLAIN_EXPECTS(images.n >= 1, caller, ": images.n must be >= 1 (empty batch), got ", images.n);
  CUXPLAIN_EXPECTS(images.layout == Layout::nchw, caller,
                   ": images must be NCHW, the layout networks read");
  const nn::Shape in = network.input_shape();
  CUXPLAIN_EXPECTS(in.c == images.c && in.h == images.h && in.w == images.w, caller,
                   ": images are ", images.c, " x ", images.h, " x ", images.w,
                   " but the network reads ", nn::to_string(in));
  detail::expect_on_device(ctx, images.data, "images.data");
  detail::validate_scores(ctx, scores, caller);
  const std::int64_t outputs = network.output_shape().size();
  CUXPLAIN_EXPECTS(outputs >= 2, caller, ": the network has ", outputs,
                   " output; EVA compares the target with other classes");
  CUXPLAIN_EXPECTS(targets.size() == static_cast<std::size_t>(images.n), caller, ": targets has ",
                   targets.size(), " entries for ", images.n, " images");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    CUXPLAIN_EXPECTS(targets[i] >= 0 && targets[i] < outputs, caller, ": targets[", i, "] = ",
                     targets[i], " is outside [0, ", outputs, ")");
  }
  detail::validate_grid(images, options.grid_size, caller);
  CUXPLAIN_EXPECTS(std::isfinite(options.epsilon) && options.epsilon >= 0.0f, caller,
                   ": options.epsilon must be finite and >= 0, got ", options.epsilon);
  CUXPLAIN_EXPECTS(!options.clamp || (std::isfinite(options.clamp_min) &&
                                      std::isfinite(options.clamp_max) &&
                                      options.clamp_min <= options.clamp_max),
                   caller, ": options.clamp_min (", options.clamp_min, ") must be <= clamp_max (",
                   options.clamp_max, "), both finite");
  CUXPLAIN_EXPECTS(options.cell_mapping == Interpolation::nearest ||
                       options.cell_mapping == Interpolation::nearest_exact,
                   caller, ": options.cell_mapping must be nearest or nearest_exact, got ",
                   to_string(options.cell_mapping));
  CUXPLAIN_EXPECTS(options.batch_size >= 1, caller, ": options.batch_size must be >= 1, got ",
                   options.batch_size);
}

}  // namespace

void eva_attribution(const Context& ctx, const nn::Network& network, ConstImageView images,
                     HostSpan<const int> targets, float* scores, const EvaOptions& options) {
  validate(ctx, network, images, targets, scores, options);
  const std::int64_t cells = options.grid_size * options.grid_size;
  const std::int64_t boxes = cells + 1;
  const std::int64_t outputs = network.output_shape().size();
  const std::int64_t batch = std::min(options.batch_size, boxes);
  const std::int64_t image_size = images.image_size();

  // A box is a perturbation of the image with 0/1 masks: where the mask is 1
  // the pixel stays x, elsewhere it takes the ball's end (the "blurred" image
  // of Perturbation::blurring). Mask row 0 is all zeros (the ball B), row
  // 1 + u fixes cell u (B_u).
  std::vector<float> one_hot(static_cast<std::size_t>(boxes * cells), 0.0f);
  for (std::int64_t u = 0; u < cells; ++u) one_hot[static_cast<std::size_t>((1 + u) * cells + u)] = 1.0f;
  Buffer<float> masks(ctx, boxes * cells);
  copy_to_device(ctx, masks.data(), one_hot.data(), masks.bytes());
  PerturbationParams params;
  params.kind = Perturbation::blurring;
  params.interpolation = options.cell_mapping;
  params.grid_size = options.grid_size;

  Buffer<float> ball_lower(ctx, image_size), ball_upper(ctx, image_size);
  Buffer<float> box_lower(ctx, batch * image_size), box_upper(ctx, batch * image_size);
  Buffer<float> margins(ctx, batch * outputs);
  Buffer<float> overlaps(ctx, boxes);
  Buffer<float> staged(ctx, images.n * cells);  // `scores` untouched if a later image fails
  nn::BoundsOptions bounds;
  bounds.sound = options.sound;
  bounds.check_boxes = false;  // the boxes are built here, ordered by construction

  for (std::int64_t image = 0; image < images.n; ++image) {
    const ConstImageView source = images.image(image);
    CUXPLAIN_DISPATCH(ctx, eva_ball, source.data, image_size, options.epsilon, options.clamp,
                      options.clamp_min, options.clamp_max, ball_lower.data(), ball_upper.data());
    const int target = targets[static_cast<std::size_t>(image)];
    const std::vector<int> batch_targets(static_cast<std::size_t>(batch), target);
    for (std::int64_t first = 0; first < boxes; first += batch) {
      const std::int64_t rows = std::min(batch, boxes - first);
      const float* batch_masks = masks.data() + first * cells;
      perturb(ctx, source, batch_masks, rows, params, ball_lower.data(), box_lower.data());
      perturb(ctx, source, batch_masks, rows, params, ball_upper.data(), box_upper.data());
      network.margin_upper_bounds(ctx, box_lower.data(), box_upper.data(), rows,
                                  HostSpan<const int>(batch_targets.data(), static_cast<std::size_t>(rows)),
                                  margins.data(), bounds);
      CUXPLAIN_DISPATCH(ctx, eva_overlaps, margins.data(), rows, outputs, target,
                        overlaps.data() + first);
    }
    CUXPLAIN_DISPATCH(ctx, eva_scores, overlaps.data(), cells, staged.data() + image * cells);
  }
  copy_on_device(ctx, scores, staged.data(), staged.bytes());
}

}  // namespace cuxplain
