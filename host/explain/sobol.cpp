// Sobol attribution: streams the Saltelli design through the model in batches
// and reduces the outputs with the chosen estimator, one image at a time.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/estimators.hpp>
#include <cuxplain/perturbation.hpp>
#include <cuxplain/qmc.hpp>
#include <cuxplain/sobol.hpp>
#include <cuxplain/sobol_design.hpp>

#include "design_runner.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace {

void validate(const Context& ctx, const Model& model, ConstImageView images,
              HostSpan<const int> targets, const float* scores, const SobolOptions& options,
              const float* first_order_scores) {
  detail::validate_explainer(ctx, model, images, targets, scores, options, "sobol_attribution");
  CUXPLAIN_EXPECTS(options.nb_design >= 2 && detail::is_power_of_two(options.nb_design),
                   "sobol_attribution: options.nb_design must be a power of two >= 2, got ",
                   options.nb_design);
  if (options.first_order) {
    detail::expect_on_device(ctx, first_order_scores,
                             "sobol_attribution: first_order_scores (options.first_order is set)");
  }
  const std::int64_t cells =
      options.grid_size * options.grid_size * (options.per_channel ? images.c : 1);
  if (options.sampler == Sampler::sobol || options.sampler == Sampler::sobol_owen) {
    CUXPLAIN_EXPECTS(2 * cells <= kSobolMaxDimensions, "sobol_attribution: options.grid_size ",
                     options.grid_size, " needs a ", 2 * cells,
                     "-dimensional Sobol sequence; the sampler has ", kSobolMaxDimensions);
  }
}

}  // namespace

void sobol_attribution(const Context& ctx, const Model& model, ConstImageView images,
                       HostSpan<const int> targets, float* scores, const SobolOptions& options,
                       float* first_order_scores) {
  validate(ctx, model, images, targets, scores, options, first_order_scores);

  const PerturbationParams params = detail::perturbation_params(options, options.per_channel);

  const std::int64_t nb_design = options.nb_design;
  const std::int64_t cells = mask_cells(params, images.c);
  const bool with_b = options.first_order;
  const char* caller = "sobol_attribution";
  const std::int64_t design_rows =
      detail::checked_product(nb_design, cells + (with_b ? 2 : 1),
                              "the design rows of sobol_attribution, options.nb_design x (d + 1)");

  // One 2d-dimensional sequence serves every image: A and B are its halves.
  Buffer<float> sequence(
      ctx, detail::checked_product(nb_design, 2 * cells, "the design sequence of sobol_attribution"),
      detail::concat("the design sequence of ", caller, " (options.nb_design = ", nb_design,
                     " points x ", 2 * cells, " dimensions)"));
  Buffer<float> outputs_on_design(
      ctx, design_rows,
      detail::concat("the model outputs on one image's design of ", caller, " (options.nb_design = ",
                     nb_design, " x (", cells, with_b ? " + 2" : " + 1", ") rows)"));
  generate_samples(ctx, options.sampler, nb_design, 2 * cells, sequence.data(), options.skip,
                   options.seed);

  detail::PerturbationStream stream(ctx, model, images, params, options.blur_size,
                                    options.batch_size, design_rows, caller);
  // Results go to a staging buffer first so that `scores` is untouched when
  // a later image fails.
  Buffer<float> total(ctx, images.n * cells, "the staged scores of sobol_attribution");
  Buffer<float> first(ctx, with_b ? images.n * cells : 0,
                      "the staged first-order scores of sobol_attribution");

  for (std::int64_t image = 0; image < images.n; ++image) {
    stream.run_image(image, targets[static_cast<std::size_t>(image)], design_rows,
                     [&](std::int64_t row_begin, std::int64_t rows, float* scratch) {
                       sobol_design_masks(ctx, sequence.data(), nb_design, cells, with_b,
                                          row_begin, rows, scratch);
                       return static_cast<const float*>(scratch);
                     },
                     outputs_on_design.data());
    const float* y_a = outputs_on_design.data();
    const float* y_b = with_b ? y_a + nb_design : nullptr;
    const float* y_c = y_a + nb_design * (with_b ? 2 : 1);
    sobol_total_order(ctx, options.estimator, y_a, y_c, nb_design, cells,
                      total.data() + image * cells);
    if (with_b) {
      sobol_first_order(ctx, y_a, y_b, y_c, nb_design, cells, first.data() + image * cells);
    }
  }

  copy_on_device(ctx, scores, total.data(), total.bytes());
  if (with_b) copy_on_device(ctx, first_order_scores, first.data(), first.bytes());
}

}  // namespace cuxplain
