#pragma once
// Network stack ops (see include/cuxplain/nn.hpp), declared for both
// backends: written once in kernels/nn.inl but for the sound affine bounds,
// the folded margins and the box check, which each backend walks its own way.
// host/nn runs convolutions and dense layers from these (im2col, the
// contract's GEMM, an epilogue) in chunks of the batch. Shapes are per
// sample; every pointer is on ctx's device; n >= 1. The math is
// include/cuxplain/detail/nn.hpp.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/nn.hpp>

#define CUXPLAIN_DECLARE_NN_OPS                                                                \
  /* Column matrix cols[k][s * plane + p] of `samples` samples starting at x. */               \
  void nn_im2col(const Context& ctx, const detail::ConvGeometry& g, const float* x,           \
                 std::int64_t samples, float* cols);                                           \
  /* Centre and radius column matrices of the boxes [l, u]. */                                 \
  void nn_im2col_bounds(const Context& ctx, const detail::ConvGeometry& g, const float* l,    \
                        const float* u, std::int64_t samples, float* centre_cols,             \
                        float* radius_cols);                                                   \
  /* y[s][o][p] = act(panel[o][s * plane + p] + bias[o]) (NCHW from the GEMM panel). */        \
  void nn_conv_epilogue(const Context& ctx, const float* panel, const float* bias, bool relu, \
                        std::int64_t out_c, std::int64_t plane, std::int64_t samples,         \
                        float* y);                                                             \
  /* The interval epilogue (detail::affine_interval) of the centre and radius panels. */      \
  void nn_conv_bounds_epilogue(const Context& ctx, const float* centre_panel,                 \
                               const float* radius_panel, const float* bias, bool relu,       \
                               std::int64_t out_c, std::int64_t plane, std::int64_t samples,  \
                               float* lo, float* hi);                                          \
  /* y[r][o] = act(y[r][o] + bias[o]) in place (rows x outputs). */                           \
  void nn_bias(const Context& ctx, float* y, const float* bias, bool relu, std::int64_t rows, \
               std::int64_t outputs);                                                          \
  void nn_centre_radius(const Context& ctx, const float* l, const float* u, std::int64_t count, \
                        float* centre, float* radius);                                         \
  /* lo = W mu, hi = |W| r in; the output box out (rows x outputs, in place). */               \
  void nn_bounds_epilogue(const Context& ctx, float* lo, float* hi, const float* bias,         \
                          bool relu, std::int64_t rows, std::int64_t outputs);                 \
  /* Sound-mode bounds of a conv or dense layer: directed fmas, no BLAS. */                     \
  void nn_affine_bounds_sound(const Context& ctx, const detail::ConvGeometry& g,               \
                              const float* weight, const float* bias, bool relu,               \
                              const float* l, const float* u, std::int64_t n, float* lo,       \
                              float* hi);                                                      \
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
  void nn_activation(const Context& ctx, const detail::ActivationParams& a, const float* x,     \
                     std::int64_t count, float* y);                                             \
  void nn_activation_bounds(const Context& ctx, const detail::ActivationParams& a, bool sound, \
                            const float* l, const float* u, std::int64_t count, float* lo,     \
                            float* hi);                                                        \
  /* y = x op b elementwise over n samples of channels x h x w, b broadcast. */                 \
  void nn_binary(const Context& ctx, detail::BinaryOp op, const detail::Broadcast& b,          \
                 std::int64_t channels, std::int64_t h, std::int64_t w, const float* x,        \
                 const float* bx, std::int64_t n, float* y);                                    \
  void nn_binary_bounds(const Context& ctx, detail::BinaryOp op, const detail::Broadcast& b,   \
                        std::int64_t channels, std::int64_t h, std::int64_t w, bool sound,     \
                        const float* al, const float* au, const float* bl, const float* bu,    \
                        std::int64_t n, float* lo, float* hi);                                 \
  /* y[s * out_size + offset + e] = x[s * in_size + e] (a slice of a concatenation). */         \
  void nn_copy_block(const Context& ctx, const float* x, std::int64_t n, std::int64_t in_size, \
                     float* y, std::int64_t out_size, std::int64_t offset);                    \
  void nn_pad(const Context& ctx, const detail::PadGeometry& g, const float* x,               \
              std::int64_t n, float* y);                                                        \
  void nn_transpose(const Context& ctx, const detail::TransposeGeometry& g, const float* x,    \
                    std::int64_t n, float* y);                                                  \
  /* Softmax of each of n rows of k values, and its interval rule. */                          \
  void nn_softmax(const Context& ctx, std::int64_t k, const float* x, std::int64_t n, float* y); \
  void nn_softmax_bounds(const Context& ctx, std::int64_t k, bool sound, const float* l,       \
                         const float* u, std::int64_t n, float* lo, float* hi);                \
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
