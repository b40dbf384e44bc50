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

/// OpenCV's cv2.blur(x, (blur_size, blur_size)) on each channel of each image:
/// the mean of a blur_size x blur_size box. The anchor sits at blur_size/2, so
/// the window of pixel p is [p - blur_size/2, p + blur_size - 1 - blur_size/2]
/// on each axis (blur_size 10: [p-5, p+4]); indices outside the image are
/// reflected without repeating the edge (BORDER_REFLECT_101: ...dcb|abcd|cba...),
/// as often as needed, so windows wider than the image are fine and a 1-pixel
/// axis reads its only pixel. Computed in float as two separable passes (row
/// sums, then column sums divided by blur_size^2): it differs from a literal
/// 2D sum by rounding only.
///
/// images: n >= 1 images on ctx's device; blur_size in [1, 2^31).
/// out: same shape and layout as `images`; may be the same memory.
/// CUDA: temporary memory of images.size() floats from ctx's allocator.
/// Throws cuxplain::Error on null pointers, dimensions < 1, blur_size out of
/// range, or an `out` whose shape or layout differs from `images`.
void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out);

/// Writes num_masks perturbed copies of `image` to `out`, each output element
/// exactly once (mask upsampling and perturbation fused in one pass).
///
/// image: a batch of one (image.n == 1), NCHW or NHWC, on ctx's device.
/// masks: num_masks x mask_cells(params, image.c) floats on ctx's device, mask
///   values in [0, 1]; cell k = gy*g + gx, or (gy*g + gx)*c + channel with
///   per-channel masks (the mask channel is the image channel).
/// Each mask is stretched over the h x w image, each axis on its own (any
/// h, w >= grid_size; the scale need not be an integer), per
/// params.interpolation, for a pixel coordinate dst on an axis of `size` pixels:
///   nearest:       src = min(floor(dst*g/size), g-1)          (PyTorch's default)
///   nearest_exact: src = min(floor((dst+0.5)*g/size), g-1)    (TensorFlow 2's "nearest")
///   bilinear:      half-pixel centres, no corner alignment (PyTorch's
///                  align_corners=False): src = max(0, (dst+0.5)*g/size - 0.5)
///                  between cells floor(src) and min(floor(src)+1, g-1)
/// and m is the mask value at the pixel:
///   inpainting: x*m + (1-m)*params.baseline
///   blurring:   x*m + (1-m)*blurred      (blurred = box_blur(image) at the pixel)
///   amplitude:  x*(m-0.5)*params.sigma
/// blurred: for Perturbation::blurring, an image of the shape and layout of
///   `image` on ctx's device (usually box_blur of it); otherwise ignored (may be null).
/// out: num_masks images of the shape and layout of `image`, element type
///   `out_type`: float for f32; uint16_t bit patterns of IEEE binary16 (f16) or
///   bfloat16 (bf16), rounded to nearest even, for the half types.
/// With num_masks == 0 nothing is written and masks / out may be null.
/// Host and CUDA backends produce bit-identical outputs.
/// Throws cuxplain::Error on invalid arguments: null pointers, a dimension < 1
/// (or h, w > 2^30), image.n != 1, num_masks < 0, params.grid_size outside
/// [1, min(h, w)], an interpolation other than the three above, a non-finite
/// baseline or sigma, or blurring without `blurred`.
void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out,
             DType out_type = DType::f32);

}  // namespace cuxplain
