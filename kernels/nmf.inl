// NMF's elementwise ops, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by kernels/cpu/nmf.cpp
// and kernels/cuda/nmf.cu, beside their reductions (GPU-shaped: block sums
// fused into the updates). The math is detail/nmf.hpp.
#include <cuxplain/detail/nmf.hpp>

#include "nmf.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace nmf_ops {

struct FillRandom {
  float* x;
  std::uint64_t key;
  float scale;
  bool absolute;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    x[i] = cuxplain::detail::nmf_random_value(key, static_cast<std::uint64_t>(i), scale, absolute);
  }
};

struct Update {
  float* x;
  const float* numerator;
  const float* denominator;
  float l1, l2;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    x[i] = cuxplain::detail::nmf_update_value(x[i], numerator[i], denominator[i], l1, l2);
  }
};

struct NndsvdApply {
  const float* x;
  std::int64_t cols;
  bool components_are_rows;
  const cuxplain::detail::NndsvdComponent* components;
  float fill;
  float* out;
  CUXPLAIN_HD void operator()(std::int64_t i, std::int64_t j) const {
    const std::int64_t e = i * cols + j;
    out[e] = cuxplain::detail::nndsvd_value(x[e], components[components_are_rows ? i : j], fill);
  }
};

}  // namespace nmf_ops

void nmf_fill_random(const Context& ctx, float* x, std::int64_t count, std::uint64_t key,
                     float scale, bool absolute) {
  for_each(ctx, count, nmf_ops::FillRandom{x, key, scale, absolute});
}

// The per-iteration update is O((n + p) r), against the GEMMs' O(n p r), and
// runs on one CPU thread: an OpenMP team spinning between them competes with
// OpenBLAS's threads for the cores (3x slower on 2 cores).
void nmf_update(const Context& ctx, float* x, const float* numerator, const float* denominator,
                std::int64_t count, float l1, float l2) {
  for_each(ctx, count, nmf_ops::Update{x, numerator, denominator, l1, l2}, Policy::serial());
}

void nmf_nndsvd_apply(const Context& ctx, const float* x, std::int64_t rows, std::int64_t cols,
                      bool components_are_rows, const cuxplain::detail::NndsvdComponent* components,
                      float fill, float* out) {
  for_each(ctx, Extent2{rows, cols},
           nmf_ops::NndsvdApply{x, cols, components_are_rows, components, fill, out});
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
