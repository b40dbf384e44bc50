#pragma once
// What the perturbation-based explainers (Sobol, HSIC) share: argument checks
// and the loop that streams masks through the model in bounded batches.
#include <cstdint>
#include <functional>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/model.hpp>
#include <cuxplain/perturbation.hpp>

namespace cuxplain::detail {

/// model, images and targets as every explainer needs them.
void validate_model_and_images(const Context& ctx, const Model& model, ConstImageView images,
                               HostSpan<const int> targets, const char* caller);

/// grid_size in [1, min(h, w)].
void validate_grid(ConstImageView images, std::int64_t grid_size, const char* caller);

/// Perturbation options and batch_size.
void validate_perturbation(Perturbation perturbation, Interpolation mask_interpolation,
                           std::int64_t blur_size, float baseline, float sigma,
                           std::int64_t batch_size, const char* caller);

/// Runs the model on perturbed copies of one image at a time, batch_size rows
/// per call, and collects the target class output of every row. Memory:
/// batch_size masks, perturbed images and output rows, allocated once.
class PerturbationStream {
 public:
  /// Returns mask rows [row_begin, row_begin + rows) (rows x cells on ctx's
  /// device): either written to `scratch` (room for batch_size rows) or
  /// pointing into masks the caller already holds.
  using MaskSource =
      std::function<const float*(std::int64_t row_begin, std::int64_t rows, float* scratch)>;

  PerturbationStream(const Context& ctx, const Model& model, ConstImageView images,
                     const PerturbationParams& params, std::int64_t blur_size,
                     std::int64_t batch_size);

  /// Fills target_outputs[0, total_rows) with the model's `target` output on
  /// the perturbed copies of image `image` made from the masks `masks_for`
  /// supplies. Throws cuxplain::Error when the model throws or any of those
  /// outputs is not finite (on CUDA this synchronizes the stream once).
  void run_image(std::int64_t image, int target, std::int64_t total_rows,
                 const MaskSource& masks_for, float* target_outputs);

 private:
  const Context& ctx_;
  const Model& model_;
  ConstImageView images_;
  PerturbationParams params_;
  std::int64_t blur_size_;
  std::int64_t batch_size_;
  Buffer<float> masks_;
  Buffer<float> perturbed_;
  Buffer<float> outputs_;
  Buffer<float> blurred_;
  Buffer<int> nonfinite_rows_;
};

}  // namespace cuxplain::detail
