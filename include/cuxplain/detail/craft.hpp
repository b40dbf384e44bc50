#pragma once
// Per-element math of CRAFT's ops, shared by the host and CUDA backends.
#include <cstdint>

#include "hd.hpp"
#include "upsample.hpp"

namespace cuxplain::detail {

/// Where crop `crop` (global id: image-major, then row-major over the grid)
/// starts: the image it is cut from and its top-left pixel.
struct CropOrigin {
  std::int64_t image, top, left;
};

CUXPLAIN_HD CropOrigin crop_origin(std::int64_t crop, std::int64_t per_image, std::int64_t cols,
                                   std::int64_t stride) {
  const std::int64_t local = crop % per_image;
  return {crop / per_image, local / cols * stride, local % cols * stride};
}

/// The taps of output coordinate `dst` when a crop side of `patch` pixels is
/// resized to `size`: TensorFlow's bicubic (tf_cubic_taps) or cv2's
/// (cubic_taps). Taps index the crop's own pixels, so the crop's edge is
/// the edge a resizer sees, as if the crop were an image of its own.
CUXPLAIN_HD CubicTaps crop_taps(bool tensorflow, std::int64_t dst, std::int64_t patch,
                                std::int64_t size) {
  return tensorflow ? tf_cubic_taps(dst, patch, size) : cubic_taps(dst, patch, size);
}

/// Pixel (y, x, channel) of a crop resized to the image size: the
/// patch x patch window at (top, left) of one image resized as its own
/// image. `image` is one h x w image of `channels` channels in `nhwc` or
/// NCHW order; ty / tx are crop_taps(tensorflow, y, patch, h) and
/// crop_taps(tensorflow, x, patch, w).
CUXPLAIN_HD float resized_crop_value(bool tensorflow, const float* image, std::int64_t h,
                                     std::int64_t w, std::int64_t channels, bool nhwc,
                                     std::int64_t top, std::int64_t left, const CubicTaps& ty,
                                     const CubicTaps& tx, std::int64_t channel) {
  const float* origin = nhwc ? image + (top * w + left) * channels + channel
                             : image + channel * h * w + top * w + left;
  const std::int64_t stride = nhwc ? channels : 1;
  return tensorflow ? tf_bicubic_value(origin, w, stride, ty, tx, 0)
                    : bicubic_value(origin, w, stride, ty, tx, 0);
}

/// The mean of a plane of `size` floats from their sum in double (a
/// segmented sum of the backend).
CUXPLAIN_HD float plane_mean(double sum, std::int64_t size) {
  return static_cast<float>(sum / static_cast<double>(size));
}

/// Entry (row, location, k) of the perturbed coefficients X = U o m of
/// design row `row`: X[(row * locations + location) * rank + k] =
/// U[location * rank + k] * masks[row * rank + k], the coefficients scaled
/// before they meet W, as xplique orders it. The activations are then
/// X W (one GEMM), transposed to channel-major per row.
CUXPLAIN_HD float perturbed_coefficient(const float* U, const float* masks, std::int64_t locations,
                                        std::int64_t rank, std::int64_t index) {
  const std::int64_t k = index % rank;
  const std::int64_t location = (index / rank) % locations;
  const std::int64_t row = index / (rank * locations);
  return U[location * rank + k] * masks[row * rank + k];
}

}  // namespace cuxplain::detail
