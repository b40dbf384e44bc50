#include "affine.hpp"

#include <algorithm>

#include "../../kernels/dispatch.hpp"
#include "../../kernels/nn.hpp"

namespace cuxplain::detail {

std::int64_t conv_workspace_floats(const ConvGeometry& g, std::int64_t n, bool bounds) {
  const std::int64_t chunk = conv_chunk_samples(g, n);
  // Column matrix and GEMM panel (two of each for bounds: centre, radius).
  return (bounds ? 2 : 1) * (g.col_rows() + g.out_c) * chunk * g.out_plane();
}

std::int64_t dense_workspace_floats(const ConvGeometry& g, std::int64_t n, bool bounds) {
  // Forward writes its GEMM's output in place; bounds need the centres and
  // radii of a chunk of rows.
  return bounds ? 2 * dense_chunk_rows(g.in_c, g.out_c, n) * g.in_c : 0;
}

namespace {

/// panel = W cols, one GEMM per group: group q's out_c / groups rows of W
/// (patch() weights each) times its patch() rows of the column matrix.
void grouped_gemm(const Context& ctx, const ConvGeometry& g, const float* weight,
                  const float* cols, std::int64_t width, float* panel) {
  const std::int64_t k_count = g.patch(), rows = g.out_c / g.groups;
  for (std::int64_t q = 0; q < g.groups; ++q) {
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, rows, width, k_count, 1.0f,
                      weight + q * rows * k_count, k_count, cols + q * k_count * width, width,
                      0.0f, panel + q * rows * width, width);
  }
}

}  // namespace

void conv_forward(const Context& ctx, const ConvGeometry& g, const float* weight,
                  const float* bias, bool relu, const float* x, std::int64_t n, float* y,
                  float* workspace) {
  const std::int64_t plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t chunk = conv_chunk_samples(g, n);
  float* cols = workspace;
  float* panel = workspace + g.col_rows() * chunk * plane;
  for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
    const std::int64_t samples = std::min(chunk, n - s0);
    const std::int64_t width = samples * plane;
    CUXPLAIN_DISPATCH(ctx, nn_im2col, g, x + s0 * g.in_size(), samples, cols);
    grouped_gemm(ctx, g, weight, cols, width, panel);
    CUXPLAIN_DISPATCH(ctx, nn_conv_epilogue, panel, bias, relu, out_c, plane, samples,
                      y + s0 * g.out_size());
  }
}

void conv_bounds(const Context& ctx, const ConvGeometry& g, const float* weight,
                 const float* abs_weight, const float* bias, bool relu, const float* l,
                 const float* u, std::int64_t n, float* lo, float* hi, float* workspace) {
  const std::int64_t rows = g.col_rows(), plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t chunk = conv_chunk_samples(g, n);
  float* centre_cols = workspace;
  float* radius_cols = centre_cols + rows * chunk * plane;
  float* centre_panel = radius_cols + rows * chunk * plane;
  float* radius_panel = centre_panel + out_c * chunk * plane;
  for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
    const std::int64_t samples = std::min(chunk, n - s0);
    const std::int64_t width = samples * plane;
    CUXPLAIN_DISPATCH(ctx, nn_im2col_bounds, g, l + s0 * g.in_size(), u + s0 * g.in_size(),
                      samples, centre_cols, radius_cols);
    grouped_gemm(ctx, g, weight, centre_cols, width, centre_panel);
    grouped_gemm(ctx, g, abs_weight, radius_cols, width, radius_panel);
    CUXPLAIN_DISPATCH(ctx, nn_conv_bounds_epilogue, centre_panel, radius_panel, bias, relu, out_c,
                      plane, samples, lo + s0 * g.out_size(), hi + s0 * g.out_size());
  }
}

void dense_forward(const Context& ctx, const ConvGeometry& g, const float* weight,
                   const float* bias, bool relu, const float* x, std::int64_t n, float* y) {
  const std::int64_t inputs = g.in_c, outputs = g.out_c;
  const std::int64_t chunk = dense_chunk_rows(inputs, outputs, n);
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, rows, outputs, inputs, 1.0f, x + r0 * inputs,
                      inputs, weight, inputs, 0.0f, y + r0 * outputs, outputs);
  }
  CUXPLAIN_DISPATCH(ctx, nn_bias, y, bias, relu, n, outputs);
}

void dense_bounds(const Context& ctx, const ConvGeometry& g, const float* weight,
                  const float* abs_weight, const float* bias, bool relu, const float* l,
                  const float* u, std::int64_t n, float* lo, float* hi, float* workspace) {
  const std::int64_t inputs = g.in_c, outputs = g.out_c;
  const std::int64_t chunk = dense_chunk_rows(inputs, outputs, n);
  float* centre = workspace;
  float* radius = workspace + chunk * inputs;
  for (std::int64_t r0 = 0; r0 < n; r0 += chunk) {
    const std::int64_t rows = std::min(chunk, n - r0);
    CUXPLAIN_DISPATCH(ctx, nn_centre_radius, l + r0 * inputs, u + r0 * inputs, rows * inputs,
                      centre, radius);
    // lo <- W mu, hi <- |W| r, then the epilogue in place.
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, rows, outputs, inputs, 1.0f, centre, inputs, weight,
                      inputs, 0.0f, lo + r0 * outputs, outputs);
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, rows, outputs, inputs, 1.0f, radius, inputs,
                      abs_weight, inputs, 0.0f, hi + r0 * outputs, outputs);
  }
  CUXPLAIN_DISPATCH(ctx, nn_bounds_epilogue, lo, hi, bias, relu, n, outputs);
}

}  // namespace cuxplain::detail
