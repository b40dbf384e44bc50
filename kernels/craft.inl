// CRAFT's data movement, written once over the execution contract
// (kernels/backend.hpp) and compiled for each backend by kernels/cpu/craft.cpp
// and kernels/cuda/craft.cu, beside their batched transposes (GPU-shaped: a
// tiled, coalesced transpose on CUDA). The math is detail/craft.hpp.
//
// On the CPU these walks run on one thread on purpose: CRAFT alternates them
// with the user's g and h, which on the host are BLAS-bound (OpenBLAS's own
// threads). An OpenMP team spinning after each of these short passes
// competes with those threads for the cores and made concept importance
// about 10x slower on 2 cores (the NMF iterations met the same problem). The
// work here is small next to one forward pass of g or h.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/craft.hpp>

#include "craft.hpp"

namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND {
namespace craft_ops {

using cuxplain::detail::CubicTaps;

/// taps[0, h): output rows; taps[h, h + w): output columns.
struct CropTaps {
  bool tensorflow;
  std::int64_t patch, h, w;
  CubicTaps* taps;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    taps[i] = i < h ? cuxplain::detail::crop_taps(tensorflow, i, patch, h)
                    : cuxplain::detail::crop_taps(tensorflow, i - h, patch, w);
  }
};

/// One row of output elements: NHWC, row = (crop, y) and col = (x, channel);
/// NCHW, row = (crop, channel, y) and col = x.
struct CropResize {
  const float* images;
  std::int64_t c, h, w;
  bool nhwc, tensorflow;
  std::int64_t stride, cols, per_image, first;
  const std::int64_t* ids;
  const CubicTaps* taps;
  float* crops;
  CUXPLAIN_HD void operator()(std::int64_t row, std::int64_t col) const {
    const std::int64_t rows_per_crop = nhwc ? h : c * h;
    const std::int64_t k = row / rows_per_crop, in_crop = row % rows_per_crop;
    const std::int64_t y = in_crop % h;
    const std::int64_t channel = nhwc ? col % c : in_crop / h;
    const std::int64_t x = nhwc ? col / c : col;
    const cuxplain::detail::CropOrigin origin =
        cuxplain::detail::crop_origin(ids != nullptr ? ids[k] : first + k, per_image, cols, stride);
    const std::int64_t image_size = c * h * w;
    crops[row * (nhwc ? w * c : w) + col] = cuxplain::detail::resized_crop_value(
        tensorflow, images + origin.image * image_size, h, w, c, nhwc, origin.top, origin.left,
        taps[y], taps[h + x], channel);
  }
};

struct PlaneValue {
  const float* planes;
  std::int64_t plane_size;
  CUXPLAIN_HD double operator()(std::int64_t plane, std::int64_t i) const {
    return planes[plane * plane_size + i];
  }
};

struct PlaneMean {
  const double* sums;
  std::int64_t plane_size;
  float* means;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    means[i] = cuxplain::detail::plane_mean(sums[i], plane_size);
  }
};

struct PerturbCoefficients {
  const float* U;
  const float* masks;
  std::int64_t locations, rank;
  float* X;
  CUXPLAIN_HD void operator()(std::int64_t i) const {
    X[i] = cuxplain::detail::perturbed_coefficient(U, masks, locations, rank, i);
  }
};

}  // namespace craft_ops

void crop_resize(const Context& ctx, ConstImageView images, bool tensorflow, std::int64_t patch,
                 std::int64_t stride, std::int64_t cols, std::int64_t per_image,
                 std::int64_t first, const std::int64_t* ids, std::int64_t count, float* crops) {
  const std::int64_t c = images.c, h = images.h, w = images.w;
  const bool nhwc = images.layout == Layout::nhwc;
  Buffer<cuxplain::detail::CubicTaps> taps(ctx, h + w, "the crop taps of craft");
  for_each(ctx, h + w, craft_ops::CropTaps{tensorflow, patch, h, w, taps.data()},
           Policy::serial());
  const Extent2 extent = nhwc ? Extent2{count * h, w * c} : Extent2{count * c * h, w};
  for_each(ctx, extent,
           craft_ops::CropResize{images.data, c, h, w, nhwc, tensorflow, stride, cols, per_image,
                                 first, ids, taps.data(), crops},
           Policy::serial());
}

void plane_means(const Context& ctx, const float* planes, std::int64_t count,
                 std::int64_t plane_size, float* means) {
  Buffer<double> sums(ctx, count, "the plane sums of craft");
  segmented_sum(ctx, count, plane_size, craft_ops::PlaneValue{planes, plane_size}, sums.data(),
                Policy::serial());
  for_each(ctx, count, craft_ops::PlaneMean{sums.data(), plane_size, means}, Policy::serial());
}

void perturb_coefficients(const Context& ctx, const float* U, const float* masks,
                          std::int64_t rows, std::int64_t locations, std::int64_t rank, float* X) {
  for_each(ctx, rows * locations * rank,
           craft_ops::PerturbCoefficients{U, masks, locations, rank, X}, Policy::serial());
}

}  // namespace cuxplain::kernels::CUXPLAIN_KERNELS_BACKEND
