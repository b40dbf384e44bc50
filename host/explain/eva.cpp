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

#include "../../kernels/dispatch.hpp"
#include "../../kernels/eva.hpp"
#include "../../kernels/perturbation.hpp"
#include "../core/validate.hpp"
#include "../nn/execute.hpp"

namespace cuxplain {
namespace {

void validate(const Context& ctx, const nn::Network& network, ConstImageView images,
              HostSpan<const int> targets, const float* scores, const EvaOptions& options) {
  const char* caller = "eva_attribution";
  CUXPLAIN_EXPECTS(network.backend() == ctx.backend(), caller,
                   ": the network was built for the other backend; build it with this context");
  CUXPLAIN_EXPECTS(network.device() == ctx.device(), caller,
                   ": the network's weights are on CUDA device ", network.device(),
                   " but ctx is on device ", ctx.device());
  CUXPLAIN_EXPECTS(images.n >= 1, caller, ": images.n must be >= 1 (empty batch), got ", images.n);
  CUXPLAIN_EXPECTS(images.layout == Layout::nchw, caller,
                   ": images must be NCHW, the layout networks read");
  const nn::Shape in = network.input_shape();
  CUXPLAIN_EXPECTS(in.c == images.c && in.h == images.h && in.w == images.w, caller,
                   ": images are ", images.c, " x ", images.h, " x ", images.w,
                   " but the network reads ", nn::to_string(in));
  detail::expect_on_device(ctx, images.data, "images.data");
  detail::expect_on_device(ctx, scores, detail::concat(caller, ": scores").c_str());
  const std::int64_t outputs = network.output_shape().size();
  CUXPLAIN_EXPECTS(outputs >= 2, caller, ": the network has ", outputs,
                   " output; EVA compares the target with other classes");
  detail::validate_targets(targets, images.n, outputs, caller);
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
  CUXPLAIN_DISPATCH(ctx, copy_to_device, masks.data(), one_hot.data(), masks.bytes());
  PerturbationParams params;
  params.kind = Perturbation::blurring;
  params.interpolation = options.cell_mapping;
  params.grid_size = options.grid_size;

  Buffer<float> ball_lower(ctx, image_size), ball_upper(ctx, image_size);
  Buffer<float> box_lower(ctx, batch * image_size), box_upper(ctx, batch * image_size);
  Buffer<float> margins(ctx, batch * outputs);
  Buffer<float> overlaps(ctx, boxes);
  Buffer<int> batch_targets(ctx, batch);
  Buffer<float> staged(ctx, images.n * cells);  // `scores` untouched if a later image fails
  // Validated above: the loop runs the network's walk without its checks (the
  // boxes are built here, ordered by construction).
  const detail::NnNetworkState& net = *detail::network_state(network);

  for (std::int64_t image = 0; image < images.n; ++image) {
    const ConstImageView source = images.image(image);
    CUXPLAIN_DISPATCH(ctx, eva_ball, source.data, image_size, options.epsilon, options.clamp,
                      options.clamp_min, options.clamp_max, ball_lower.data(), ball_upper.data());
    const int target = targets[static_cast<std::size_t>(image)];
    const std::vector<int> target_row(static_cast<std::size_t>(batch), target);
    CUXPLAIN_DISPATCH(ctx, copy_to_device, batch_targets.data(), target_row.data(),
                      batch_targets.bytes());
    for (std::int64_t first = 0; first < boxes; first += batch) {
      const std::int64_t rows = std::min(batch, boxes - first);
      const float* batch_masks = masks.data() + first * cells;
      CUXPLAIN_DISPATCH(ctx, perturb, source, batch_masks, rows, params, ball_lower.data(),
                        box_lower.data(), DType::f32);
      CUXPLAIN_DISPATCH(ctx, perturb, source, batch_masks, rows, params, ball_upper.data(),
                        box_upper.data(), DType::f32);
      detail::network_margins(net, ctx, box_lower.data(), box_upper.data(), rows,
                              batch_targets.data(), margins.data(), options.sound);
      CUXPLAIN_DISPATCH(ctx, eva_overlaps, margins.data(), rows, outputs, target,
                        overlaps.data() + first);
    }
    CUXPLAIN_DISPATCH(ctx, eva_scores, overlaps.data(), cells, staged.data() + image * cells);
  }
  CUXPLAIN_DISPATCH(ctx, copy_on_device, scores, staged.data(), staged.bytes());
}

}  // namespace cuxplain
