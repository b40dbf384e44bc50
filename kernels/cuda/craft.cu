// CRAFT's data movement on CUDA: one thread per output element, grid-stride
// loops; the per-element math is shared with the host (detail/craft.hpp).
// The bicubic taps of a crop pixel are computed per thread (a few small double
// evaluations) rather than tabulated: crops are a small part of a CRAFT run
// next to the model's own work.
#include "../craft.hpp"
#include "backend.cuh"

#include <cuxplain/detail/craft.hpp>

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void crop_resize_kernel(const float* images, std::int64_t c, std::int64_t h,
                                   std::int64_t w, bool nhwc, bool tensorflow, std::int64_t patch,
                                   std::int64_t stride, std::int64_t cols, std::int64_t per_image,
                                   std::int64_t first, const std::int64_t* ids,
                                   std::int64_t count, float* crops) {
  const std::int64_t image_size = c * h * w;
  const std::int64_t total = count * image_size;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t k = i / image_size;
    const std::int64_t at = i % image_size;
    std::int64_t y, x, channel;
    if (nhwc) {
      channel = at % c;
      x = (at / c) % w;
      y = at / (c * w);
    } else {
      x = at % w;
      y = (at / w) % h;
      channel = at / (h * w);
    }
    const detail::CropOrigin origin =
        detail::crop_origin(ids != nullptr ? ids[k] : first + k, per_image, cols, stride);
    crops[i] = detail::resized_crop_value(tensorflow, images + origin.image * image_size, h, w, c,
                                          nhwc, origin.top, origin.left,
                                          detail::crop_taps(tensorflow, y, patch, h),
                                          detail::crop_taps(tensorflow, x, patch, w), channel);
  }
}

__global__ void plane_means_kernel(const float* planes, std::int64_t count, std::int64_t plane_size,
                                   float* means) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    means[i] = detail::plane_mean(planes + i * plane_size, plane_size);
  }
}

__global__ void batched_transpose_kernel(const float* in, std::int64_t batch, std::int64_t rows,
                                         std::int64_t cols, float* out) {
  const std::int64_t per_matrix = rows * cols;
  const std::int64_t total = batch * per_matrix;
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < total;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    // Output-major: writes coalesce, reads stride by cols (small matrices).
    const std::int64_t b = o / per_matrix;
    const std::int64_t j = (o % per_matrix) / rows;
    const std::int64_t i = o % rows;
    out[o] = in[b * per_matrix + i * cols + j];
  }
}

__global__ void perturb_coefficients_kernel(const float* U, const float* masks,
                                            std::int64_t count, std::int64_t locations,
                                            std::int64_t rank, float* X) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    X[i] = detail::perturbed_coefficient(U, masks, locations, rank, i);
  }
}

}  // namespace

void crop_resize(const Context& ctx, ConstImageView images, bool tensorflow, std::int64_t patch,
                 std::int64_t stride, std::int64_t cols, std::int64_t per_image, std::int64_t first,
                 const std::int64_t* ids, std::int64_t count, float* crops) {
  const std::int64_t total = count * images.image_size();
  crop_resize_kernel<<<blocks_for(total, kThreads), kThreads, 0, ctx.stream()>>>(
      images.data, images.c, images.h, images.w, images.layout == Layout::nhwc, tensorflow, patch,
      stride, cols, per_image, first, ids, count, crops);
  CUXPLAIN_CHECK_LAUNCH();
}

void plane_means(const Context& ctx, const float* planes, std::int64_t count,
                 std::int64_t plane_size, float* means) {
  plane_means_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(planes, count,
                                                                               plane_size, means);
  CUXPLAIN_CHECK_LAUNCH();
}

void batched_transpose(const Context& ctx, const float* in, std::int64_t batch, std::int64_t rows,
                       std::int64_t cols, float* out) {
  batched_transpose_kernel<<<blocks_for(batch * rows * cols, kThreads), kThreads, 0,
                             ctx.stream()>>>(in, batch, rows, cols, out);
  CUXPLAIN_CHECK_LAUNCH();
}

void perturb_coefficients(const Context& ctx, const float* U, const float* masks,
                          std::int64_t rows, std::int64_t locations, std::int64_t rank, float* X) {
  const std::int64_t count = rows * locations * rank;
  perturb_coefficients_kernel<<<blocks_for(count, kThreads), kThreads, 0, ctx.stream()>>>(
      U, masks, count, locations, rank, X);
  CUXPLAIN_CHECK_LAUNCH();
}

}  // namespace cuxplain::kernels::cuda
