// Public entry of the Sobol design rows: argument checks, then the backend.
#include <cuxplain/core/error.hpp>
#include <cuxplain/sobol_design.hpp>

#include "../../kernels/sobol_design.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {

void sobol_design_masks(const Context& ctx, const float* sequence, std::int64_t nb_design,
                        std::int64_t d, bool with_b, std::int64_t row_begin, std::int64_t rows,
                        float* masks) {
  detail::expect_on_device(ctx, sequence, "sobol_design_masks: sequence");
  detail::expect_on_device(ctx, masks, "sobol_design_masks: masks");
  CUXPLAIN_EXPECTS(nb_design >= 2, "sobol_design_masks: nb_design must be >= 2, got ", nb_design);
  CUXPLAIN_EXPECTS(d >= 1, "sobol_design_masks: d must be >= 1, got ", d);
  const std::int64_t total = sobol_design_rows(nb_design, d, with_b);
  CUXPLAIN_EXPECTS(row_begin >= 0 && row_begin <= total,
                   "sobol_design_masks: row_begin must be in [0, ", total, "], got ", row_begin);
  CUXPLAIN_EXPECTS(rows >= 0 && rows <= total - row_begin, "sobol_design_masks: rows ", rows,
                   " from row_begin ", row_begin, " runs past the design's ", total, " rows");
  if (rows == 0) return;
  CUXPLAIN_DISPATCH(ctx, sobol_design_masks, sequence, nb_design, d, with_b, row_begin, rows,
                    masks);
}

}  // namespace cuxplain
