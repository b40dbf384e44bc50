// Sobol attribution: streams the images' Saltelli designs through the model in
// batches (an image's design, then the next's, so that the batches are full)
// and reduces each image's outputs with the chosen estimator.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/qmc.hpp>
#include <cuxplain/sobol.hpp>

#include "../../kernels/dispatch.hpp"
#include "design_runner.hpp"

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
  const char* caller = "sobol_attribution";
  const PerturbationParams params = detail::perturbation_params(options, options.per_channel);
  const std::int64_t nb_design = options.nb_design;
  const std::int64_t cells = mask_cells(params, images.c);
  const bool with_b = options.first_order;

  const detail::SobolDesign design(ctx, options.sampler, nb_design, cells, with_b, options.skip,
                                   options.seed, caller, "d");
  const std::int64_t total_rows = detail::checked_product(
      images.n, design.rows(), detail::concat("the design rows of all the images of ", caller));
  detail::PerturbedImages perturbed(ctx, images, params, options.blur_size, options.batch_size,
                                    total_rows, caller);
  detail::DesignRunner runner(
      ctx, model.num_outputs, perturbed.batch_rows(), design.rows(), images.n,
      {"model.forward", "perturbed copies", "batch.n x num_outputs"},
      detail::concat("the model outputs of a batch of ", caller, " (", perturbed.batch_rows(),
                     " rows x model.num_outputs = ", model.num_outputs, "; ",
                     detail::batch_rows_origin(options.batch_size, total_rows), ")"));
  // Results go to a staging buffer first so that `scores` is untouched when
  // a later image fails.
  Buffer<float> total(ctx, images.n * cells, "the staged scores of sobol_attribution");
  Buffer<float> first(ctx, with_b ? images.n * cells : 0,
                      "the staged first-order scores of sobol_attribution");

  runner.run(
      0, images.n, targets,
      [&](const std::vector<detail::DesignSegment>& segments, std::int64_t) {
        for (const detail::DesignSegment& s : segments) {
          float* masks = perturbed.mask_scratch() + s.offset * cells;
          design.masks(s.row, s.rows, masks);
          perturbed.perturb(s, masks);
        }
      },
      [&](std::int64_t rows, float* outputs) { model.forward(perturbed.batch(rows), outputs); },
      [&](std::int64_t image, const float* outputs) {
        design.estimate(outputs, options.estimator, total.data() + image * cells,
                        with_b ? first.data() + image * cells : nullptr);
      });

  CUXPLAIN_DISPATCH(ctx, copy_on_device, scores, total.data(), total.bytes());
  if (with_b) CUXPLAIN_DISPATCH(ctx, copy_on_device, first_order_scores, first.data(), first.bytes());
}

}  // namespace cuxplain
