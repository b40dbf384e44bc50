#pragma once
// Index math of the stacked Saltelli/Jansen design [A | B | C_1 .. C_d]
// (DESIGN.md, "Designs and samplers"), shared by the host and CUDA backends.
// Nothing is materialized: every design entry is read straight from the one
// nb_design x 2d sequence (A = its first d columns, B = its last d).
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

/// Which matrix of the stack a design row belongs to.
enum class DesignBlock : int { a, b, c };

/// One design row: its block, the sequence point it comes from and, for C_i,
/// the column i taken from B (-1 for A and B rows).
struct DesignRow {
  DesignBlock block;
  std::int64_t point;
  std::int64_t replaced;
};

/// Row `row` of the stack: A rows [0, N), B rows [N, 2N) when with_b, then C_i
/// rows i-major, point-minor.
CUXPLAIN_HD DesignRow sobol_design_row(std::int64_t row, std::int64_t nb_design, bool with_b) {
  if (row < nb_design) return {DesignBlock::a, row, -1};
  if (with_b && row < 2 * nb_design) return {DesignBlock::b, row - nb_design, -1};
  const std::int64_t in_c = row - (with_b ? 2 : 1) * nb_design;
  return {DesignBlock::c, in_c % nb_design, in_c / nb_design};
}

/// Column of the 2d-dimensional sequence that entry `column` of `row` reads:
/// B's copy (d + column) for B rows and the replaced column of C_i, A's otherwise.
CUXPLAIN_HD std::int64_t sobol_design_source_column(const DesignRow& row, std::int64_t column,
                                                    std::int64_t d) {
  const bool from_b =
      row.block == DesignBlock::b || (row.block == DesignBlock::c && column == row.replaced);
  return from_b ? d + column : column;
}

/// Design entry (row, column) read from the row-major nb_design x 2d sequence.
CUXPLAIN_HD float sobol_design_value(const float* sequence, const DesignRow& row,
                                     std::int64_t column, std::int64_t d) {
  return sequence[row.point * 2 * d + sobol_design_source_column(row, column, d)];
}

}  // namespace cuxplain::detail
