#include "../eva.hpp"
#include "backend.cuh"

#include <cuxplain/detail/eva.hpp>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void ball_kernel(const float* image, std::int64_t count, float epsilon, bool clamp,
                            float clamp_min, float clamp_max, float* lower, float* upper) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < count; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    lower[e] = detail::ball_lower(image[e], epsilon, clamp, clamp_min);
    upper[e] = detail::ball_upper(image[e], epsilon, clamp, clamp_max);
  }
}

__global__ void overlaps_kernel(const float* margins, std::int64_t rows, std::int64_t outputs,
                                std::int64_t target, float* overlaps) {
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       r < rows; r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    overlaps[r] = detail::adversarial_overlap(margins + r * outputs, outputs, target);
  }
}

__global__ void scores_kernel(const float* overlaps, std::int64_t cells, float* scores) {
  for (std::int64_t u = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       u < cells; u += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    scores[u] = overlaps[0] - overlaps[1 + u];
  }
}

}  // namespace

void eva_ball(const Context& ctx, const float* image, std::int64_t count, float epsilon,
              bool clamp, float clamp_min, float clamp_max, float* lower, float* upper) {
  if (count <= 0) return;
  ball_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(
      image, count, epsilon, clamp, clamp_min, clamp_max, lower, upper);
  CUXPLAIN_CHECK_LAUNCH();
}

void eva_overlaps(const Context& ctx, const float* margins, std::int64_t rows,
                  std::int64_t outputs, std::int64_t target, float* overlaps) {
  if (rows <= 0) return;
  overlaps_kernel<<<blocks_for(rows, kThreads), kThreads, 0, ctx.stream()>>>(margins, rows, outputs,
                                                                          target, overlaps);
  CUXPLAIN_CHECK_LAUNCH();
}

void eva_scores(const Context& ctx, const float* overlaps, std::int64_t cells, float* scores) {
  if (cells <= 0) return;
  scores_kernel<<<blocks_for(cells, kThreads), kThreads, 0, ctx.stream()>>>(overlaps, cells, scores);
  CUXPLAIN_CHECK_LAUNCH();
}

}  // namespace cuxplain::kernels::cuda
