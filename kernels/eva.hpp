#pragma once
// EVA's elementwise steps, declared for both backends; written once in
// kernels/eva.inl.
#include <cstdint>

#include <cuxplain/core/context.hpp>

#define CUXPLAIN_DECLARE_EVA_OPS                                                              \
  void eva_ball(const Context& ctx, const float* image, std::int64_t count, float epsilon,   \
                bool clamp, float clamp_min, float clamp_max, float* lower, float* upper);   \
  void eva_overlaps(const Context& ctx, const float* margins, std::int64_t rows,             \
                    std::int64_t outputs, std::int64_t target, float* overlaps);             \
  void eva_scores(const Context& ctx, const float* overlaps, std::int64_t cells, float* scores);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_EVA_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_EVA_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_EVA_OPS
