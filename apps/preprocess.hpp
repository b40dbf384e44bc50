#pragma once
// An image's way into the model as torchvision's ImageNet transforms take it:
// Resize(N) of the shorter side, CenterCrop(H, W), ToTensor (pixel / scale),
// Normalize(mean, std), with the channels in the model's order. Without
// --resize and --center-crop, the image is resized to the model's H x W as
// to_model_input does (image_io.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "image_io.hpp"
#include "json.hpp"

namespace cuxplain::cli {

/// The preprocessing options of explain, evaluate and concepts. The
/// defaults leave the image as to_model_input makes it.
struct Preprocess {
  std::vector<float> mean;                 // --mean: empty, or 1 or C values
  std::vector<float> stddev;               // --std: empty, or 1 or C values > 0
  std::optional<std::int64_t> resize;      // --resize N: the shorter side
  std::optional<std::int64_t> crop_h;      // --center-crop H[,W]
  std::optional<std::int64_t> crop_w;
  bool bgr = false;                        // --channel-order bgr

  /// Whether --resize or --center-crop shape the image (instead of a resize
  /// to the model's H x W).
  bool geometric() const { return resize.has_value() || crop_h.has_value(); }
  bool is_default() const { return !geometric() && mean.empty() && stddev.empty() && !bgr; }
};

/// torchvision's Resize(n) output size for an h x w image: the shorter side
/// becomes n, the longer int(n * long / short) (truncated), as
/// torchvision.transforms.functional._compute_resized_output_size.
std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t h, std::int64_t w, std::int64_t n);

/// torch.nn.functional.interpolate(mode="bilinear", antialias=True,
/// align_corners=False) on one h x w image of c interleaved float channels
/// (the kernel torchvision's Resize runs on tensors): separable, the width
/// first, each output sample a triangle filter centred at scale * (i + 0.5)
/// with support max(scale, 1), its window cut at the image's edges and its
/// weights renormalized to sum 1 (ATen's _compute_indices_min_size_weights_aa,
/// in float as on a float tensor). A side whose size is kept is copied.
std::vector<float> resize_antialias(const std::vector<float>& pixels, std::int64_t h,
                                    std::int64_t w, std::int64_t c, std::int64_t out_h,
                                    std::int64_t out_w);

/// torchvision's CenterCrop(crop_h, crop_w) of an h x w image of c
/// interleaved float channels: zero padding first where the crop is larger
/// (left (cw - w) / 2, right the rest, top and bottom alike), then the window
/// at top = round((h - ch) / 2), left = round((w - cw) / 2), rounding half
/// to even as Python's round.
std::vector<float> center_crop(const std::vector<float>& pixels, std::int64_t h, std::int64_t w,
                               std::int64_t c, std::int64_t crop_h, std::int64_t crop_w);


/// Checks the options against a model input of c x h x w channels before any
/// image is read: --mean and --std of 1 or c values, --channel-order bgr on
/// 3 channels. Throws UsageError naming the option and its value.
void check_preprocess(const Preprocess& p, std::int64_t c);

/// The model input of one image: c x h x w floats (NCHW). The image
/// (image.channels == c) is scaled (pixel / scale); resized and cropped
/// (--resize, --center-crop) or, without them, resized to h x w as
/// to_model_input does; its channels reversed for bgr; then (x - mean) / std
/// per channel, mean and std in the model's channel order. Throws UsageError
/// when --resize and --center-crop do not give h x w.
std::vector<float> preprocess_image(const Image8& image, std::int64_t c, std::int64_t h,
                                    std::int64_t w, double scale, const Preprocess& p);

/// The image as the model sees it, for the overlays and crop sheets: the
/// same resize and crop on its 8-bit pixels (rounded to the nearest value).
/// Without --resize and --center-crop: the image itself, or with
/// model_h x model_w given (> 0), the image resized to it as
/// to_model_input resizes.
Image8 preprocess_display(const Image8& image, const Preprocess& p, std::int64_t model_h = 0,
                          std::int64_t model_w = 0);

/// The range of the model's inputs for pixels 0..255: [0, 255 / scale]
/// normalized, the lowest and highest over the channels.
std::pair<float, float> input_range(const Preprocess& p, std::int64_t c, double scale);

/// What a result file records of the preprocessing (scores.json,
/// metrics.json, concepts.json): "preprocess" with the options given.
Json preprocess_json(const Preprocess& p);

}  // namespace cuxplain::cli
