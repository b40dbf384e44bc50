#pragma once
// The Saltelli/Jansen design that Sobol attribution runs the model on.
#include <cstdint>

#include "core/context.hpp"

namespace cuxplain {

/// Rows of the stacked design built from one `2d`-dimensional sequence
/// (nb_design x 2d floats, row-major): A = its first d columns, B = its last d,
/// C_i = A with column i taken from B. Stacked order [A | B | C_1 .. C_d]
/// (B present only when `with_b`), C blocks i-major, point-minor; the design
/// has nb_design * (d + 1 + with_b) rows of d values.
///
/// Writes design rows [row_begin, row_begin + rows) to `masks` (rows x d,
/// row-major), so an explainer materializes one batch at a time; every value
/// is copied from `sequence` unchanged (bit for bit). `sequence` and `masks`
/// live on ctx's device; CUDA work is enqueued on ctx.stream() without
/// synchronizing. rows == 0 writes nothing. Throws cuxplain::Error on a null
/// pointer, memory on the wrong device, nb_design < 2, d < 1, or a row range
/// outside [0, sobol_design_rows(nb_design, d, with_b)).
void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks);

/// Rows of the stacked design.
constexpr std::int64_t sobol_design_rows(std::int64_t nb_design, std::int64_t d, bool with_b) {
  return nb_design * (d + 1 + (with_b ? 1 : 0));
}

}  // namespace cuxplain
