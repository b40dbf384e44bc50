#pragma once
// Convolutions and dense layers on either backend, orchestrated once: im2col
// (or the boxes' centres and radii), the contract's GEMM, an epilogue, in
// chunks of the batch (detail::conv_chunk_samples, dense_chunk_rows) so
// that the workspace stays bounded whatever the batch. The workspace comes
// from the caller (the network's memory plan, plan.hpp).
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/nn.hpp>

namespace cuxplain::detail {

/// Floats of workspace a conv or dense layer of geometry g needs for a batch
/// of n: forward, or plain-mode bounds (sound bounds need none).
std::int64_t conv_workspace_floats(const ConvGeometry& g, std::int64_t n, bool bounds);
std::int64_t dense_workspace_floats(const ConvGeometry& g, std::int64_t n, bool bounds);

/// y = act(conv(x) + bias) for n samples.
void conv_forward(const Context& ctx, const ConvGeometry& g, const float* weight,
                  const float* bias, bool relu, const float* x, std::int64_t n, float* y,
                  float* workspace);

/// Plain-mode interval bounds of a convolution: W mu and |W| r GEMMs.
void conv_bounds(const Context& ctx, const ConvGeometry& g, const float* weight,
                 const float* abs_weight, const float* bias, bool relu, const float* l,
                 const float* u, std::int64_t n, float* lo, float* hi, float* workspace);

/// y = act(x W^T + bias) for n rows (g: detail::dense_geometry).
void dense_forward(const Context& ctx, const ConvGeometry& g, const float* weight,
                   const float* bias, bool relu, const float* x, std::int64_t n, float* y);

/// Plain-mode interval bounds of a dense layer.
void dense_bounds(const Context& ctx, const ConvGeometry& g, const float* weight,
                  const float* abs_weight, const float* bias, bool relu, const float* l,
                  const float* u, std::int64_t n, float* lo, float* hi, float* workspace);

}  // namespace cuxplain::detail
