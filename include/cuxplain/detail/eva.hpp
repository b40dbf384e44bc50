#pragma once
// Per-element math of EVA shared by both backends: the input ball and the
// adversarial overlap of a row of margin bounds.
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

/// Lower end of the L-inf ball around x, intersected with [lo, hi] when clamped.
CUXPLAIN_HD float ball_lower(float x, float epsilon, bool clamp, float lo) {
  const float v = x - epsilon;
  return clamp && v < lo ? lo : v;
}

/// Upper end of the L-inf ball around x, intersected with [lo, hi] when clamped.
CUXPLAIN_HD float ball_upper(float x, float epsilon, bool clamp, float hi) {
  const float v = x + epsilon;
  return clamp && v > hi ? hi : v;
}

/// AO = max over j != target of the upper bound of f_j - f_target.
CUXPLAIN_HD float adversarial_overlap(const float* margins, std::int64_t outputs,
                                      std::int64_t target) {
  float best = -3.402823466e38f;
  for (std::int64_t j = 0; j < outputs; ++j) {
    if (j != target && margins[j] > best) best = margins[j];
  }
  return best;
}

}  // namespace cuxplain::detail
