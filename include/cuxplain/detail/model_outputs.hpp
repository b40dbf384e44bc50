#pragma once
// Per-row math of reading a model's output batch: the target column, and
// whether it is usable (finite).
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

/// True for finite floats. Written on the bit pattern so that fast-math flags
/// cannot fold it away (std::isfinite may be assumed true under -ffast-math).
CUXPLAIN_HD bool is_finite_bits(float value) {
  union {
    float f;
    std::uint32_t u;
  } bits{value};
  return (bits.u & 0x7f800000u) != 0x7f800000u;
}

/// Output of row `row` for class `target` in a row-major batch x num_outputs block.
CUXPLAIN_HD float target_output(const float* outputs, std::int64_t row, std::int64_t num_outputs,
                                std::int64_t target) {
  return outputs[row * num_outputs + target];
}

}  // namespace cuxplain::detail
