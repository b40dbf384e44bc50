// HSIC attribution: N perturbed copies per image through the model, then the
// HSIC estimator between each cell's mask and the target output.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/hsic.hpp>

#include "../../kernels/dispatch.hpp"
#include "../../kernels/hsic.hpp"
#include "design_runner.hpp"
#include "internal.hpp"

namespace cuxplain {
namespace {

void validate(const Context& ctx, const Model& model, ConstImageView images,
              HostSpan<const int> targets, const float* scores, const HsicOptions& options,
              const float* interactions) {
  detail::validate_explainer(ctx, model, images, targets, scores, options, "hsic_attribution");
  CUXPLAIN_EXPECTS(options.nb_design >= 2, "hsic_attribution: options.nb_design must be >= 2, got ",
                   options.nb_design);
  // The centred N x N Gram matrix must be addressable with 32-bit GEMM sizes.
  CUXPLAIN_EXPECTS(options.nb_design <= kHsicMaxDesign, "hsic_attribution: options.nb_design ",
                   options.nb_design, " is larger than ", kHsicMaxDesign,
                   " (the N x N output Gram matrix would pass 2^31 entries)");
  CUXPLAIN_EXPECTS(options.input_kernel == HsicKernel::binary ||
                       options.input_kernel == HsicKernel::rbf ||
                       options.input_kernel == HsicKernel::sobolev,
                   "hsic_attribution: options.input_kernel has an unknown value ",
                   static_cast<int>(options.input_kernel));
  CUXPLAIN_EXPECTS(options.output_width == Bandwidth::median_output ||
                       options.output_width == Bandwidth::median_distance,
                   "hsic_attribution: options.output_width has an unknown value ",
                   static_cast<int>(options.output_width));
  if (options.interactions) {
    detail::expect_on_device(ctx, interactions,
                             "hsic_attribution: interactions (options.interactions is set)");
  }
}

}  // namespace

void hsic_attribution(const Context& ctx, const Model& model, ConstImageView images,
                      HostSpan<const int> targets, float* scores, const HsicOptions& options,
                      float* interactions) {
  validate(ctx, model, images, targets, scores, options, interactions);
  const char* caller = "hsic_attribution";
  const PerturbationParams params = detail::perturbation_params(options, /*per_channel=*/false);
  const std::int64_t nb_design = options.nb_design;
  const std::int64_t cells = mask_cells(params, images.c);

  // The same N masks serve every image (as in xplique).
  Buffer<float> masks(ctx, nb_design * cells,
                      detail::concat("the masks of ", caller, " (options.nb_design = ", nb_design,
                                     " x ", cells, " cells)"));
  Buffer<float> centered_gram(ctx, nb_design * nb_design,
                              detail::concat("the centred output Gram matrix of ", caller, " "
                                             "(options.nb_design^2 = ", nb_design * nb_design,
                                             " entries)"));
  // Once per call: the public entry checks the sampler's limits.
  hsic_design(ctx, options.sampler, nb_design, cells, options.binary, masks.data(), options.skip,
              options.seed);

  const std::int64_t total_rows = detail::checked_product(
      images.n, nb_design, detail::concat("the model evaluations of ", caller));
  detail::PerturbedImages perturbed(ctx, images, params, options.blur_size, options.batch_size,
                                    total_rows, caller);
  detail::DesignRunner runner(
      ctx, model.num_outputs, perturbed.batch_rows(), nb_design, images.n,
      {"model.forward", "perturbed copies", "batch.n x num_outputs"},
      detail::concat("the model outputs of a batch of ", caller, " (", perturbed.batch_rows(),
                     " rows x model.num_outputs = ", model.num_outputs, "; ",
                     detail::batch_rows_origin(options.batch_size, total_rows), ")"));
  // Staged so that a failure on a later image leaves the caller's arrays untouched.
  Buffer<float> staged_scores(ctx, images.n * cells, "the staged scores of hsic_attribution");
  Buffer<float> staged_interactions(
      ctx, options.interactions ? detail::checked_product(images.n, cells * cells, caller) : 0,
      detail::concat("the staged interactions of ", caller, " (n x d^2 with d = ", cells, ")"));

  runner.run(
      0, images.n, targets,
      [&](const std::vector<detail::DesignSegment>& segments, std::int64_t) {
        for (const detail::DesignSegment& s : segments) {
          perturbed.perturb(s, masks.data() + s.row * cells);
        }
      },
      [&](std::int64_t rows, float* out) { model.forward(perturbed.batch(rows), out); },
      [&](std::int64_t image, const float* outputs) {
        float width = 0.0f;
        try {
          width = detail::hsic_output_width(ctx, outputs, nb_design, options.output_width);
        } catch (const Error& e) {
          CUXPLAIN_FAIL("hsic_attribution: image ", image, " (targets[", image, "] = ",
                        targets[static_cast<std::size_t>(image)], "): ", e.what());
        }
        CUXPLAIN_DISPATCH(ctx, hsic_centered_gram, outputs, nb_design, width,
                          centered_gram.data());
        detail::hsic_scores(ctx, masks.data(), nb_design, cells, options.input_kernel,
                            options.binary, centered_gram.data(),
                            staged_scores.data() + image * cells);
        if (options.interactions) {
          detail::hsic_interactions(ctx, masks.data(), nb_design, cells, options.input_kernel,
                                    centered_gram.data(),
                                    staged_interactions.data() + image * cells * cells);
        }
      });

  CUXPLAIN_DISPATCH(ctx, copy_on_device, scores, staged_scores.data(), staged_scores.bytes());
  if (options.interactions) {
    CUXPLAIN_DISPATCH(ctx, copy_on_device, interactions, staged_interactions.data(),
                      staged_interactions.bytes());
  }
}

}  // namespace cuxplain
