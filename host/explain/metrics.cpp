// The metrics' public entries: argument checks, then the rows of each
// metric streamed through the model (RowStream) and reduced by the backend
// ops. Results are staged and copied to the caller's arrays last, so that a
// failing call leaves them untouched.
#include <cuxplain/metrics.hpp>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/perturbation.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../../kernels/metrics.hpp"
#include "../../kernels/dispatch.hpp"
#include "design_runner.hpp"
#include "metrics_common.hpp"
#include "row_stream.hpp"
#include "../core/enum_names.hpp"
#include "../core/validate.hpp"

namespace cuxplain {

namespace {

constexpr EnumName<Convention> kConventions[] = {{Convention::paper, "paper"},
                                                 {Convention::xplique, "xplique"}};

constexpr EnumName<OutputActivation> kActivations[] = {{OutputActivation::none, "none"},
                                                       {OutputActivation::softmax, "softmax"},
                                                       {OutputActivation::sigmoid, "sigmoid"}};

constexpr EnumName<Distance> kDistances[] = {{Distance::l1, "l1"}, {Distance::l2, "l2"}};

}  // namespace

template <>
HostSpan<const EnumName<Convention>> enum_names<Convention>() {
  return detail::span_of(kConventions);
}
template <>
HostSpan<const EnumName<OutputActivation>> enum_names<OutputActivation>() {
  return detail::span_of(kActivations);
}
template <>
HostSpan<const EnumName<Distance>> enum_names<Distance>() {
  return detail::span_of(kDistances);
}

const char* to_string(Convention convention) {
  return detail::name_in(kConventions, convention, "unknown convention");
}

const char* to_string(OutputActivation activation) {
  return detail::name_in(kActivations, activation, "unknown activation");
}

const char* to_string(Distance distance) {
  return detail::name_in(kDistances, distance, "unknown distance");
}

namespace detail {

void validate_convention(Convention convention, const char* caller) {
  CUXPLAIN_EXPECTS(convention == Convention::paper || convention == Convention::xplique, caller,
                   ": options.convention has an unknown value ", static_cast<int>(convention));
}

void validate_activation(OutputActivation activation, const char* caller) {
  CUXPLAIN_EXPECTS(activation == OutputActivation::none ||
                       activation == OutputActivation::softmax ||
                       activation == OutputActivation::sigmoid,
                   caller, ": options.activation has an unknown value ",
                   static_cast<int>(activation));
}

void validate_batch_size(std::int64_t batch_size, const char* caller) {
  CUXPLAIN_EXPECTS(batch_size >= 1, caller, ": options.batch_size must be >= 1, got ",
                   batch_size);
}

void validate_pixels(ConstImageView images, const char* caller) {
  // Rank maps and cell indices are 32-bit.
  CUXPLAIN_EXPECTS(images.h * images.w < (std::int64_t{1} << 31), caller, ": images of ",
                   images.h, " x ", images.w, " pixels are too large (at most 2^31 - 1 pixels)");
}

void validate_explanations(const Context& ctx, ConstImageView images, ConstImageView explanations,
                           const char* caller) {
  CUXPLAIN_EXPECTS(explanations.n == images.n, caller, ": explanations.n = ", explanations.n,
                   " differs from images.n = ", images.n);
  CUXPLAIN_EXPECTS(explanations.h == images.h && explanations.w == images.w, caller,
                   ": explanations are ", explanations.h, " x ", explanations.w,
                   " but the images ", images.h, " x ", images.w,
                   "; upsample grid scores to the image size first (cuxplain::upsample)");
  CUXPLAIN_EXPECTS(explanations.c == 1 || explanations.c == images.c, caller,
                   ": explanations.c must be 1 or images.c = ", images.c, ", got ",
                   explanations.c);
  CUXPLAIN_EXPECTS(explanations.layout == Layout::nchw || explanations.layout == Layout::nhwc,
                   caller, ": explanations.layout is not nchw or nhwc");
  expect_on_device(ctx, explanations.data, concat(caller, ": explanations.data").c_str());
}

void validate_maps(const Context& ctx, ConstImageView explanations, const char* caller) {
  CUXPLAIN_EXPECTS(explanations.n >= 1, caller, ": explanations.n must be >= 1, got ",
                   explanations.n);
  CUXPLAIN_EXPECTS(explanations.c >= 1 && explanations.h >= 1 && explanations.w >= 1, caller,
                   ": explanation dimensions must be >= 1, got c=", explanations.c,
                   " h=", explanations.h, " w=", explanations.w);
  CUXPLAIN_EXPECTS(explanations.layout == Layout::nchw || explanations.layout == Layout::nhwc,
                   caller, ": explanations.layout is not nchw or nhwc");
  validate_pixels(explanations, caller);
  expect_on_device(ctx, explanations.data, concat(caller, ": explanations.data").c_str());
}

void expect_finite(const Context& ctx, const float* values, std::int64_t count,
                   const std::string& what, const char* caller) {
  Buffer<int> counter(ctx, 1, concat("the finiteness check of ", what));
  zero(ctx, counter.data(), sizeof(int));
  CUXPLAIN_DISPATCH(ctx, count_nonfinite, values, count, counter.data());
  int bad = 0;
  copy_to_host(ctx, &bad, counter.data(), sizeof(int));
  CUXPLAIN_EXPECTS(bad == 0, caller, ": ", what, " holds ", bad, " non-finite (NaN/Inf) of ",
                   count, " values");
}

void expect_output(const Context& ctx, const void* out, const char* name, const char* caller) {
  expect_on_device(ctx, out, concat(caller, ": ", name).c_str());
}

}  // namespace detail

namespace {

using detail::concat;

void validate_causal(const CausalOptions& options, const char* caller) {
  CUXPLAIN_EXPECTS(options.steps >= 1, caller, ": options.steps must be >= 1, got ",
                   options.steps);
  CUXPLAIN_EXPECTS(options.max_percentage_perturbed > 0.0 &&
                       options.max_percentage_perturbed <= 1.0,
                   caller, ": options.max_percentage_perturbed must be in (0, 1], got ",
                   options.max_percentage_perturbed);
  CUXPLAIN_EXPECTS(std::isfinite(options.baseline), caller,
                   ": options.baseline must be finite, got ", options.baseline);
  detail::validate_activation(options.activation, caller);
  detail::validate_convention(options.convention, caller);
  detail::validate_batch_size(options.batch_size, caller);
}

/// AUC = sum_s weights[s] y_s, the trapezoid of either convention.
std::vector<double> causal_weights(const std::vector<std::int64_t>& counts,
                                   Convention convention) {
  const std::size_t points = counts.size();
  std::vector<double> weights(points, 0.0);
  if (convention == Convention::paper) {
    const double total = static_cast<double>(counts.back());
    for (std::size_t s = 0; s + 1 < points; ++s) {
      const double width = static_cast<double>(counts[s + 1] - counts[s]) / (2.0 * total);
      weights[s] += width;
      weights[s + 1] += width;
    }
    return weights;
  }
  // xplique: one point per distinct count (the first of equal ones; equal
  // counts give equal images), the trapezoids' mean over equal spacing.
  std::vector<std::size_t> kept;
  for (std::size_t s = 0; s < points; ++s) {
    if (s == 0 || counts[s] != counts[s - 1]) kept.push_back(s);
  }
  const double intervals = static_cast<double>(kept.size() - 1);
  for (std::size_t j = 0; j + 1 < kept.size(); ++j) {
    weights[kept[j]] += 0.5 / intervals;
    weights[kept[j + 1]] += 0.5 / intervals;
  }
  return weights;
}

void causal_fidelity(const Context& ctx, const Model& model, ConstImageView images,
                     HostSpan<const int> targets, ConstImageView explanations, float* curves,
                     float* aucs, const CausalOptions& options, bool deletion) {
  const char* caller = deletion ? "deletion" : "insertion";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::validate_explanations(ctx, images, explanations, caller);
  detail::expect_output(ctx, curves, "curves", caller);
  detail::expect_output(ctx, aucs, "aucs", caller);
  validate_causal(options, caller);
  const std::int64_t pixels = images.h * images.w;
  const std::vector<std::int64_t> counts = causal_step_counts(pixels, options);
  const std::int64_t points = options.steps + 1;

  // One rank map per image: the channel means sorted once.
  Buffer<float> means(ctx, detail::checked_product(images.n, pixels, caller),
                      concat("the channel means of the explanations of ", caller));
  CUXPLAIN_DISPATCH(ctx, explanation_means, explanations, false, means.data());
  detail::expect_finite(ctx, means.data(), means.size(), "explanations", caller);
  Buffer<std::int32_t> ranks(ctx, means.size(), concat("the rank maps of ", caller));
  CUXPLAIN_DISPATCH(ctx, rank_maps, means.data(), images.n, pixels,
                    options.convention == Convention::xplique, ranks.data());
  means = Buffer<float>();

  Buffer<std::int64_t> step_counts(ctx, points, concat("the step counts of ", caller));
  copy_to_device(ctx, step_counts.data(), counts.data(), counts.size() * sizeof(std::int64_t));
  const std::vector<double> weights = causal_weights(counts, options.convention);
  Buffer<double> step_weights(ctx, points, concat("the trapezoid weights of ", caller));
  copy_to_device(ctx, step_weights.data(), weights.data(), weights.size() * sizeof(double));

  Buffer<float> staged_curves(ctx, images.n * points, concat("the staged curves of ", caller));
  Buffer<float> staged_aucs(ctx, images.n, concat("the staged AUCs of ", caller));
  detail::RowStream stream(ctx, model, images, targets, points, options.batch_size,
                           options.activation, caller);
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, causal_fill, images, ranks.data(), step_counts.data(), points,
                          deletion, options.baseline, row_begin, rows, batch);
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores) {
        copy_on_device(ctx, staged_curves.data() + row_begin, scores,
                       static_cast<std::size_t>(rows) * sizeof(float));
      });
  CUXPLAIN_DISPATCH(ctx, weighted_sums, staged_curves.data(), images.n, points,
                    step_weights.data(), staged_aucs.data());

  copy_on_device(ctx, curves, staged_curves.data(), staged_curves.bytes());
  copy_on_device(ctx, aucs, staged_aucs.data(), staged_aucs.bytes());
}

}  // namespace

std::vector<std::int64_t> causal_step_counts(std::int64_t pixels, const CausalOptions& options) {
  constexpr const char* caller = "causal_step_counts";
  CUXPLAIN_EXPECTS(pixels >= 1, caller, ": pixels must be >= 1, got ", pixels);
  validate_causal(options, caller);
  // xplique: int(np.floor(P * max_percentage_perturbed)).
  const double product = static_cast<double>(pixels) * options.max_percentage_perturbed;
  const auto perturbed = static_cast<std::int64_t>(std::floor(product));
  CUXPLAIN_EXPECTS(perturbed >= 1, caller, ": options.max_percentage_perturbed = ",
                   options.max_percentage_perturbed, " of ", pixels,
                   " pixels perturbs no pixel; it must cover at least one");
  // np.linspace(0, M, steps + 1, dtype=np.int32): s * (M / steps) in double,
  // floored, the last point exactly M.
  const double step = static_cast<double>(perturbed) / static_cast<double>(options.steps);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(options.steps + 1));
  for (std::int64_t s = 0; s <= options.steps; ++s) {
    counts[static_cast<std::size_t>(s)] =
        static_cast<std::int64_t>(std::floor(static_cast<double>(s) * step));
  }
  counts.back() = perturbed;
  return counts;
}

void deletion(const Context& ctx, const Model& model, ConstImageView images,
              HostSpan<const int> targets, ConstImageView explanations, float* curves,
              float* aucs, const CausalOptions& options) {
  causal_fidelity(ctx, model, images, targets, explanations, curves, aucs, options, true);
}

void insertion(const Context& ctx, const Model& model, ConstImageView images,
               HostSpan<const int> targets, ConstImageView explanations, float* curves,
               float* aucs, const CausalOptions& options) {
  causal_fidelity(ctx, model, images, targets, explanations, curves, aucs, options, false);
}

void mu_fidelity(const Context& ctx, const Model& model, ConstImageView images,
                 HostSpan<const int> targets, ConstImageView explanations, float* correlations,
                 const MuFidelityOptions& options) {
  constexpr const char* caller = "mu_fidelity";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::validate_explanations(ctx, images, explanations, caller);
  detail::expect_output(ctx, correlations, "correlations", caller);
  detail::validate_grid(images, options.grid_size, caller);
  CUXPLAIN_EXPECTS(options.nb_samples >= 2, caller, ": options.nb_samples must be >= 2, got ",
                   options.nb_samples);
  CUXPLAIN_EXPECTS(options.subset_percent >= 0.0f && options.subset_percent <= 1.0f, caller,
                   ": options.subset_percent must be in [0, 1], got ", options.subset_percent);
  CUXPLAIN_EXPECTS(std::isfinite(options.baseline), caller,
                   ": options.baseline must be finite, got ", options.baseline);
  detail::validate_activation(options.activation, caller);
  detail::validate_convention(options.convention, caller);
  detail::validate_batch_size(options.batch_size, caller);
  detail::expect_finite(ctx, explanations.data, explanations.size(), "explanations", caller);

  const std::int64_t n = images.n, samples = options.nb_samples;
  const std::int64_t cells = options.grid_size * options.grid_size;
  const std::int64_t per_image = samples + 1;
  // xplique draws one set of masks per batch of max(1, batch_size //
  // min(batch_size, nb_samples)) inputs.
  const std::int64_t group_size =
      std::max<std::int64_t>(1, options.batch_size / std::min(options.batch_size, samples));

  Buffer<double> masses(ctx, n * cells, concat("the cell masses of the explanations of ", caller));
  CUXPLAIN_DISPATCH(ctx, cell_masses, explanations, options.grid_size, masses.data());

  Buffer<float> outputs(ctx, n * per_image, concat("the target scores of ", caller));
  Buffer<double> removed(ctx, n * per_image, concat("the removed attribution masses of ", caller));
  detail::RowStream stream(ctx, model, images, targets, per_image, options.batch_size,
                           options.activation, caller);
  Buffer<float> masks(ctx, stream.batch_rows() * cells,
                      concat("the cell masks of a batch of ", caller));
  PerturbationParams params;
  params.kind = Perturbation::inpainting;
  params.baseline = options.baseline;
  params.interpolation = Interpolation::nearest_exact;  // TensorFlow's "nearest"
  params.grid_size = options.grid_size;
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, mufidelity_masks, options.seed, options.convention, group_size,
                          samples, cells, options.subset_percent, row_begin, rows, masks.data());
        CUXPLAIN_DISPATCH(ctx, removed_masses, masks.data(), masses.data(), cells, per_image,
                          row_begin, rows, removed.data() + row_begin);
        for (const auto& s : stream.segments(row_begin, rows)) {
          perturb(ctx, images.image(s.image), masks.data() + s.offset * cells, s.rows, params,
                  nullptr, batch + s.offset * images.image_size());
        }
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores) {
        copy_on_device(ctx, outputs.data() + row_begin, scores,
                       static_cast<std::size_t>(rows) * sizeof(float));
      });

  Buffer<float> preds(ctx, n * samples, concat("the score drops of ", caller));
  Buffer<std::int64_t> ranks(ctx, 2 * n * samples, concat("the ranks of ", caller));
  Buffer<float> staged(ctx, n, concat("the staged correlations of ", caller));
  CUXPLAIN_DISPATCH(ctx, mufidelity_correlations, outputs.data(), removed.data(), n, samples,
                    preds.data(), ranks.data(), staged.data());
  copy_on_device(ctx, correlations, staged.data(), staged.bytes());
}

void average_drop_increase_gain(const Context& ctx, const Model& model, ConstImageView images,
                                HostSpan<const int> targets, ConstImageView explanations,
                                float* drop, float* increase, float* gain,
                                const AverageScoreOptions& options) {
  constexpr const char* caller = "average_drop_increase_gain";
  detail::validate_model_and_images(ctx, model, images, targets, caller);
  detail::validate_pixels(images, caller);
  detail::validate_explanations(ctx, images, explanations, caller);
  detail::expect_output(ctx, drop, "drop", caller);
  detail::expect_output(ctx, increase, "increase", caller);
  detail::expect_output(ctx, gain, "gain", caller);
  detail::validate_activation(options.activation, caller);
  detail::validate_batch_size(options.batch_size, caller);

  const std::int64_t n = images.n, pixels = images.h * images.w;
  Buffer<float> means(ctx, n * pixels, concat("the explanation magnitudes of ", caller));
  CUXPLAIN_DISPATCH(ctx, explanation_means, explanations, true, means.data());
  detail::expect_finite(ctx, means.data(), means.size(), "explanations", caller);
  Buffer<float> masks(ctx, n * pixels, concat("the masks of ", caller));
  CUXPLAIN_DISPATCH(ctx, average_score_masks, means.data(), n, pixels, masks.data());
  means = Buffer<float>();

  Buffer<float> outputs(ctx, 2 * n, concat("the target scores of ", caller));
  detail::RowStream stream(ctx, model, images, targets, 2, options.batch_size,
                           options.activation, caller);
  stream.run(
      [&](std::int64_t row_begin, std::int64_t rows, float* batch) {
        CUXPLAIN_DISPATCH(ctx, average_score_fill, images, masks.data(), row_begin, rows, batch);
      },
      [&](std::int64_t row_begin, std::int64_t rows, const float* scores) {
        copy_on_device(ctx, outputs.data() + row_begin, scores,
                       static_cast<std::size_t>(rows) * sizeof(float));
      });
  Buffer<float> staged(ctx, 3 * n, concat("the staged scores of ", caller));
  CUXPLAIN_DISPATCH(ctx, average_score_values, outputs.data(), n, staged.data(),
                    staged.data() + n, staged.data() + 2 * n);
  const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
  copy_on_device(ctx, drop, staged.data(), bytes);
  copy_on_device(ctx, increase, staged.data() + n, bytes);
  copy_on_device(ctx, gain, staged.data() + 2 * n, bytes);
}

void average_stability(const Context& ctx, const Explainer& explainer,
                       std::int64_t explanation_size, ConstImageView images,
                       HostSpan<const int> targets, const float* base_explanations,
                       float* distances, const StabilityOptions& options) {
  constexpr const char* caller = "average_stability";
  CUXPLAIN_EXPECTS(static_cast<bool>(explainer), caller, ": explainer is empty");
  CUXPLAIN_EXPECTS(explanation_size >= 1, caller, ": explanation_size must be >= 1, got ",
                   explanation_size);
  detail::validate_images(ctx, images, caller);
  CUXPLAIN_EXPECTS(targets.size() == static_cast<std::size_t>(images.n), caller, ": targets has ",
                   targets.size(), " entries for ", images.n, " images");
  if (base_explanations != nullptr) {
    detail::expect_on_device(ctx, base_explanations,
                             concat(caller, ": base_explanations").c_str());
  }
  detail::expect_output(ctx, distances, "distances", caller);
  CUXPLAIN_EXPECTS(std::isfinite(options.radius) && options.radius > 0.0f, caller,
                   ": options.radius must be finite and > 0, got ", options.radius);
  CUXPLAIN_EXPECTS(options.distance == Distance::l1 || options.distance == Distance::l2, caller,
                   ": options.distance has an unknown value ",
                   static_cast<int>(options.distance));
  CUXPLAIN_EXPECTS(options.nb_samples >= 1, caller, ": options.nb_samples must be >= 1, got ",
                   options.nb_samples);
  detail::validate_convention(options.convention, caller);
  detail::validate_batch_size(options.batch_size, caller);

  const std::int64_t n = images.n, samples = options.nb_samples;
  const std::int64_t batch = std::min(options.batch_size, samples);
  const auto run_explainer = [&](ConstImageView x, HostSpan<const int> t, float* out,
                                 const auto& where) {
    detail::invoke_callback("explainer", where, [&] { explainer(x, t, out); });
  };

  Buffer<float> base;
  if (base_explanations == nullptr) {
    base = Buffer<float>(ctx, detail::checked_product(n, explanation_size, caller),
                         concat("the base explanations of ", caller, " (images.n = ", n,
                                " x explanation_size = ", explanation_size, ")"));
    fill(ctx, base.data(), base.size(), std::numeric_limits<float>::quiet_NaN());
    for (std::int64_t first = 0; first < n; first += options.batch_size) {
      const std::int64_t count = std::min(options.batch_size, n - first);
      const ConstImageView x{images.data + first * images.image_size(), count, images.c,
                             images.h, images.w, images.layout};
      run_explainer(x, HostSpan<const int>(targets.data() + first, static_cast<std::size_t>(count)),
                    base.data() + first * explanation_size,
                    [&] { return concat("on images ", first, "..", first + count - 1); });
    }
    base_explanations = base.data();
  }
  detail::expect_finite(ctx, base_explanations, n * explanation_size, "the base explanations",
                        caller);

  Buffer<float> neighbours(ctx, detail::checked_product(batch, images.image_size(), caller),
                           concat("the neighbours of a batch of ", caller, " (", batch,
                                  " images)"));
  Buffer<float> explained(ctx, detail::checked_product(batch, explanation_size, caller),
                          concat("the neighbours' explanations of ", caller));
  Buffer<double> row_distances(ctx, batch, concat("the distances of a batch of ", caller));
  Buffer<double> sums(ctx, n, concat("the distance sums of ", caller));
  Buffer<int> nonfinite(ctx, 1, concat("the explanation checks of ", caller));
  zero(ctx, sums.data(), sums.bytes());
  zero(ctx, nonfinite.data(), sizeof(int));
  for (std::int64_t image = 0; image < n; ++image) {
    const std::int64_t group = options.convention == Convention::paper ? image : 0;
    for (std::int64_t first = 0; first < samples; first += batch) {
      const std::int64_t count = std::min(batch, samples - first);
      CUXPLAIN_DISPATCH(ctx, stability_neighbours, images.image(image), options.seed, group,
                        samples, first, count, options.radius, neighbours.data());
      fill(ctx, explained.data(), count * explanation_size,
           std::numeric_limits<float>::quiet_NaN());
      const std::vector<int> repeated(static_cast<std::size_t>(count),
                                      targets[static_cast<std::size_t>(image)]);
      run_explainer(ConstImageView{neighbours.data(), count, images.c, images.h, images.w,
                                   images.layout},
                    repeated, explained.data(), [&] {
                      return concat("on neighbours ", first, "..", first + count - 1,
                                    " of image ", image);
                    });
      CUXPLAIN_DISPATCH(ctx, count_nonfinite, explained.data(), count * explanation_size,
                        nonfinite.data());
      CUXPLAIN_DISPATCH(ctx, explanation_distances, base_explanations + image * explanation_size,
                        explained.data(), count, explanation_size, options.distance,
                        row_distances.data(), sums.data() + image);
    }
  }
  int bad = 0;
  copy_to_host(ctx, &bad, nonfinite.data(), sizeof(int));
  CUXPLAIN_EXPECTS(bad == 0, caller, ": the explainer wrote ", bad,
                   " non-finite (NaN/Inf) or no values on the neighbours; it must write "
                   "explanation_size = ", explanation_size, " finite floats per image");
  Buffer<float> staged(ctx, n, concat("the staged distances of ", caller));
  CUXPLAIN_DISPATCH(ctx, finish_means, sums.data(), n, static_cast<double>(samples),
                    staged.data());
  copy_on_device(ctx, distances, staged.data(), staged.bytes());
}

void complexity(const Context& ctx, ConstImageView explanations, float* out) {
  constexpr const char* caller = "complexity";
  detail::validate_maps(ctx, explanations, caller);
  detail::expect_output(ctx, out, "out", caller);
  const std::int64_t pixels = explanations.h * explanations.w;
  Buffer<float> means(ctx, detail::checked_product(explanations.n, pixels, caller),
                      "the explanation magnitudes of complexity");
  CUXPLAIN_DISPATCH(ctx, explanation_means, explanations, true, means.data());
  detail::expect_finite(ctx, means.data(), means.size(), "explanations", caller);
  CUXPLAIN_DISPATCH(ctx, entropies, means.data(), explanations.n, pixels, out);
}

void sparseness(const Context& ctx, ConstImageView explanations, float* out) {
  constexpr const char* caller = "sparseness";
  detail::validate_maps(ctx, explanations, caller);
  detail::expect_output(ctx, out, "out", caller);
  const std::int64_t pixels = explanations.h * explanations.w;
  Buffer<float> means(ctx, detail::checked_product(explanations.n, pixels, caller),
                      "the explanation magnitudes of sparseness");
  CUXPLAIN_DISPATCH(ctx, explanation_means, explanations, true, means.data());
  detail::expect_finite(ctx, means.data(), means.size(), "explanations", caller);
  Buffer<float> sorted(ctx, means.size(), "the sorted magnitudes of sparseness");
  CUXPLAIN_DISPATCH(ctx, sort_ascending, means.data(), explanations.n, pixels, sorted.data());
  CUXPLAIN_DISPATCH(ctx, ginis, sorted.data(), explanations.n, pixels, out);
}

}  // namespace cuxplain
