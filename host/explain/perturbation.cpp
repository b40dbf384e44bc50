// Public entries of the perturbation family: argument checks, then the backend.
#include <cuxplain/perturbation.hpp>

#include <cuxplain/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "../../kernels/perturbation.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace {

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::nchw: return "nchw";
    case Layout::nhwc: return "nhwc";
  }
  return "unknown";
}

bool valid_layout(Layout layout) { return layout == Layout::nchw || layout == Layout::nhwc; }

void expect_image_shape(const char* caller, const char* name, std::int64_t n, std::int64_t c,
                        std::int64_t h, std::int64_t w, Layout layout) {
  CUXPLAIN_EXPECTS(n >= 1, caller, ": ", name, ".n must be >= 1, got ", n);
  CUXPLAIN_EXPECTS(c >= 1, caller, ": ", name, ".c must be >= 1, got ", c);
  CUXPLAIN_EXPECTS(h >= 1, caller, ": ", name, ".h must be >= 1, got ", h);
  CUXPLAIN_EXPECTS(w >= 1, caller, ": ", name, ".w must be >= 1, got ", w);
  CUXPLAIN_EXPECTS(valid_layout(layout), caller, ": ", name, ".layout is not nchw or nhwc (",
                   static_cast<int>(layout), ")");
  // Element counts are 64-bit; refuse shapes whose product would overflow.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  CUXPLAIN_EXPECTS(c <= kMax / h && c * h <= kMax / w && c * h * w <= kMax / n, caller, ": ",
                   name, " has too many elements (n=", n, " c=", c, " h=", h, " w=", w, ")");
}

}  // namespace

void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out) {
  constexpr const char* caller = "box_blur";
  expect_image_shape(caller, "images", images.n, images.c, images.h, images.w, images.layout);
  CUXPLAIN_EXPECTS(blur_size >= 1, "box_blur: blur_size must be >= 1, got ", blur_size);
  CUXPLAIN_EXPECTS(blur_size <= std::numeric_limits<std::int32_t>::max(),
                   "box_blur: blur_size must be < 2^31, got ", blur_size);
  CUXPLAIN_EXPECTS(out.n == images.n && out.c == images.c && out.h == images.h &&
                       out.w == images.w,
                   "box_blur: out has shape (n=", out.n, " c=", out.c, " h=", out.h, " w=", out.w,
                   ") but images has (n=", images.n, " c=", images.c, " h=", images.h,
                   " w=", images.w, ")");
  CUXPLAIN_EXPECTS(out.layout == images.layout, "box_blur: out.layout ", layout_name(out.layout),
                   " differs from images.layout ", layout_name(images.layout));
  detail::expect_on_device(ctx, images.data, "box_blur: images.data");
  detail::expect_on_device(ctx, out.data, "box_blur: out.data");
  CUXPLAIN_DISPATCH(ctx, box_blur, images, blur_size, out);
}

void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type) {
  constexpr const char* caller = "perturb";
  expect_image_shape(caller, "image", image.n, image.c, image.h, image.w, image.layout);
  CUXPLAIN_EXPECTS(image.n == 1, "perturb: image must be a batch of one (image.n == 1), got "
                   "image.n = ", image.n, "; call perturb once per image");
  CUXPLAIN_EXPECTS(num_masks >= 0, "perturb: num_masks must be >= 0, got ", num_masks);
  CUXPLAIN_EXPECTS(params.kind == Perturbation::inpainting ||
                       params.kind == Perturbation::blurring ||
                       params.kind == Perturbation::amplitude,
                   "perturb: params.kind has an unknown value ", static_cast<int>(params.kind));
  CUXPLAIN_EXPECTS(params.interpolation == Interpolation::nearest ||
                       params.interpolation == Interpolation::nearest_exact ||
                       params.interpolation == Interpolation::bilinear,
                   "perturb: params.interpolation must be nearest, nearest_exact or bilinear, "
                   "got ", to_string(params.interpolation));
  CUXPLAIN_EXPECTS(params.grid_size >= 1 && params.grid_size <= std::min(image.h, image.w),
                   "perturb: params.grid_size must be in [1, min(h, w)] = [1, ",
                   std::min(image.h, image.w), "], got ", params.grid_size);
  CUXPLAIN_EXPECTS(std::isfinite(params.baseline), "perturb: params.baseline must be finite, got ",
                   params.baseline);
  CUXPLAIN_EXPECTS(std::isfinite(params.sigma), "perturb: params.sigma must be finite, got ",
                   params.sigma);
  CUXPLAIN_EXPECTS(out_type == DType::f32 || out_type == DType::f16 || out_type == DType::bf16,
                   "perturb: out_type has an unknown value ", static_cast<int>(out_type));
  CUXPLAIN_EXPECTS(num_masks <= std::numeric_limits<std::int64_t>::max() / image.image_size(),
                   "perturb: num_masks ", num_masks, " perturbed images of ", image.image_size(),
                   " elements overflow a 64-bit count");
  // The mask lookup computes 2 * size * grid_size in 64-bit integers.
  CUXPLAIN_EXPECTS(std::max(image.h, image.w) <= (std::int64_t{1} << 30),
                   "perturb: image.h and image.w must be <= 2^30, got h=", image.h,
                   " w=", image.w);
  detail::expect_on_device(ctx, image.data, "perturb: image.data");
  if (params.kind == Perturbation::blurring) {
    detail::expect_on_device(ctx, blurred,
                             "perturb: blurred (required with Perturbation::blurring)");
  }
  if (num_masks == 0) return;  // nothing to write; masks and out may be null
  detail::expect_on_device(ctx, masks, "perturb: masks");
  detail::expect_on_device(ctx, out, "perturb: out");
  CUXPLAIN_DISPATCH(ctx, perturb, image, masks, num_masks, params, blurred, out, out_type);
}

}  // namespace cuxplain
