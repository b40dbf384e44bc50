#include "validate.hpp"

#include <algorithm>
#include <cmath>

#if CUXPLAIN_WITH_CUDA
#include "../../kernels/cuda/runtime.hpp"
#endif

namespace cuxplain::detail {

void expect_on_device(const Context& ctx, const void* ptr, const char* name) {
  CUXPLAIN_EXPECTS(ptr != nullptr, name, " is null");
#if CUXPLAIN_WITH_CUDA
  if (!Context::cuda_available()) return;
  const auto kind = kernels::cuda::memory_kind(ptr);
  if (ctx.is_cuda()) {
    CUXPLAIN_EXPECTS(kind != kernels::cuda::MemoryKind::host, name,
                     " points to host memory but the context is CUDA; pass device memory");
  } else {
    CUXPLAIN_EXPECTS(kind != kernels::cuda::MemoryKind::device, name,
                     " points to CUDA device memory but the context is host; pass host memory");
  }
#else
  (void)ctx;
#endif
}

void validate_model(const Model& model, const char* caller) {
  CUXPLAIN_EXPECTS(model.num_outputs >= 1, caller, ": model.num_outputs must be >= 1, got ",
                   model.num_outputs);
  CUXPLAIN_EXPECTS(static_cast<bool>(model.forward), caller, ": model.forward is empty");
}

void validate_model_and_images(const Context& ctx, const Model& model, ConstImageView images,
                               HostSpan<const int> targets, const char* caller) {
  validate_model(model, caller);
  validate_images(ctx, images, caller);
  validate_targets(targets, images.n, model.num_outputs, caller);
}

void validate_images(const Context& ctx, ConstImageView images, const char* caller) {
  CUXPLAIN_EXPECTS(images.n >= 1, caller, ": images.n must be >= 1 (empty batch), got ",
                   images.n);
  CUXPLAIN_EXPECTS(images.c >= 1 && images.h >= 1 && images.w >= 1, caller,
                   ": image dimensions must be >= 1, got c=", images.c, " h=", images.h,
                   " w=", images.w);
  CUXPLAIN_EXPECTS(images.layout == Layout::nchw || images.layout == Layout::nhwc, caller,
                   ": images.layout is not nchw or nhwc");
  expect_on_device(ctx, images.data, concat(caller, ": images.data").c_str());
}

void validate_targets(HostSpan<const int> targets, std::int64_t n, std::int64_t num_outputs,
                      const char* caller) {
  CUXPLAIN_EXPECTS(targets.size() == static_cast<std::size_t>(n), caller, ": targets has ",
                   targets.size(), " entries for ", n, " images");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    CUXPLAIN_EXPECTS(targets[i] >= 0 && targets[i] < num_outputs, caller, ": targets[", i,
                     "] = ", targets[i], " is outside [0, ", num_outputs, ")");
  }
}

void validate_skip(std::int64_t skip, const char* caller) {
  CUXPLAIN_EXPECTS(skip >= 0, caller, ": options.skip must be >= 0, got ", skip);
}

void validate_grid(ConstImageView images, std::int64_t grid_size, const char* caller) {
  CUXPLAIN_EXPECTS(grid_size >= 1, caller, ": options.grid_size must be >= 1, got ", grid_size);
  CUXPLAIN_EXPECTS(grid_size <= std::min(images.h, images.w), caller, ": options.grid_size ",
                   grid_size, " is larger than the image (", images.h, " x ", images.w, ")");
}

void validate_perturbation(Perturbation perturbation, Interpolation mask_interpolation,
                           std::int64_t blur_size, float baseline, float sigma,
                           std::int64_t batch_size, const char* caller) {
  CUXPLAIN_EXPECTS(perturbation == Perturbation::inpainting ||
                       perturbation == Perturbation::blurring ||
                       perturbation == Perturbation::amplitude,
                   caller, ": options.perturbation has an unknown value ",
                   static_cast<int>(perturbation));
  CUXPLAIN_EXPECTS(mask_interpolation == Interpolation::nearest ||
                       mask_interpolation == Interpolation::nearest_exact ||
                       mask_interpolation == Interpolation::bilinear,
                   caller, ": options.mask_interpolation must be nearest, nearest_exact or "
                   "bilinear, got ", to_string(mask_interpolation));
  CUXPLAIN_EXPECTS(perturbation != Perturbation::blurring || blur_size >= 1, caller,
                   ": options.blur_size must be >= 1, got ", blur_size);
  CUXPLAIN_EXPECTS(std::isfinite(baseline), caller, ": options.baseline must be finite, got ",
                   baseline);
  CUXPLAIN_EXPECTS(std::isfinite(sigma), caller, ": options.sigma must be finite, got ", sigma);
  CUXPLAIN_EXPECTS(batch_size >= 1, caller, ": options.batch_size must be >= 1, got ",
                   batch_size);
}

}  // namespace cuxplain::detail
