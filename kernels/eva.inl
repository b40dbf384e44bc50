// EVA's elementwise steps, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by kernels/cpu/eva.cpp
// and kernels/cuda/eva.cu. The math is detail/eva.hpp.
#include <cuxplain/detail/eva.hpp>

#include "eva.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace eva_ops {

struct Ball {
  const float* image;
  float epsilon;
  bool clamp;
  float clamp_min, clamp_max;
  float* lower;
  float* upper;
  CUXPLAIN_HD void operator()(std::int64_t e) const {
    lower[e] = cuxplain::detail::ball_lower(image[e], epsilon, clamp, clamp_min);
    upper[e] = cuxplain::detail::ball_upper(image[e], epsilon, clamp, clamp_max);
  }
};

struct Overlaps {
  const float* margins;
  std::int64_t outputs, target;
  float* overlaps;
  CUXPLAIN_HD void operator()(std::int64_t r) const {
    overlaps[r] = cuxplain::detail::adversarial_overlap(margins + r * outputs, outputs, target);
  }
};

struct Scores {
  const float* overlaps;
  float* scores;
  CUXPLAIN_HD void operator()(std::int64_t u) const { scores[u] = overlaps[0] - overlaps[1 + u]; }
};

// Below this many elements the CPU walks on one thread (an image's ball, a
// batch's boxes, a grid's cells are all small).
constexpr std::int64_t kParallelMin = std::int64_t{1} << 16;

}  // namespace eva_ops

void eva_ball(const Context& ctx, const float* image, std::int64_t count, float epsilon,
              bool clamp, float clamp_min, float clamp_max, float* lower, float* upper) {
  for_each(ctx, count, eva_ops::Ball{image, epsilon, clamp, clamp_min, clamp_max, lower, upper},
           Policy::parallel_from(count, eva_ops::kParallelMin));
}

void eva_overlaps(const Context& ctx, const float* margins, std::int64_t rows,
                  std::int64_t outputs, std::int64_t target, float* overlaps) {
  for_each(ctx, rows, eva_ops::Overlaps{margins, outputs, target, overlaps},
           Policy::parallel_from(rows * outputs, eva_ops::kParallelMin));
}

void eva_scores(const Context& ctx, const float* overlaps, std::int64_t cells, float* scores) {
  for_each(ctx, cells, eva_ops::Scores{overlaps, scores},
           Policy::parallel_from(cells, eva_ops::kParallelMin));
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
