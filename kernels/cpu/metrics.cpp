// The CPU backend of kernels/metrics.inl, and its sorts: one
// std::stable_sort per image for the rank maps, std::sort for the sorted
// maps.
#include "backend.hpp"

#include "../metrics.inl"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace cuxplain::kernels::cpu {

void rank_maps(const Context&, const float* keys, std::int64_t n, std::int64_t pixels,
               bool ties_high_first, std::int32_t* ranks) {
#pragma omp parallel
  {
    std::vector<std::int32_t> order(static_cast<std::size_t>(pixels));
#pragma omp for schedule(static)
    for (std::int64_t image = 0; image < n; ++image) {
      const float* k = keys + image * pixels;
      std::iota(order.begin(), order.end(), 0);
      // Descending keys; equal keys keep the index order (stable), or the
      // reverse of it, NumPy's argsort(kind="stable")[::-1].
      if (ties_high_first) std::reverse(order.begin(), order.end());
      std::stable_sort(order.begin(), order.end(),
                       [k](std::int32_t a, std::int32_t b) { return k[a] > k[b]; });
      std::int32_t* r = ranks + image * pixels;
      for (std::int64_t j = 0; j < pixels; ++j) r[order[static_cast<std::size_t>(j)]] =
          static_cast<std::int32_t>(j);
    }
  }
}

void sort_ascending(const Context&, const float* keys, std::int64_t n, std::int64_t pixels,
                    float* sorted) {
#pragma omp parallel for schedule(static)
  for (std::int64_t image = 0; image < n; ++image) {
    std::copy(keys + image * pixels, keys + (image + 1) * pixels, sorted + image * pixels);
    std::sort(sorted + image * pixels, sorted + (image + 1) * pixels);
  }
}

}  // namespace cuxplain::kernels::cpu
