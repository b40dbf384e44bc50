// The CPU backend of kernels/hsic.inl, and its continuous scores: each block
// of rows j sums its own partials, added in block order, so that the sums do
// not depend on the number of threads.
#include "backend.hpp"

#include "../hsic.inl"

#include <algorithm>
#include <vector>

namespace cuxplain::kernels::cpu {
namespace {

/// Rows of j handled per partial sum: fixed, so sums are repeatable whatever
/// the number of threads.
constexpr std::int64_t kRowBlock = 64;

}  // namespace

void hsic_scores_continuous(const Context&, const float* masks, std::int64_t nb_design,
                            std::int64_t d, HsicKernel kernel, const float* centered_gram,
                            float* scores) {
  const std::int64_t n = nb_design;
  const std::int64_t blocks = (n + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(static_cast<std::size_t>(blocks * d), 0.0);
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t block = 0; block < blocks; ++block) {
    double* acc = partial.data() + block * d;
    const std::int64_t j1 = std::min(n, (block + 1) * kRowBlock);
    for (std::int64_t j = block * kRowBlock; j < j1; ++j) {
      const float* xj = masks + j * d;
      for (std::int64_t l = 0; l < n; ++l) {
        const float lc = centered_gram[j * n + l];
        const float* xl = masks + l * d;
        for (std::int64_t i = 0; i < d; ++i) {
          acc[i] += static_cast<double>(detail::hsic_input_kernel(kernel, xj[i], xl[i]) * lc);
        }
      }
    }
  }
  for (std::int64_t i = 0; i < d; ++i) {
    double sum = 0.0;
    for (std::int64_t block = 0; block < blocks; ++block) sum += partial[block * d + i];
    scores[i] = static_cast<float>(sum / static_cast<double>(n));
  }
}

}  // namespace cuxplain::kernels::cpu
