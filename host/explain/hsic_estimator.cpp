// Public HSIC estimator ops: argument checks, the output kernel width (host
// code for both backends) and dispatch.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/hsic.hpp>
#include <cuxplain/hsic.hpp>
#include <cuxplain/qmc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../kernels/hsic.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"
#include "internal.hpp"

namespace cuxplain {
namespace {

void validate_sizes(std::int64_t nb_design, std::int64_t d, const char* caller) {
  CUXPLAIN_EXPECTS(nb_design >= 2, caller, ": nb_design must be >= 2, got ", nb_design);
  CUXPLAIN_EXPECTS(d >= 1, caller, ": d must be >= 1, got ", d);
  // Lc has N^2 entries and index products must fit 64 bits comfortably; the
  // GEMM dimensions must fit cuBLAS/CBLAS int arguments.
  CUXPLAIN_EXPECTS(nb_design <= kHsicMaxDesign, caller, ": nb_design ", nb_design,
                   " is too large (N^2 must stay below 2^31)");
  CUXPLAIN_EXPECTS(d <= (std::int64_t{1} << 31) / nb_design, caller, ": nb_design * d = ",
                   nb_design * d, " must stay below 2^31");
}

void validate_kernel(HsicKernel kernel, const char* caller) {
  CUXPLAIN_EXPECTS(kernel == HsicKernel::binary || kernel == HsicKernel::rbf ||
                       kernel == HsicKernel::sobolev,
                   caller, ": kernel has an unknown value ", static_cast<int>(kernel));
}

float float_from_bits(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::uint32_t float_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

/// Number of pairs j < l of sorted values with sorted[l] - sorted[j] <= t (two pointers).
std::int64_t pairs_within(const std::vector<float>& sorted, float t) {
  std::int64_t count = 0;
  std::size_t j = 0;
  for (std::size_t l = 1; l < sorted.size(); ++l) {
    while (sorted[l] - sorted[j] > t) ++j;
    count += static_cast<std::int64_t>(l - j);
  }
  return count;
}

/// The k-th smallest (0-based) difference sorted[l] - sorted[j], j < l, exactly:
/// bisection over the bit patterns of non-negative floats, whose order is
/// their numeric order, counting pairs in O(N) per step.
float kth_pairwise_distance(const std::vector<float>& sorted, std::int64_t k) {
  std::uint32_t lo = 0, hi = float_bits(sorted.back() - sorted.front());
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (pairs_within(sorted, float_from_bits(mid)) >= k + 1) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return float_from_bits(lo);
}

double median_of_sorted(const std::vector<float>& sorted) {
  const std::size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2]
                    : 0.5 * (static_cast<double>(sorted[n / 2 - 1]) + sorted[n / 2]);
}

double median_pairwise_distance(const std::vector<float>& sorted) {
  const auto n = static_cast<std::int64_t>(sorted.size());
  const std::int64_t pairs = n * (n - 1) / 2;
  if (pairs % 2 == 1) return kth_pairwise_distance(sorted, pairs / 2);
  return 0.5 * (static_cast<double>(kth_pairwise_distance(sorted, pairs / 2 - 1)) +
                kth_pairwise_distance(sorted, pairs / 2));
}

double standard_deviation(const std::vector<float>& values) {
  double mean = 0.0;
  for (float v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double sum = 0.0;
  for (float v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

/// A width the output kernel can use: a positive float (the kernel works with
/// 1 / w in double, finite for any of them).
bool usable_width(double width) {
  return std::isfinite(width) && width > 0.0 &&
         static_cast<float>(width) > 0.0f && std::isfinite(static_cast<float>(width));
}

}  // namespace

void hsic_design(const Context& ctx, Sampler sampler, std::int64_t nb_design, std::int64_t d,
                 bool binary, float* masks, std::int64_t skip, std::uint64_t seed) {
  validate_sizes(nb_design, d, "hsic_design");
  detail::expect_on_device(ctx, masks, "hsic_design: masks");
  generate_samples(ctx, sampler, nb_design, d, masks, skip, seed);
  if (binary) CUXPLAIN_DISPATCH(ctx, binarize_masks, masks, nb_design * d);
}

float hsic_output_width(const Context& ctx, const float* y, std::int64_t nb_design,
                        Bandwidth bandwidth) {
  CUXPLAIN_EXPECTS(nb_design >= 2, "hsic_output_width: nb_design must be >= 2, got ", nb_design);
  CUXPLAIN_EXPECTS(bandwidth == Bandwidth::median_output || bandwidth == Bandwidth::median_distance,
                   "hsic_output_width: bandwidth has an unknown value ",
                   static_cast<int>(bandwidth));
  detail::expect_on_device(ctx, y, "hsic_output_width: y");
  return detail::hsic_output_width(ctx, y, nb_design, bandwidth);
}

float detail::hsic_output_width(const Context& ctx, const float* y, std::int64_t nb_design,
                                Bandwidth bandwidth) {
  std::vector<float> sorted = to_host(ctx, y, nb_design);
  for (std::size_t j = 0; j < sorted.size(); ++j) {
    CUXPLAIN_EXPECTS(std::isfinite(sorted[j]), "hsic_output_width: y[", j, "] = ", sorted[j],
                     " is not finite");
  }
  std::sort(sorted.begin(), sorted.end());
  CUXPLAIN_EXPECTS(sorted.front() != sorted.back(),
                   "HSIC is undefined: the ", nb_design, " model outputs are all equal to ",
                   sorted.front(), " (the output kernel has no width; does the target class "
                   "react to the perturbations?)");
  // xplique's width is the median itself, whatever its sign: only w^2
  // enters the kernel, so a negative median (logits often are) acts as its
  // magnitude. The chain of fallbacks, for a zero median, ends on the
  // standard deviation, which is > 0 for outputs that are not all equal.
  if (bandwidth == Bandwidth::median_output) {
    const double width = std::fabs(median_of_sorted(sorted));
    if (usable_width(width)) return static_cast<float>(width);
  }
  const double distance = median_pairwise_distance(sorted);
  if (usable_width(distance)) return static_cast<float>(distance);
  const double deviation = standard_deviation(sorted);
  CUXPLAIN_EXPECTS(usable_width(deviation), "HSIC is undefined: the model outputs' spread (",
                   deviation, ") is too small for an output kernel width");
  return static_cast<float>(deviation);
}

void hsic_centered_gram(const Context& ctx, const float* y, std::int64_t nb_design, float width,
                        float* centered_gram) {
  validate_sizes(nb_design, 1, "hsic_centered_gram");
  CUXPLAIN_EXPECTS(usable_width(width), "hsic_centered_gram: width must be finite and > 0, got ",
                   width);
  detail::expect_on_device(ctx, y, "hsic_centered_gram: y");
  detail::expect_on_device(ctx, centered_gram, "hsic_centered_gram: centered_gram");
  CUXPLAIN_DISPATCH(ctx, hsic_centered_gram, y, nb_design, width, centered_gram);
}

void hsic_scores(const Context& ctx, const float* masks, std::int64_t nb_design, std::int64_t d,
                 HsicKernel kernel, bool binary_masks, const float* centered_gram,
                 float* scores) {
  validate_sizes(nb_design, d, "hsic_scores");
  validate_kernel(kernel, "hsic_scores");
  detail::expect_on_device(ctx, masks, "hsic_scores: masks");
  detail::expect_on_device(ctx, centered_gram, "hsic_scores: centered_gram");
  detail::expect_on_device(ctx, scores, "hsic_scores: scores");
  detail::hsic_scores(ctx, masks, nb_design, d, kernel, binary_masks, centered_gram, scores);
}

void detail::hsic_scores(const Context& ctx, const float* masks, std::int64_t nb_design,
                         std::int64_t d, HsicKernel kernel, bool binary_masks,
                         const float* centered_gram, float* scores) {
  if (binary_masks) {
    CUXPLAIN_DISPATCH(ctx, hsic_scores_binary, masks, nb_design, d, kernel, centered_gram, scores);
  } else {
    CUXPLAIN_DISPATCH(ctx, hsic_scores_continuous, masks, nb_design, d, kernel, centered_gram,
                      scores);
  }
}

void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                       std::int64_t d, HsicKernel kernel, const float* centered_gram,
                       float* interactions) {
  validate_sizes(nb_design, d, "hsic_interactions");
  validate_kernel(kernel, "hsic_interactions");
  detail::expect_on_device(ctx, masks, "hsic_interactions: masks");
  detail::expect_on_device(ctx, centered_gram, "hsic_interactions: centered_gram");
  detail::expect_on_device(ctx, interactions, "hsic_interactions: interactions");
  detail::hsic_interactions(ctx, masks, nb_design, d, kernel, centered_gram, interactions);
}

void detail::hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                               std::int64_t d, HsicKernel kernel, const float* centered_gram,
                               float* interactions) {
  // S = sum over pairs (a, b) of Lc_ab k_ab k_ab^T with k_ab[i] = k(x_ai, x_bi):
  // K^T diag(Lc) K over the N^2 pairs, as GEMMs over chunks of rows a,
  // accumulated in double.
  const std::int64_t n = nb_design;
  const std::int64_t chunk = detail::interaction_chunk_rows(n, d);
  Buffer<float> kernel_panel(ctx, chunk * n * d, "the kernel panel of hsic_interactions");
  Buffer<float> weighted_panel(ctx, chunk * n * d, "the weighted panel of hsic_interactions");
  Buffer<float> chunk_sum(ctx, d * d, "a chunk's sums of hsic_interactions");
  Buffer<double> total(ctx, d * d, "the sums of hsic_interactions");
  CUXPLAIN_DISPATCH(ctx, zero, total.data(), total.bytes());
  for (std::int64_t a0 = 0; a0 < n; a0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - a0) * n;
    CUXPLAIN_DISPATCH(ctx, hsic_interaction_panels, masks, n, d, kernel, centered_gram, a0, rows,
                      kernel_panel.data(), weighted_panel.data());
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, d, d, rows, 1.0f, kernel_panel.data(), d,
                      weighted_panel.data(), d, 0.0f, chunk_sum.data(), d);
    CUXPLAIN_DISPATCH(ctx, hsic_accumulate, chunk_sum.data(), d * d, total.data());
  }
  CUXPLAIN_DISPATCH(ctx, hsic_finish_interactions, total.data(), d, n, interactions);
}

}  // namespace cuxplain
