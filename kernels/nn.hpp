#pragma once
// Network stack ops (see include/cuxplain/nn.hpp), one declaration per
// backend. Shapes are per sample; every pointer is on ctx's device; n >= 1.
// The math is include/cuxplain/detail/nn.hpp; the backends walk it.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/nn.hpp>

#define CUXPLAIN_DECLARE_NN_OPS                                                                \
  /* Convolution (and dense, as a 1 x 1 ConvGeometry) by im2col + GEMM. */                    \
  void nn_conv_forward(const Context& ctx, const detail::ConvGeometry& g, const float* weight,  \
                       const float* bias, bool relu, const float* x, std::int64_t n,            \
                       float* y);                                                               \
  /* Plain-mode bounds: centre and radius columns, W mu and |W| r GEMMs. */                     \
  void nn_conv_bounds(const Context& ctx, const detail::ConvGeometry& g, const float* weight,   \
                      const float* abs_weight, const float* bias, bool relu, const float* l,   \
                      const float* u, std::int64_t n, float* lo, float* hi);                   \
  /* Sound-mode bounds of a conv or dense layer: directed fmas, no BLAS. */                     \
  void nn_affine_bounds_sound(const Context& ctx, const detail::ConvGeometry& g,               \
                              const float* weight, const float* bias, bool relu,               \
                              const float* l, const float* u, std::int64_t n, float* lo,       \
                              float* hi);                                                      \
  void nn_dense_forward(const Context& ctx, std::int64_t inputs, std::int64_t outputs,         \
                        const float* weight, const float* bias, bool relu, const float* x,     \
                        std::int64_t n, float* y);                                              \
  void nn_dense_bounds(const Context& ctx, std::int64_t inputs, std::int64_t outputs,          \
                       const float* weight, const float* abs_weight, const float* bias,        \
                       bool relu, const float* l, const float* u, std::int64_t n, float* lo,   \
                       float* hi);                                                             \
  /* y = scale[c] x + shift[c] per channel of `plane` elements. */                              \
  void nn_channel_affine(const Context& ctx, std::int64_t channels, std::int64_t plane,        \
                         const float* scale, const float* shift, bool relu, const float* x,    \
                         std::int64_t n, float* y);                                             \
  void nn_channel_affine_bounds(const Context& ctx, std::int64_t channels, std::int64_t plane, \
                                const float* scale, const float* shift, bool relu, bool sound, \
                                const float* l, const float* u, std::int64_t n, float* lo,     \
                                float* hi);                                                    \
  void nn_relu(const Context& ctx, const float* x, std::int64_t count, float* y);              \
  void nn_max_pool(const Context& ctx, const detail::PoolGeometry& g, const float* x,          \
                   std::int64_t n, float* y);                                                   \
  void nn_avg_pool(const Context& ctx, const detail::PoolGeometry& g, detail::Rounding rounding, \
                   const float* x, std::int64_t n, float* y);                                   \
  void nn_global_avg_pool(const Context& ctx, std::int64_t channels, std::int64_t plane,       \
                          detail::Rounding rounding, const float* x, std::int64_t n, float* y); \
  void nn_add(const Context& ctx, const float* a, const float* b, std::int64_t count,          \
              bool relu, detail::Rounding rounding, float* y);                                  \
  /* margins[i][j] >= max over the box (l, u) of (W_j - W_t) x + b_j - b_t,                  \
     t = targets[i] (on ctx's device); the last layer is dense. */                             \
  void nn_margins_folded(const Context& ctx, std::int64_t inputs, std::int64_t outputs,        \
                         const float* weight, const float* bias, bool sound, const float* l,   \
                         const float* u, std::int64_t n, const int* targets, float* margins);  \
  /* margins[i][j] = hi[i][j] - lo[i][t] (rounded up when sound), 0 for j = t. */              \
  void nn_margins_from_bounds(const Context& ctx, std::int64_t outputs, bool sound,           \
                              const float* lo, const float* hi, std::int64_t n,                \
                              const int* targets, float* margins);                             \
  /* The first index where l <= u, both finite, fails, or -1. Synchronizes on CUDA. */     \
  std::int64_t nn_first_inverted(const Context& ctx, const float* l, const float* u,          \
                                 std::int64_t count);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_NN_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_NN_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_NN_OPS
