#pragma once
// Heatmap upsampling, declared for both backends; written once in
// kernels/upsample.inl. Arguments are validated by the public entry
// (host/explain/upsample.cpp) or by the explainer that calls it.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

#define CUXPLAIN_DECLARE_UPSAMPLE_OPS                                                          \
  void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,  \
                std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,              \
                Interpolation method, std::int64_t channels);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_UPSAMPLE_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_UPSAMPLE_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_UPSAMPLE_OPS
