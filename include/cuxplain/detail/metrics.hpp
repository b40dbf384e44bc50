#pragma once
// Per-element math of the metrics (metrics.hpp), shared by the host and CUDA
// backends: reading a model output through an activation, the explanation's
// channel mean, the fused step image of deletion and insertion, MuFidelity's
// cell masks and Spearman's correlation in exact integers, the masks of
// Average Drop / Increase / Gain, and the per-image sums of Complexity and
// Sparseness. Sums that decide a result run in a fixed order, in double, so
// that both backends give the same bits where the inputs are the same.
#include <cmath>
#include <cstdint>

#include "../core/conventions.hpp"
#include "hd.hpp"
#include "model_outputs.hpp"
#include "philox.hpp"

namespace cuxplain::detail {

/// a * b in double, never fused with a following add (nvcc would contract
/// a * b + c into an FMA; the host library compiles with -ffp-contract=off),
/// so that sums of products give the same bits on both backends.
CUXPLAIN_HD double mul_unfused(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

/// xplique's guard against a zero denominator in the metrics (_EPS).
constexpr float kMetricEps = 1e-8f;

// ------------------------------------------------------------ model outputs

/// The target score of one output row as the metrics read it: the raw
/// output, or its softmax (max-shifted, summed in class order) or sigmoid
/// probability, all in float. NaN when any output the activation reads is
/// not finite, so that the caller counts the row as unusable.
CUXPLAIN_HD float activated_output(const float* row, std::int64_t num_outputs,
                                   std::int64_t target, OutputActivation activation) {
  const float y = row[target];
  if (activation == OutputActivation::none) return y;
  if (activation == OutputActivation::sigmoid) {
    if (!is_finite_bits(y)) return NAN;
    return 1.0f / (1.0f + expf(-y));
  }
  float top = row[0];
  for (std::int64_t k = 0; k < num_outputs; ++k) {
    if (!is_finite_bits(row[k])) return NAN;
    top = row[k] > top ? row[k] : top;
  }
  float sum = 0.0f;
  for (std::int64_t k = 0; k < num_outputs; ++k) sum += expf(row[k] - top);
  return expf(y - top) / sum;
}

// ------------------------------------------------------------- explanations

/// Mean over the explanation's channels of its values (or of their
/// magnitudes) at one pixel, added in channel order and divided once, as
/// NumPy's float32 mean for fewer than 8 channels; -0 becomes +0 so that a
/// sort on the bits ranks the two zeros together.
CUXPLAIN_HD float explanation_channel_mean(const float* pixel, std::int64_t channels,
                                           std::int64_t channel_stride, bool magnitude) {
  float sum = 0.0f;
  for (std::int64_t c = 0; c < channels; ++c) {
    const float v = pixel[c * channel_stride];
    sum += magnitude ? fabsf(v) : v;
  }
  return sum / static_cast<float>(channels) + 0.0f;
}

// ------------------------------------------------------- deletion/insertion

/// Value of one element of a causal-fidelity step image: the `count`
/// highest-ranked pixels (rank < count) have moved from the start image to
/// the end image. Deletion: start = the image, end = the baseline;
/// insertion the other way round.
CUXPLAIN_HD float causal_value(bool deletion, float pixel, float baseline, std::int32_t rank,
                               std::int64_t count) {
  const bool moved = rank < count;
  if (deletion) return moved ? baseline : pixel;
  return moved ? pixel : baseline;
}

// --------------------------------------------------------------- MuFidelity

/// Cell `cell` of MuFidelity's sample `sample` in draw group `group`: 1 (kept)
/// when cuRAND's uniform at stream position (group * samples + sample) *
/// cells + cell exceeds subset_percent (xplique's uniform > subset_percent),
/// else 0 (removed).
CUXPLAIN_HD float mufidelity_cell(std::uint64_t seed, std::int64_t group, std::int64_t samples,
                                  std::int64_t sample, std::int64_t cells, std::int64_t cell,
                                  float subset_percent) {
  const std::uint64_t position =
      kRegionMasks + static_cast<std::uint64_t>((group * samples + sample) * cells + cell);
  return curand_philox_uniform(seed, position) > subset_percent ? 1.0f : 0.0f;
}

/// The draw group of image `image`: the image itself (paper), or the batch
/// of `group_size` consecutive images xplique draws one set of masks for.
CUXPLAIN_HD std::int64_t mufidelity_group(Convention convention, std::int64_t image,
                                          std::int64_t group_size) {
  return convention == Convention::paper ? image : image / group_size;
}

/// 2 * (average rank of values[i]) - (count + 1): Spearman's centred rank,
/// doubled so that it is an integer (average ranks of ties are halves).
/// The average rank of a value is 1 + (values below) + (equal values - 1) / 2,
/// ranks from 1 (scipy.stats.rankdata(method="average")). O(count).
template <class T>
CUXPLAIN_HD std::int64_t centred_rank2(const T* values, std::int64_t count, std::int64_t i) {
  const T v = values[i];
  std::int64_t below = 0, equal = 0;
  for (std::int64_t j = 0; j < count; ++j) {
    below += values[j] < v ? 1 : 0;
    equal += values[j] == v ? 1 : 0;
  }
  return 2 * below + equal - count;
}

/// Pearson's correlation of two centred (doubled) rank vectors from their
/// exact integer sums: sxy / sqrt(sxx syy); 0 when either is constant
/// (scipy's NaN, which xplique counts as 0).
CUXPLAIN_HD float spearman_of_sums(std::int64_t sxy, std::int64_t sxx, std::int64_t syy) {
  if (sxx == 0 || syy == 0) return 0.0f;
  const double rho = static_cast<double>(sxy) /
                     sqrt(static_cast<double>(sxx) * static_cast<double>(syy));
  return static_cast<float>(rho > 1.0 ? 1.0 : (rho < -1.0 ? -1.0 : rho));
}

// ---------------------------------------------- Average Drop/Increase/Gain

/// xplique's multiplicative mask of a pixel: (m - low) / (high - low + eps),
/// each operation rounded in float as TensorFlow's float32 ops.
CUXPLAIN_HD float average_score_mask(float m, float low, float high) {
  return (m - low) / ((high - low) + kMetricEps);
}

struct AverageScores {
  float drop;
  float increase;
  float gain;
};

/// Average Drop, Increase and Gain of one image from g(x) = base and
/// g(x * mask) = after, in float as xplique.
CUXPLAIN_HD AverageScores average_scores(float base, float after) {
  const float down = base - after;
  const float up = after - base;
  return {(down > 0.0f ? down : 0.0f) / (base + kMetricEps), after > base ? 1.0f : 0.0f,
          (up > 0.0f ? up : 0.0f) / ((1.0f - base) + kMetricEps)};
}

// -------------------------------------------------------------- complexity

/// Complexity of one map of `count` magnitudes m (the channel means of
/// |explanation|): -sum p log(p + eps), p = m / (sum m + eps), in double.
CUXPLAIN_HD double entropy_of(const float* m, std::int64_t count) {
  double total = 0.0;
  for (std::int64_t i = 0; i < count; ++i) total += m[i];
  const double norm = total + static_cast<double>(kMetricEps);
  double entropy = 0.0;
  for (std::int64_t i = 0; i < count; ++i) {
    const double p = m[i] / norm;
    entropy -= mul_unfused(p, log(p + static_cast<double>(kMetricEps)));
  }
  return entropy;
}

/// Gini index of one map of `count` magnitudes sorted ascending:
/// x = m / (sum m + eps), 2 sum_i (i + 1) x_i / (count sum x + eps) -
/// (count + 1) / count, in double.
CUXPLAIN_HD double gini_of_sorted(const float* sorted, std::int64_t count) {
  double total = 0.0;
  for (std::int64_t i = 0; i < count; ++i) total += sorted[i];
  const double norm = total + static_cast<double>(kMetricEps);
  double weighted = 0.0, sum = 0.0;
  for (std::int64_t i = 0; i < count; ++i) {
    const double x = sorted[i] / norm;
    weighted += mul_unfused(static_cast<double>(i + 1), x);
    sum += x;
  }
  const double n = static_cast<double>(count);
  return 2.0 * weighted / (mul_unfused(n, sum) + static_cast<double>(kMetricEps)) - (n + 1.0) / n;
}

}  // namespace cuxplain::detail
