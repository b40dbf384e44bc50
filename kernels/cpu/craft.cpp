// CRAFT's data movement on the host. The per-element math is in
// detail/craft.hpp; these loops only walk the outputs.
//
// The loops run on one thread on purpose: CRAFT alternates them with the
// user's g and h, which on the host are BLAS-bound (OpenBLAS's own thread
// pool). An OpenMP team spinning after each of these short passes competes
// with those threads for the cores and made concept importance about 10x
// slower on 2 cores (the NMF iterations met the same problem). The work
// here is small next to one forward pass of g or h.
#include "../craft.hpp"

#include <cuxplain/detail/craft.hpp>

#include <vector>

#include "backend.hpp"

namespace cuxplain::kernels::cpu {

void crop_resize(const Context&, ConstImageView images, bool tensorflow, std::int64_t patch,
                 std::int64_t stride, std::int64_t cols, std::int64_t per_image, std::int64_t first,
                 const std::int64_t* ids, std::int64_t count, float* crops) {
  const std::int64_t h = images.h, w = images.w, c = images.c;
  const bool nhwc = images.layout == Layout::nhwc;
  std::vector<detail::CubicTaps> taps_y(static_cast<std::size_t>(h));
  std::vector<detail::CubicTaps> taps_x(static_cast<std::size_t>(w));
  for (std::int64_t y = 0; y < h; ++y) taps_y[y] = detail::crop_taps(tensorflow, y, patch, h);
  for (std::int64_t x = 0; x < w; ++x) taps_x[x] = detail::crop_taps(tensorflow, x, patch, w);
  const std::int64_t image_size = images.image_size();
  for (std::int64_t k = 0; k < count; ++k) {
    const detail::CropOrigin origin =
        detail::crop_origin(ids != nullptr ? ids[k] : first + k, per_image, cols, stride);
    const float* image = images.data + origin.image * image_size;
    float* out = crops + k * image_size;
    for (std::int64_t y = 0; y < h; ++y) {
      for (std::int64_t x = 0; x < w; ++x) {
        for (std::int64_t channel = 0; channel < c; ++channel) {
          const std::int64_t at = nhwc ? (y * w + x) * c + channel : (channel * h + y) * w + x;
          out[at] = detail::resized_crop_value(tensorflow, image, h, w, c, nhwc, origin.top,
                                               origin.left, taps_y[y], taps_x[x], channel);
        }
      }
    }
  }
}

void plane_means(const Context&, const float* planes, std::int64_t count, std::int64_t plane_size,
                 float* means) {
  for (std::int64_t i = 0; i < count; ++i) {
    means[i] = detail::plane_mean(planes + i * plane_size, plane_size);
  }
}

void batched_transpose(const Context&, const float* in, std::int64_t batch, std::int64_t rows,
                       std::int64_t cols, float* out) {
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const float* src = in + b * rows * cols + j;
      float* dst = out + b * rows * cols + j * rows;
      for (std::int64_t i = 0; i < rows; ++i) dst[i] = src[i * cols];
    }
  }
}

void perturb_coefficients(const Context&, const float* U, const float* masks, std::int64_t rows,
                          std::int64_t locations, std::int64_t rank, float* X) {
  const std::int64_t count = rows * locations * rank;
  for (std::int64_t i = 0; i < count; ++i) {
    X[i] = detail::perturbed_coefficient(U, masks, locations, rank, i);
  }
}

}  // namespace cuxplain::kernels::cpu
