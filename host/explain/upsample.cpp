// Public entry of heatmap upsampling: argument checks, then the backend.
#include <cuxplain/core/error.hpp>
#include <cuxplain/upsample.hpp>

#include "../../kernels/upsample.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {

void upsample(const Context& ctx, const float* cells, std::int64_t n, std::int64_t grid_h,
              std::int64_t grid_w, std::int64_t h, std::int64_t w, float* out, Interpolation method,
              std::int64_t channels) {
  detail::expect_on_device(ctx, cells, "upsample: cells");
  detail::expect_on_device(ctx, out, "upsample: out");
  CUXPLAIN_EXPECTS(n >= 1, "upsample: n must be >= 1, got ", n);
  CUXPLAIN_EXPECTS(grid_h >= 1, "upsample: grid_h must be >= 1, got ", grid_h);
  CUXPLAIN_EXPECTS(grid_w >= 1, "upsample: grid_w must be >= 1, got ", grid_w);
  CUXPLAIN_EXPECTS(h >= 1, "upsample: h must be >= 1, got ", h);
  CUXPLAIN_EXPECTS(w >= 1, "upsample: w must be >= 1, got ", w);
  CUXPLAIN_EXPECTS(channels >= 1, "upsample: channels must be >= 1, got ", channels);
  CUXPLAIN_EXPECTS(method == Interpolation::bicubic ||
                       method == Interpolation::bicubic_tensorflow ||
                       method == Interpolation::nearest,
                   "upsample: method must be bicubic, bicubic_tensorflow or nearest, got ",
                   to_string(method));
  CUXPLAIN_DISPATCH(ctx, upsample, cells, n, grid_h, grid_w, h, w, out, method, channels);
}

}  // namespace cuxplain
