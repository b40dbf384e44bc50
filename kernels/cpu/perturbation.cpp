// Host backend of box_blur and perturb: plain loops over images, rows and
// pixels (OpenMP over images/rows) around the shared math of
// detail/perturbation.hpp.
#include "../perturbation.hpp"

#include <cstdint>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/perturbation.hpp>

namespace cuxplain::kernels::cpu {
namespace {

using Index = std::int64_t;

/// Element strides of an image in either layout.
struct Strides {
  Index x;
  Index y;
  Index channel;
};

Strides strides_of(ConstImageView v) {
  if (v.layout == Layout::nhwc) return {v.c, v.w * v.c, 1};
  return {1, v.w, v.h * v.w};
}

template <bool Bilinear, class Store>
void perturb_walk(ConstImageView image, const float* masks, Index num_masks,
                  const PerturbationParams& params, const float* blurred,
                  typename Store::type* out) {
  const Index c = image.c, h = image.h, w = image.w, grid = params.grid_size;
  const Index image_size = image.image_size();
  const Index cells = mask_cells(params, c);
  const bool nhwc = image.layout == Layout::nhwc;
  const Strides strides = strides_of(image);
  const Perturbation kind = params.kind;
  const float baseline = params.baseline;
  const float sigma = params.sigma;
  const float* fill_source = kind == Perturbation::blurring ? blurred : nullptr;

  // The axis taps depend on one coordinate each: tabulate them once per call.
  std::vector<detail::MaskAxisTap<Index>> row_taps(static_cast<std::size_t>(h));
  std::vector<detail::MaskAxisTap<Index>> column_taps(static_cast<std::size_t>(w));
  for (Index y = 0; y < h; ++y) {
    row_taps[y] = detail::mask_axis_tap(params.interpolation, y, grid, h);
  }
  for (Index x = 0; x < w; ++x) {
    column_taps[x] = detail::mask_axis_tap(params.interpolation, x, grid, w);
  }

  // Element (ch, y, x) of the copy at `dst`, perturbed by the mask at `mask`.
  const auto write_pixel = [&](const float* mask, Index y, Index x, Index ch,
                               typename Store::type* dst) {
    const Index offset = y * strides.y + x * strides.x + ch * strides.channel;
    const auto taps =
        detail::mask_taps(row_taps[y], column_taps[x], grid, params.per_channel ? c : Index{1},
                          params.per_channel ? ch : Index{0});
    const float m = detail::mask_value<Bilinear>(mask, taps);
    const float fill = fill_source != nullptr ? fill_source[offset] : baseline;
    dst[offset] = Store::encode(detail::perturbed_value(kind, image.data[offset], m, fill, sigma));
  };

  if (nhwc) {
#pragma omp parallel for collapse(2) schedule(static)
    for (Index mask = 0; mask < num_masks; ++mask) {
      for (Index y = 0; y < h; ++y) {
        for (Index x = 0; x < w; ++x) {
          for (Index ch = 0; ch < c; ++ch) {
            write_pixel(masks + mask * cells, y, x, ch, out + mask * image_size);
          }
        }
      }
    }
  } else {
#pragma omp parallel for collapse(3) schedule(static)
    for (Index mask = 0; mask < num_masks; ++mask) {
      for (Index ch = 0; ch < c; ++ch) {
        for (Index y = 0; y < h; ++y) {
          for (Index x = 0; x < w; ++x) {
            write_pixel(masks + mask * cells, y, x, ch, out + mask * image_size);
          }
        }
      }
    }
  }
}

template <bool Bilinear>
void perturb_typed(ConstImageView image, const float* masks, Index num_masks,
                   const PerturbationParams& params, const float* blurred, void* out,
                   DType out_type) {
  switch (out_type) {
    case DType::f32:
      return perturb_walk<Bilinear, detail::StoreF32>(image, masks, num_masks, params, blurred,
                                                      static_cast<float*>(out));
    case DType::f16:
      return perturb_walk<Bilinear, detail::StoreF16>(image, masks, num_masks, params, blurred,
                                                      static_cast<std::uint16_t*>(out));
    case DType::bf16:
      return perturb_walk<Bilinear, detail::StoreBF16>(image, masks, num_masks, params, blurred,
                                                       static_cast<std::uint16_t*>(out));
  }
}

}  // namespace

void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out) {
  const Index n = images.n, c = images.c, h = images.h, w = images.w;
  const Index image_size = images.image_size();
  const Strides strides = strides_of(images);
  // Separable: horizontal window sums into a temporary, then vertical sums of
  // those. `out` may alias `images`: the second pass only reads the temporary.
  Buffer<float> row_sums(ctx, images.size());
  float* sums = row_sums.data();

#pragma omp parallel for collapse(3) schedule(static)
  for (Index image = 0; image < n; ++image) {
    for (Index ch = 0; ch < c; ++ch) {
      for (Index y = 0; y < h; ++y) {
        const Index row = image * image_size + ch * strides.channel + y * strides.y;
        for (Index x = 0; x < w; ++x) {
          sums[row + x * strides.x] =
              detail::box_window_sum(images.data + row, strides.x, w, x, blur_size);
        }
      }
    }
  }

  const float area = static_cast<float>(static_cast<double>(blur_size) * blur_size);
#pragma omp parallel for collapse(3) schedule(static)
  for (Index image = 0; image < n; ++image) {
    for (Index ch = 0; ch < c; ++ch) {
      for (Index y = 0; y < h; ++y) {
        for (Index x = 0; x < w; ++x) {
          const Index column = image * image_size + ch * strides.channel + x * strides.x;
          out.data[column + y * strides.y] = detail::div_rounded<detail::Rounding::nearest>(
              detail::box_window_sum(sums + column, strides.y, h, y, blur_size), area);
        }
      }
    }
  }
}

void perturb(const Context&, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type) {
  if (num_masks == 0) return;
  if (params.interpolation == Interpolation::bilinear) {
    perturb_typed<true>(image, masks, num_masks, params, blurred, out, out_type);
  } else {
    perturb_typed<false>(image, masks, num_masks, params, blurred, out, out_type);
  }
}

}  // namespace cuxplain::kernels::cpu
