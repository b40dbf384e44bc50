#pragma once
// Heatmap upsampling, one implementation per backend (arguments already
// validated by host/explain/upsample.cpp).
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

namespace cuxplain::kernels::cpu {
void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out, Interpolation method,
              std::int64_t channels);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out, Interpolation method,
              std::int64_t channels);
}  // namespace cuxplain::kernels::cuda
