#pragma once
// Masked perturbations of an image: the fused mask-upsample-and-perturb op.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"
#include "core/views.hpp"

namespace cuxplain {

/// How perturb() turns a g x g mask into a perturbed image.
struct PerturbationParams {
  Perturbation kind = Perturbation::inpainting;
  float baseline = 0.0f;  ///< inpainting: the value masked-out pixels move to
  float sigma = 1.0f;     ///< amplitude: scale of x*(m-0.5)
  Interpolation interpolation = Interpolation::nearest_exact;  ///< nearest, nearest_exact, bilinear
  std::int64_t grid_size = 8;  ///< g: masks are g x g cells
  bool per_channel = false;    ///< one mask per image channel (d = g*g*c)
};

/// Cells per mask: g*g, or g*g*c with per-channel masks.
constexpr std::int64_t mask_cells(const PerturbationParams& params, std::int64_t channels) {
  return params.grid_size * params.grid_size * (params.per_channel ? channels : 1);
}

/// OpenCV's cv2.blur with a blur_size x blur_size normalized box, per channel:
/// window [p - blur_size/2, p + (blur_size-1)/2 ... ] i.e. anchor at blur_size/2,
/// borders BORDER_REFLECT_101. `out` has the shape and layout of `images`.
void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out);

/// Writes num_masks perturbed copies of `image` (a batch of one) to `out`.
///
/// masks: num_masks x mask_cells floats on ctx's device, cell k = (gy*g + gx)
/// (times c plus the channel with per-channel masks), values in [0, 1].
/// blurred: box_blur(image) for Perturbation::blurring, otherwise ignored.
/// out: num_masks images with the shape and layout of `image`, element type
/// `out_type` (f32, or f16/bf16 rounded to nearest even). Each element is
/// written exactly once.
void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out,
             DType out_type = DType::f32);

}  // namespace cuxplain
