#pragma once
// CRAFT's data movement: crops resized to the input size, spatial means,
// batched transposes between channel-major and location-major activations,
// and perturbed concept coefficients (whose activations (U o m) W are a
// GEMM, the contract's). Declared for both backends; written once in
// kernels/craft.inl but for the transpose, which each backend walks its own
// way.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/views.hpp>

#define CUXPLAIN_CRAFT_KERNELS                                                                  \
  /* crops[k] = crop (ids ? ids[k] : first + k) of images (CropOrigin), resized to h x w,  */ \
  /* in the layout of images, with TensorFlow's bicubic or cv2's (detail::crop_taps); ids: */ \
  /* count crop ids on ctx's device, or null.                                              */ \
  void crop_resize(const Context& ctx, ConstImageView images, bool tensorflow, std::int64_t patch, \
                   std::int64_t stride, std::int64_t cols, std::int64_t per_image,             \
                   std::int64_t first, const std::int64_t* ids, std::int64_t count,            \
                   float* crops);                                                              \
  /* means[i] = mean of planes[i * plane_size, (i + 1) * plane_size). */                      \
  void plane_means(const Context& ctx, const float* planes, std::int64_t count,                 \
                   std::int64_t plane_size, float* means);                                     \
  /* out[b] = in[b]^T for batch matrices of rows x cols. */                                    \
  void batched_transpose(const Context& ctx, const float* in, std::int64_t batch,              \
                         std::int64_t rows, std::int64_t cols, float* out);                    \
  /* X (rows * locations x rank) = U (locations x rank) o masks[b], row-major per row b. */    \
  void perturb_coefficients(const Context& ctx, const float* U, const float* masks,            \
                            std::int64_t rows, std::int64_t locations, std::int64_t rank,      \
                            float* X);

namespace cuxplain::kernels::cpu {
CUXPLAIN_CRAFT_KERNELS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_CRAFT_KERNELS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_CRAFT_KERNELS
