#pragma once
// Per-element math of the baseline explainers (baselines.hpp), shared by the
// host and CUDA backends: occlusion patches, RISE's shifted bilinear masks
// and KernelSHAP's coalitions. Random numbers come from cuRAND's Philox
// stream (philox.hpp), so that both backends draw the same masks.
#include <cstdint>

#include "../core/conventions.hpp"
#include "../core/options.hpp"
#include "hd.hpp"
#include "perturbation.hpp"
#include "philox.hpp"

namespace cuxplain::detail {

// ---------------------------------------------------------------- occlusion

/// Patch grid of Occlusion on one image: count_h x count_w patches of
/// patch_h x patch_w pixels anchored every stride pixels.
struct OcclusionGeometry {
  std::int64_t patch_h, patch_w, stride_h, stride_w, count_h, count_w;
};

/// xplique's anchor count on one axis: ceil((side - patch + 1) / stride).
CUXPLAIN_HD std::int64_t occlusion_axis_count(std::int64_t side, std::int64_t patch,
                                              std::int64_t stride) {
  const std::int64_t span = side - patch + 1;
  return span <= 0 ? 0 : (span + stride - 1) / stride;
}

/// Whether patch `patch` (row-major over the anchors) covers pixel (y, x).
CUXPLAIN_HD bool occlusion_covers(const OcclusionGeometry& g, std::int64_t patch, std::int64_t y,
                                  std::int64_t x) {
  const std::int64_t top = (patch / g.count_w) * g.stride_h;
  const std::int64_t left = (patch % g.count_w) * g.stride_w;
  return y >= top && y < top + g.patch_h && x >= left && x < left + g.patch_w;
}

/// First and one-past-last anchor index on one axis whose patch covers
/// coordinate `at`: anchors k with k * stride <= at < k * stride + patch.
struct AnchorRange {
  std::int64_t first, last;
};

CUXPLAIN_HD AnchorRange occlusion_anchors(std::int64_t at, std::int64_t patch,
                                          std::int64_t stride, std::int64_t count) {
  const std::int64_t low = at - patch + 1;
  std::int64_t first = low <= 0 ? 0 : (low + stride - 1) / stride;
  std::int64_t last = at / stride + 1;
  if (last > count) last = count;
  if (first > last) first = last;
  return {first, last};
}

/// Occlusion's score at pixel (y, x) from the outputs of one image: row 0
/// unoccluded, row 1 + k with patch k occluded. The sum over covering
/// patches of (base - occluded) in double, in patch order.
CUXPLAIN_HD float occlusion_score(const OcclusionGeometry& g, const float* outputs,
                                  std::int64_t y, std::int64_t x) {
  const AnchorRange rows = occlusion_anchors(y, g.patch_h, g.stride_h, g.count_h);
  const AnchorRange cols = occlusion_anchors(x, g.patch_w, g.stride_w, g.count_w);
  const float base = outputs[0];
  double sum = 0.0;
  for (std::int64_t ky = rows.first; ky < rows.last; ++ky) {
    for (std::int64_t kx = cols.first; kx < cols.last; ++kx) {
      sum += static_cast<double>(base - outputs[1 + ky * g.count_w + kx]);
    }
  }
  return static_cast<float>(sum);
}

// --------------------------------------------------------------------- RISE

/// How RISE stretches a grid_size mask over one image axis: the upsampled
/// canvas and the range of shifts [0, shift_range).
struct RiseAxis {
  std::int64_t canvas;
  std::int64_t shift_range;
};

/// paper: canvas (g + 1) * ceil(side / g), shifts in [0, ceil(side / g));
/// xplique: canvas int(side * (1 + 1 / g)) in double (Python's arithmetic),
/// shifts in [0, canvas - side] (tf.image.random_crop).
inline RiseAxis rise_axis(Convention convention, std::int64_t side, std::int64_t grid) {
  if (convention == Convention::paper) {
    const std::int64_t cell = (side + grid - 1) / grid;
    return {(grid + 1) * cell, cell};
  }
  const auto canvas = static_cast<std::int64_t>(static_cast<double>(side) *
                                                (1.0 + 1.0 / static_cast<double>(grid)));
  return {canvas, canvas - side + 1};
}

/// Cell `cell` of RISE mask `mask`: 1 (kept) when cuRAND's uniform at
/// stream position mask * cells + cell is below the preservation probability.
CUXPLAIN_HD float rise_cell(std::uint64_t seed, std::int64_t mask, std::int64_t cells,
                            std::int64_t cell, float probability) {
  const std::uint64_t position = kRegionMasks + static_cast<std::uint64_t>(mask * cells + cell);
  return curand_philox_uniform(seed, position) < probability ? 1.0f : 0.0f;
}

/// The shift of one axis (0: rows, 1: columns) for row `mask` of `image`:
/// per mask (paper), or per image and batch of batch_size masks (xplique:
/// draw (image * batches + mask / batch_size)), uniform in [0, range).
CUXPLAIN_HD std::int64_t rise_shift(std::uint64_t seed, Convention convention,
                                    std::int64_t image, std::int64_t mask, std::int64_t masks,
                                    std::int64_t batch_size, int axis, std::int64_t range) {
  std::int64_t draw = mask;
  if (convention == Convention::xplique) {
    const std::int64_t batches = (masks + batch_size - 1) / batch_size;
    draw = image * batches + mask / batch_size;
  }
  const std::uint64_t position = kRegionShifts + static_cast<std::uint64_t>(2 * draw + axis);
  return static_cast<std::int64_t>(
      uniform_below(curand_philox_bits(seed, position), static_cast<std::uint64_t>(range)));
}

/// Where canvas coordinate `at` of an axis of `canvas` pixels reads a RISE
/// mask of `grid` cells: bilinear, half-pixel centres, edges clamped
/// (tf.image.resize). Tabulated once per call for every canvas coordinate.
CUXPLAIN_HD MaskAxisTap<std::int64_t> rise_axis_tap(std::int64_t at, std::int64_t grid,
                                                    std::int64_t canvas) {
  return mask_axis_tap(Interpolation::bilinear, at, grid, canvas);
}

/// Value of a RISE mask (its grid x grid cells at `cells`) at an image pixel
/// whose shifted canvas coordinates read taps `ty` and `tx`.
CUXPLAIN_HD float rise_mask_value(const float* cells, std::int64_t grid,
                                  const MaskAxisTap<std::int64_t>& ty,
                                  const MaskAxisTap<std::int64_t>& tx) {
  return mask_value<true>(cells, mask_taps(ty, tx, grid, std::int64_t{1}, std::int64_t{0}));
}

/// RISE's saliency at a pixel from its sums over the N masks:
/// paper sum(g m) / (N p); xplique sum(g m) / (sum m + 1e-4).
CUXPLAIN_HD float rise_saliency(Convention convention, double weighted, double mask_sum,
                                std::int64_t masks, float probability) {
  if (convention == Convention::paper) {
    return static_cast<float>(weighted / (static_cast<double>(masks) * probability));
  }
  return static_cast<float>(weighted / (mask_sum + 1e-4));
}

// --------------------------------------------------------------- KernelSHAP

/// Coalition size of KernelSHAP's sample `sample` of image `image`: the
/// smallest k in [1, cells - 1] whose cumulative probability (cdf[k - 1],
/// cdf[cells - 2] = 1) reaches cuRAND's uniform at kRegionSubsetSizes +
/// image * samples + sample.
CUXPLAIN_HD std::int64_t kernel_shap_size(std::uint64_t seed, std::int64_t image,
                                          std::int64_t samples, std::int64_t sample,
                                          const double* cdf, std::int64_t cells) {
  const double u = curand_philox_uniform(
      seed, kRegionSubsetSizes + static_cast<std::uint64_t>(image * samples + sample));
  std::int64_t low = 0, high = cells - 2;  // the answer's index in cdf
  while (low < high) {
    const std::int64_t mid = (low + high) / 2;
    if (cdf[mid] >= u) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return low + 1;
}

/// Random key of cell `cell` in KernelSHAP's sample (stream position
/// (image * samples + sample) * cells + cell).
CUXPLAIN_HD std::uint32_t kernel_shap_key(std::uint64_t seed, std::int64_t image,
                                          std::int64_t samples, std::int64_t sample,
                                          std::int64_t cells, std::int64_t cell) {
  return curand_philox_bits(
      seed, kRegionMasks + static_cast<std::uint64_t>((image * samples + sample) * cells + cell));
}

/// Rank of cell `cell`'s key among the sample's `cells` keys, largest first
/// (ties to the lower cell): the cell is in a coalition of `size` cells when
/// its rank is below `size`. Ranks are below 2^24 (cells is), exact as floats.
CUXPLAIN_HD std::int64_t kernel_shap_key_rank(const std::uint32_t* keys, std::int64_t cells,
                                              std::int64_t cell) {
  const std::uint32_t key = keys[cell];
  std::int64_t rank = 0;
  for (std::int64_t c = 0; c < cells; ++c) {
    rank += (keys[c] > key || (keys[c] == key && c < cell)) ? 1 : 0;
  }
  return rank;
}

}  // namespace cuxplain::detail
