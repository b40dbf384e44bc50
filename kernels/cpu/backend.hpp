#pragma once
// The CPU backend of the execution contract (kernels/backend.hpp): walks are
// OpenMP loops with a static schedule, so that each index's work, and any
// sum it does, is the same whatever the number of threads.
#include <cstdint>

#include "../backend.hpp"

// kernels/<family>.inl files compiled in this translation unit define their
// ops in kernels::cpu.
#define CUXPLAIN_KERNELS_BACKEND cpu

namespace cuxplain::kernels::cpu {

template <class F>
void for_each(const Context&, std::int64_t n, const F& f, Policy policy = {}) {
  if (!policy.parallel) {
    for (std::int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

template <class F>
void for_each(const Context&, Extent2 extent, const F& f, Policy policy = {}) {
  const std::int64_t rows = extent.rows, cols = extent.cols;
  if (!policy.parallel) {
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c) f(r, c);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) f(r, c);
}

/// sums[s] = f(s, 0) + f(s, 1) + ... in this order, in double; segments in
/// parallel.
template <class F>
void segmented_sum(const Context&, std::int64_t segments, std::int64_t size, const F& f,
                   double* sums, Policy policy = {}) {
  const auto one = [&](std::int64_t s) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < size; ++i) sum += f(s, i);
    sums[s] = sum;
  };
  if (!policy.parallel) {
    for (std::int64_t s = 0; s < segments; ++s) one(s);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < segments; ++s) one(s);
}

}  // namespace cuxplain::kernels::cpu
