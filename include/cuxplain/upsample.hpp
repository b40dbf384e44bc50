#pragma once
// Cell scores to full-resolution heatmaps.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Resizes n grids of grid_h x grid_w cells to n heatmaps of h x w, as
/// cv2.resize does on float32 images:
///  - Interpolation::bicubic (INTER_CUBIC): half-pixel centres, source
///    coordinate (dst + 0.5) * grid / size - 0.5, Keys cubic convolution with
///    a = -0.75 over 4 x 4 neighbours, neighbours outside the grid clamped to
///    the edge (BORDER_REPLICATE); horizontal pass, then vertical, in float.
///    Matches cv2 to about 1e-6; a same-size resize is an exact copy.
///  - Interpolation::bicubic_tensorflow: tf.image.resize(method="bicubic")
///    (TensorFlow's ResizeBicubic, half-pixel centres, no antialiasing), as
///    xplique resizes its Sobol and HSIC grids to the input: Keys a = -0.5
///    from TensorFlow's 1024-step weight table, taps outside the grid dropped
///    and the rest renormalized, the vertical pass first; the same bits as
///    TensorFlow's CPU kernel (detail/upsample.hpp, tf_cubic_taps).
///  - Interpolation::nearest (INTER_NEAREST, PyTorch's "nearest"):
///    src = min(floor(dst * grid / size), grid - 1), exact.
/// Other Interpolation values are rejected.
///
/// cells: n x grid_h x grid_w x channels floats, out: n x h x w x channels
/// floats (channels interleaved, channel fastest; channels = 1 is a plain
/// stack of maps), both on ctx's device. CUDA work is enqueued on
/// ctx.stream() without synchronizing (the bicubics take (h + w) * 48 bytes of
/// temporary memory from ctx's allocator). Throws cuxplain::Error on a null
/// pointer, memory on the wrong device, a size < 1 or another method.
void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out,
              Interpolation method = Interpolation::bicubic, std::int64_t channels = 1);

}  // namespace cuxplain
