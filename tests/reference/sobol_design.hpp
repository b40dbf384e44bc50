#pragma once
// Reference Sobol design: the matrices A, B and C_1 .. C_d built one by one
// and stacked, as DESIGN.md ("Designs and samplers") describes them.
#include <cstddef>
#include <vector>

namespace cuxplain::reference {

using Matrix = std::vector<std::vector<float>>;

/// The stacked design [A | B | C_1 .. C_d] (B only when with_b), one row per
/// vector, from a row-major nb_design x 2d sequence.
inline Matrix sobol_design(const std::vector<float>& sequence, std::size_t nb_design, std::size_t d,
                           bool with_b) {
  Matrix a(nb_design, std::vector<float>(d));
  Matrix b(nb_design, std::vector<float>(d));
  for (std::size_t p = 0; p < nb_design; ++p) {
    for (std::size_t k = 0; k < d; ++k) {
      a[p][k] = sequence[p * 2 * d + k];
      b[p][k] = sequence[p * 2 * d + d + k];
    }
  }
  Matrix stacked = a;
  if (with_b) stacked.insert(stacked.end(), b.begin(), b.end());
  for (std::size_t i = 0; i < d; ++i) {
    Matrix c = a;
    for (std::size_t p = 0; p < nb_design; ++p) c[p][i] = b[p][i];
    stacked.insert(stacked.end(), c.begin(), c.end());
  }
  return stacked;
}

}  // namespace cuxplain::reference
