#pragma once
// Metrics of attribution maps: which explanation to trust.
//
// Fidelity (the model's response to the pixels an explanation ranks):
// deletion and insertion (Petsiuk et al., "RISE", BMVC 2018), MuFidelity
// (Bhatt et al., "Evaluating and Aggregating Feature-based Model
// Explanations", IJCAI 2020, def. 3), Average Drop / Increase
// (Chattopadhay et al., "Grad-CAM++", WACV 2018) and Average Gain (Zhang et
// al., "Opti-CAM", CVIU 2024). Stability: AverageStability (Bhatt et al.,
// def. 2). Complexity: the entropy of |explanation| (Bhatt et al.) and its
// Gini index (Chalasani et al., ICML 2020).
//
// Definitions and defaults are xplique 2.0.2's (xplique/metrics/*.py),
// stated with each function; Convention::xplique reproduces its code where
// it differs from the paper, and each options struct lists the differences.
//
// Like the explainers, every model-driven metric streams perturbed images
// through the Model callback batch_size rows at a time, rows of consecutive
// images sharing a batch: memory is batch_size perturbed images and model
// output rows, plus O(rows) scalars per image (the curve points, MuFidelity's
// sample pairs), never steps or samples times an image. The model's outputs
// are poisoned before each call and must be finite; a failing call throws
// cuxplain::Error naming the argument, the image or the callback, and leaves
// every output untouched. On CUDA all work is ordered on ctx.stream(); a call
// synchronizes it to read back the explanations' finiteness check (before
// the model runs) and the outputs' (at its end), and AverageStability once
// more for the explainer's outputs.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/context.hpp"
#include "core/conventions.hpp"
#include "core/views.hpp"
#include "model.hpp"

namespace cuxplain {

// ------------------------------------------------------ deletion, insertion

/// Options of deletion() and insertion(). Defaults are xplique's
/// (Deletion / Insertion(batch_size=64, baseline_mode=0.0, steps=10,
/// max_percentage_perturbed=1.0, activation=None)).
///
/// The explanation is averaged over its channels; pixels are ranked by
/// descending score (ties: see `convention`). Curve point s (s = 0..steps)
/// has the first count_s ranked pixels (all channels) moved from the start
/// image to the end image and reads the target score, with
///   count_s = (int) (s * (M / steps)), count_steps = M,  M = floor(P * max_percentage_perturbed)
/// (NumPy's linspace(0, M, steps + 1) cast to int32, bit for bit; P = h * w).
/// Deletion starts at the image and ends at the baseline, insertion the other
/// way round. Every step's image comes from the image's rank map (one sort
/// per image) in one fused pass; no step copies another.
///
/// The area under the curve (trapezoidal):
///  - Convention::paper: on the x axis of the pixel fraction count_s / M,
///    AUC = sum_s (count_{s+1} - count_s) (y_s + y_{s+1}) / (2 M), so that
///    unequal or repeated counts weigh what they cover. Ties in the ranking
///    go to the lower pixel index (y * w + x) first: a stable sort.
///  - Convention::xplique: xplique keys the curve by the count, so repeated
///    counts (M < steps) collapse to one point, and then takes the mean of
///    the trapezoids over equally spaced points:
///    AUC = mean_j (y_j + y_{j+1}) / 2 over the distinct counts. Where the
///    distinct counts are equally spaced (all of 0..M when M < steps, or M a
///    multiple of steps) this is the paper's area; otherwise the widths
///    differ (784 pixels in 10 steps: 78 or 79 pixels) and so do the areas,
///    slightly.
///    Ties: the higher pixel index first, which is NumPy's
///    argsort(kind="stable")[::-1]; xplique calls argsort's default
///    (introsort, or the AVX-512 sort in NumPy >= 1.25), which orders ties
///    arbitrarily, so no deterministic rule reproduces it on maps with ties.
///    xplique reports one number for the data set: the AUC of the curve
///    averaged over the images, which equals the mean of the per-image `aucs`
///    (the trapezoid is linear in the curve) up to float rounding.
/// Both conventions differ from the RISE paper alike, as xplique does:
/// insertion starts from `baseline`, not from a blurred image, and the score
/// is the raw output unless `activation` says softmax (the paper's
/// probability).
struct CausalOptions {
  std::int64_t steps = 10;                 ///< curve points - 1, >= 1
  double max_percentage_perturbed = 1.0;   ///< in (0, 1]; M >= 1 required
  float baseline = 0.0f;                   ///< the deleted (or not yet inserted) value
  OutputActivation activation = OutputActivation::none;
  Convention convention = Convention::paper;
  std::int64_t batch_size = 64;            ///< perturbed images per model call
};

/// count_s for s = 0..steps for images of `pixels` pixels (the formula
/// above). Throws cuxplain::Error when the options are invalid or M < 1.
std::vector<std::int64_t> causal_step_counts(std::int64_t pixels, const CausalOptions& options);

/// Deletion curves and their areas.
///
/// images: n >= 1 images on ctx's device. targets: n class ids.
/// explanations: n maps of the images' h x w with 1 or images.c channels
///   (any layout; channels averaged), finite, on ctx's device.
/// curves: n x (steps + 1) floats on ctx's device, the target score at each
///   point (point 0 is the unperturbed image). aucs: n floats. Lower is
///   better for deletion.
/// The model runs n * (steps + 1) times. Memory beyond the batch: the
/// explanations' channel means (n x h x w floats, freed once ranked), the
/// n x h x w int32 rank maps and, on CUDA, one image's sort.
void deletion(const Context& ctx, const Model& model, ConstImageView images,
              HostSpan<const int> targets, ConstImageView explanations, float* curves,
              float* aucs, const CausalOptions& options = {});

/// Insertion: as deletion from the baseline image to the image. Higher is
/// better.
void insertion(const Context& ctx, const Model& model, ConstImageView images,
               HostSpan<const int> targets, ConstImageView explanations, float* curves,
               float* aucs, const CausalOptions& options = {});

// ------------------------------------------------------------- MuFidelity

/// Options of mu_fidelity(). Defaults are xplique's (MuFidelity(
/// batch_size=64, grid_size=9, subset_percent=0.2, baseline_mode=0.0,
/// nb_samples=200, activation=None)).
///
/// For each image and sample j, each cell of a grid_size x grid_size grid is
/// removed independently with probability subset_percent (kept when
/// u > subset_percent, u a cuRAND Philox uniform in (0, 1]); the mask is
/// stretched to the image as TensorFlow's "nearest" (Interpolation::
/// nearest_exact) and the removed pixels set to `baseline`. With
/// pred_j = g(x) - g(x_j) and mass_j = the sum of the explanation over the
/// removed pixels (all its channels), the score is Spearman's correlation of
/// (pred_j, mass_j) over the samples (average ranks for ties, then
/// Pearson's), 0 when either side is constant (scipy's NaN, which xplique
/// turns into 0).
///
/// Random numbers: sample j of draw group k uses stream positions
/// (k * nb_samples + j) * grid_size^2 + cell of cuRAND's Philox generator
/// seeded with `seed` (detail/philox.hpp). Convention::paper: group k is
/// the image (independent masks per image). Convention::xplique: images
/// share masks in groups of max(1, batch_size / min(batch_size,
/// nb_samples)) consecutive images, as xplique draws one set of masks per
/// batch of inputs (with its defaults, one image per group).
/// Differences from the paper, in both conventions (xplique's): the paper
/// draws subsets of a fixed size |S| and correlates with Pearson's
/// coefficient; xplique removes each cell with a probability and uses
/// Spearman's.
struct MuFidelityOptions {
  std::int64_t grid_size = 9;      ///< in [1, min(h, w)]
  std::int64_t nb_samples = 200;   ///< >= 2
  float subset_percent = 0.2f;     ///< removal probability, in [0, 1]
  float baseline = 0.0f;
  std::uint64_t seed = 0;
  OutputActivation activation = OutputActivation::none;
  Convention convention = Convention::paper;
  std::int64_t batch_size = 64;
};

/// Spearman correlation per image (n floats on ctx's device, in [-1, 1]).
/// The model runs n * (nb_samples + 1) times (the unperturbed image once).
void mu_fidelity(const Context& ctx, const Model& model, ConstImageView images,
                 HostSpan<const int> targets, ConstImageView explanations, float* correlations,
                 const MuFidelityOptions& options = {});

// ------------------------------------------- Average Drop, Increase, Gain

/// Options of average_drop_increase_gain(). Defaults are xplique's
/// (AverageDropMetric / AverageIncreaseMetric / AverageGainMetric(
/// batch_size=64, activation=None)); the three share their model runs.
struct AverageScoreOptions {
  OutputActivation activation = OutputActivation::none;
  std::int64_t batch_size = 64;
};

/// With m = the explanation's |values| averaged over channels, normalized per
/// image to M = (m - min m) / (max m - min m + 1e-8), base = g(x) and
/// after = g(x * M) (M on every channel):
///   drop     = max(0, base - after) / (base + 1e-8)       (lower is better)
///   increase = 1 if after > base else 0                   (higher is better)
///   gain     = max(0, after - base) / (1 - base + 1e-8)   (higher is better)
/// each n floats on ctx's device; the data set's metric is their mean.
/// They are meant for probabilities (activation softmax or sigmoid). The
/// model runs 2n times.
void average_drop_increase_gain(const Context& ctx, const Model& model, ConstImageView images,
                                HostSpan<const int> targets, ConstImageView explanations,
                                float* drop, float* increase, float* gain,
                                const AverageScoreOptions& options = {});

// -------------------------------------------------------- AverageStability

/// An explainer as AverageStability re-runs it: writes
/// explanation_size floats per image of `images` (on the context's device)
/// to `explanations`. Any cuxplain method fits, e.g.
///   [&](ConstImageView x, HostSpan<const int> t, float* out) {
///     sobol_attribution(ctx, model, x, t, out, options); }
using Explainer =
    std::function<void(ConstImageView images, HostSpan<const int> targets, float* explanations)>;

/// Options of average_stability(). Defaults are xplique's (AverageStability(
/// batch_size=64, radius=0.1, distance="l2", nb_samples=20)).
///
/// Neighbour j of image x is x + noise_j, noise uniform in (0, radius] per
/// element (cuRAND's uniform times radius, stream positions
/// (k * nb_samples + j) * image_size + element after kRegionNoise); the
/// score of x is the mean over j of distance(explainer(x + noise_j),
/// explainer(x)). Convention::paper: k is the image (noise drawn per image);
/// Convention::xplique: k = 0, the same nb_samples noise tensors for every
/// image, as xplique draws them once. Both add one-sided noise per element as
/// xplique does (its tf.random.uniform draws [0, radius), cuRAND's uniform
/// (0, radius]); the paper samples the neighbourhood ||z - x|| <= radius.
struct StabilityOptions {
  float radius = 0.1f;        ///< > 0, finite
  Distance distance = Distance::l2;
  std::int64_t nb_samples = 20;  ///< >= 1
  std::uint64_t seed = 0;
  Convention convention = Convention::paper;
  std::int64_t batch_size = 64;  ///< neighbours per explainer call
};

/// Mean distance per image (n floats on ctx's device). explanation_size:
/// floats per image the explainer writes. base_explanations: n x
/// explanation_size floats on ctx's device, or nullptr to compute them
/// (one explainer call per batch_size images). The explainer runs on at most
/// batch_size neighbours at a time; memory: that many neighbour images and
/// explanations. An exception the explainer throws becomes a cuxplain::Error
/// naming the image; its explanations must be finite.
void average_stability(const Context& ctx, const Explainer& explainer,
                       std::int64_t explanation_size, ConstImageView images,
                       HostSpan<const int> targets, const float* base_explanations,
                       float* distances, const StabilityOptions& options = {});

// ------------------------------------------------------------- complexity

/// Complexity (xplique's Complexity): the Shannon entropy of the
/// explanation's |values| averaged over channels and normalized to sum 1:
/// p = m / (sum m + 1e-8), -sum p log(p + 1e-8). n floats on ctx's device;
/// lower is more concentrated. explanations: n maps, any channels, finite.
void complexity(const Context& ctx, ConstImageView explanations, float* out);

/// Sparseness (xplique's Sparseness): the Gini index of the same m,
/// L1-normalized (x = m / (sum m + 1e-8)) and sorted ascending:
/// 2 sum_i i x_(i) / (P sum x + 1e-8) - (P + 1) / P. n floats; higher is
/// sparser. One sort per image (CUB's radix sort on CUDA).
void sparseness(const Context& ctx, ConstImageView explanations, float* out);

}  // namespace cuxplain
