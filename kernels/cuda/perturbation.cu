// CUDA backend of box_blur and perturb: the math of detail/perturbation.hpp
// walked by 64-bit grid-stride loops on the context's stream.
//
// perturb is bound by the output write (num_masks copies of the image; the
// image and the masks are small and stay in cache). One thread owns one element
// position e of the image and loops over masks: the pixel's coordinates, mask
// taps, image value and fill are computed once and reused for every mask it
// writes, and for each mask consecutive threads write consecutive addresses in
// either layout. The grid's y dimension splits the masks so that the device is
// full even when the image alone is not enough work.
#include "../perturbation.hpp"
#include "backend.cuh"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/perturbation.hpp>

#include "../context_state.hpp"

namespace cuxplain::kernels::cuda {
namespace {

constexpr int kThreads = kBlockThreads;
constexpr std::int64_t kMaxGridY = 65535;

/// In-image coordinates of element e: 32-bit when the image is small enough
/// (the usual case: integer division is much cheaper), else 64-bit.
template <class Index>
struct Shape {
  Index c;
  Index h;
  Index w;
  Index image_size;
  bool nhwc;
};

template <class Index>
struct Pixel {
  Index ch;
  Index y;
  Index x;
};

template <class Index>
__device__ __forceinline__ Pixel<Index> pixel_of(Index e, const Shape<Index>& s) {
  if (s.nhwc) {  // e = (y*w + x)*c + ch
    const Index pixel = e / s.c;
    const Index y = pixel / s.w;
    return {e - pixel * s.c, y, pixel - y * s.w};
  }
  const Index row = e / s.w;  // e = (ch*h + y)*w + x
  const Index ch = row / s.h;
  return {ch, row - ch * s.h, e - row * s.w};
}

// ------------------------------------------------------------------ perturb --

template <class Index>
struct PerturbArgs {
  Shape<Index> shape;
  Index grid;
  Index cells;  // per mask
  bool per_channel;
  Interpolation interpolation;
  std::int64_t num_masks;
  float baseline;
  float sigma;
};

template <class Index, bool Bilinear, bool Amplitude, class Store>
__global__ void __launch_bounds__(kThreads)
    perturb_kernel(const float* __restrict__ image, const float* __restrict__ masks,
                   const float* __restrict__ blurred, typename Store::type* __restrict__ out,
                   PerturbArgs<Index> args) {
  constexpr Perturbation kind = Amplitude ? Perturbation::amplitude : Perturbation::inpainting;
  const Shape<Index>& s = args.shape;
  const std::int64_t mask_step = gridDim.y;
  for (const std::int64_t i : grid_stride(s.image_size)) {
    const Index e = static_cast<Index>(i);
    const Pixel<Index> p = pixel_of(e, s);
    const auto taps =
        detail::mask_taps(detail::mask_axis_tap(args.interpolation, p.y, args.grid, s.h),
                          detail::mask_axis_tap(args.interpolation, p.x, args.grid, s.w), args.grid,
                          args.per_channel ? s.c : Index{1}, args.per_channel ? p.ch : Index{0});
    const float pixel = image[e];
    // Inpainting and blurring share the formula; only the fill differs.
    const float fill = blurred != nullptr ? blurred[e] : args.baseline;

    const float* mask = masks + blockIdx.y * static_cast<std::int64_t>(args.cells);
    typename Store::type* dst = out + blockIdx.y * static_cast<std::int64_t>(s.image_size) + e;
    const std::int64_t mask_stride = mask_step * args.cells;
    const std::int64_t out_stride = mask_step * s.image_size;
#pragma unroll 4
    for (std::int64_t m = blockIdx.y; m < args.num_masks; m += mask_step) {
      const float value = detail::mask_value<Bilinear>(mask, taps);
      *dst = Store::encode(detail::perturbed_value(kind, pixel, value, fill, args.sigma));
      mask += mask_stride;
      dst += out_stride;
    }
  }
}

template <class Index, bool Bilinear, bool Amplitude, class Store>
void launch_perturb(const Context& ctx, const float* image, const float* masks,
                    const float* blurred, void* out, const PerturbArgs<Index>& args) {
  const unsigned int blocks_x = blocks_for(args.shape.image_size, kThreads);
  // About four waves of fully occupied multiprocessors; the rest of the work
  // is each thread looping over more masks (reusing its per-pixel setup).
  const std::int64_t target_blocks =
      static_cast<std::int64_t>(cuxplain::detail::state_of(ctx).multiprocessors) * (2048 / kThreads) * 4;
  std::int64_t blocks_y = (target_blocks + blocks_x - 1) / blocks_x;
  blocks_y = std::min(blocks_y, std::min(args.num_masks, kMaxGridY));
  blocks_y = std::max<std::int64_t>(blocks_y, 1);
  const dim3 grid(blocks_x, static_cast<unsigned int>(blocks_y));
  launch(ctx, grid, kThreads, perturb_kernel<Index, Bilinear, Amplitude, Store>, image, masks,
         blurred, static_cast<typename Store::type*>(out), args);
}

template <class Index, class Store>
void perturb_indexed(const Context& ctx, ConstImageView image, const float* masks,
                     std::int64_t num_masks, const PerturbationParams& params, const float* blurred,
                     void* out) {
  PerturbArgs<Index> args;
  args.shape = {static_cast<Index>(image.c), static_cast<Index>(image.h),
                static_cast<Index>(image.w), static_cast<Index>(image.image_size()),
                image.layout == Layout::nhwc};
  args.grid = static_cast<Index>(params.grid_size);
  args.cells = static_cast<Index>(mask_cells(params, image.c));
  args.per_channel = params.per_channel;
  args.interpolation = params.interpolation;
  args.num_masks = num_masks;
  args.baseline = params.baseline;
  args.sigma = params.sigma;
  const float* fill = params.kind == Perturbation::blurring ? blurred : nullptr;
  const bool bilinear = params.interpolation == Interpolation::bilinear;
  const bool amplitude = params.kind == Perturbation::amplitude;
  if (bilinear) {
    if (amplitude)
      return launch_perturb<Index, true, true, Store>(ctx, image.data, masks, fill, out, args);
    return launch_perturb<Index, true, false, Store>(ctx, image.data, masks, fill, out, args);
  }
  if (amplitude)
    return launch_perturb<Index, false, true, Store>(ctx, image.data, masks, fill, out, args);
  return launch_perturb<Index, false, false, Store>(ctx, image.data, masks, fill, out, args);
}

template <class Store>
void perturb_stored(const Context& ctx, ConstImageView image, const float* masks,
                    std::int64_t num_masks, const PerturbationParams& params, const float* blurred,
                    void* out) {
  // 32-bit coordinates need the image and the products 2*size*grid of the
  // mask lookup to fit.
  constexpr std::int64_t kMax32 = std::numeric_limits<std::int32_t>::max();
  const std::int64_t longest = std::max(image.h, image.w);
  if (image.image_size() <= kMax32 && 2 * longest * params.grid_size <= kMax32) {
    return perturb_indexed<std::int32_t, Store>(ctx, image, masks, num_masks, params, blurred, out);
  }
  perturb_indexed<std::int64_t, Store>(ctx, image, masks, num_masks, params, blurred, out);
}

// ----------------------------------------------------------------- box blur --

template <class Index>
struct BlurArgs {
  Shape<Index> shape;
  std::int64_t n;
  Index x_stride;
  Index y_stride;
  Index channel_stride;
  Index blur_size;
  float area;
};

/// Pass 1: sums[e] = sum of the blur_size-wide window of e's row.
template <class Index>
__global__ void __launch_bounds__(kThreads)
    box_row_sums_kernel(const float* __restrict__ images, float* __restrict__ sums,
                        BlurArgs<Index> args) {
  const Shape<Index>& s = args.shape;
  for (std::int64_t image = blockIdx.y; image < args.n; image += gridDim.y) {
    const std::int64_t base = image * s.image_size;
    for (const std::int64_t i : grid_stride(s.image_size)) {
      const Index e = static_cast<Index>(i);
      const Pixel<Index> p = pixel_of(e, s);
      const Index row = p.ch * args.channel_stride + p.y * args.y_stride;
      sums[base + e] =
          detail::box_window_sum(images + base + row, args.x_stride, s.w, p.x, args.blur_size);
    }
  }
}

/// Pass 2: out[e] = (sum of the blur_size-tall window of e's column of sums) / area.
template <class Index>
__global__ void __launch_bounds__(kThreads)
    box_column_means_kernel(const float* __restrict__ sums, float* __restrict__ out,
                            BlurArgs<Index> args) {
  const Shape<Index>& s = args.shape;
  for (std::int64_t image = blockIdx.y; image < args.n; image += gridDim.y) {
    const std::int64_t base = image * s.image_size;
    for (const std::int64_t i : grid_stride(s.image_size)) {
      const Index e = static_cast<Index>(i);
      const Pixel<Index> p = pixel_of(e, s);
      const Index column = p.ch * args.channel_stride + p.x * args.x_stride;
      out[base + e] = detail::div_rounded<detail::Rounding::nearest>(
          detail::box_window_sum(sums + base + column, args.y_stride, s.h, p.y, args.blur_size),
          args.area);
    }
  }
}

template <class Index>
void launch_box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size,
                     ImageView out) {
  const bool nhwc = images.layout == Layout::nhwc;
  BlurArgs<Index> args;
  args.shape = {static_cast<Index>(images.c), static_cast<Index>(images.h),
                static_cast<Index>(images.w), static_cast<Index>(images.image_size()), nhwc};
  args.n = images.n;
  args.x_stride = static_cast<Index>(nhwc ? images.c : 1);
  args.y_stride = static_cast<Index>(nhwc ? images.w * images.c : images.w);
  args.channel_stride = static_cast<Index>(nhwc ? 1 : images.h * images.w);
  args.blur_size = static_cast<Index>(blur_size);
  args.area = static_cast<float>(static_cast<double>(blur_size) * blur_size);  // as the host

  // `out` may alias `images`: pass 2 only reads the temporary.
  Buffer<float> sums(ctx, images.size());
  const dim3 grid(blocks_for(images.image_size(), kThreads),
                  static_cast<unsigned int>(std::min(images.n, kMaxGridY)));
  launch(ctx, grid, kThreads, box_row_sums_kernel<Index>, images.data, sums.data(), args);
  launch(ctx, grid, kThreads, box_column_means_kernel<Index>, sums.data(), out.data, args);
}

}  // namespace

void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out) {
  // 32-bit coordinates need the window indices (within blur_size of the
  // image) and the reflection period to fit.
  if (images.image_size() < (std::int64_t{1} << 30) && blur_size < (std::int64_t{1} << 29)) {
    return launch_box_blur<std::int32_t>(ctx, images, blur_size, out);
  }
  launch_box_blur<std::int64_t>(ctx, images, blur_size, out);
}

void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type) {
  if (num_masks == 0) return;
  switch (out_type) {
    case DType::f32:
      return perturb_stored<detail::StoreF32>(ctx, image, masks, num_masks, params, blurred, out);
    case DType::f16:
      return perturb_stored<detail::StoreF16>(ctx, image, masks, num_masks, params, blurred, out);
    case DType::bf16:
      return perturb_stored<detail::StoreBF16>(ctx, image, masks, num_masks, params, blurred, out);
  }
}

}  // namespace cuxplain::kernels::cuda
