#include "../eva.hpp"

#include <cuxplain/detail/eva.hpp>

namespace cuxplain::kernels::cpu {

void eva_ball(const Context&, const float* image, std::int64_t count, float epsilon, bool clamp,
              float clamp_min, float clamp_max, float* lower, float* upper) {
  for (std::int64_t e = 0; e < count; ++e) {
    lower[e] = detail::ball_lower(image[e], epsilon, clamp, clamp_min);
    upper[e] = detail::ball_upper(image[e], epsilon, clamp, clamp_max);
  }
}

void eva_overlaps(const Context&, const float* margins, std::int64_t rows, std::int64_t outputs,
                  std::int64_t target, float* overlaps) {
  for (std::int64_t r = 0; r < rows; ++r) {
    overlaps[r] = detail::adversarial_overlap(margins + r * outputs, outputs, target);
  }
}

void eva_scores(const Context&, const float* overlaps, std::int64_t cells, float* scores) {
  for (std::int64_t u = 0; u < cells; ++u) scores[u] = overlaps[0] - overlaps[1 + u];
}

}  // namespace cuxplain::kernels::cpu
