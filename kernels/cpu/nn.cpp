// The CPU backend of kernels/nn.inl, and the ops it walks its own way: the
// sound affine bounds and the folded margins as loops whose sums run in the
// order the CUDA tiles use (so that both give the same bits), and the box
// check as an OpenMP min-reduction.
#include "backend.hpp"

#include "../nn.inl"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cuxplain::kernels::cpu {

using detail::ConvGeometry;
using detail::Rounding;

void nn_affine_bounds_sound(const Context&, const ConvGeometry& g, const float* weight,
                            const float* bias, bool relu, const float* l, const float* u,
                            std::int64_t n, float* lo, float* hi) {
  // Each output sums its K terms in order k = (c, ky, kx) = 0..K-1 starting
  // from the bias, padding reading 0: the order kernels/cuda/nn.cu uses too.
  // Loops: k outside, the output plane inside (one accumulator per output),
  // so the (c, ky, kx) and row arithmetic is done once per k and row.
  const std::int64_t k_count = g.patch(), plane = g.out_plane(), out_c = g.out_c;
  const std::int64_t in_size = g.in_size();
  const bool dense = g.in_h == 1 && g.in_w == 1 && g.kernel_h == 1 && g.kernel_w == 1 &&
                     g.out_h == 1 && g.out_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                     g.groups == 1;
  if (dense) {  // detail::dense_geometry: term k reads input k
#pragma omp parallel for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        const float* w = weight + o * k_count;
        const float* sl = l + s * in_size;
        const float* su = u + s * in_size;
        float a = bias[o], b = bias[o];
        for (std::int64_t k = 0; k < k_count; ++k) detail::sound_affine_step(w[k], sl[k], su[k], a, b);
        lo[s * out_c + o] = relu ? detail::relu_value(a) : a;
        hi[s * out_c + o] = relu ? detail::relu_value(b) : b;
      }
    }
    return;
  }
  // Plain locals: the loop bounds are not re-read through `g` after each store.
  const std::int64_t in_h = g.in_h, in_w = g.in_w, out_h = g.out_h, out_w = g.out_w;
  const std::int64_t group_c = g.in_c / g.groups, group_out = g.out_c / g.groups;
  const std::int64_t kernel_h = g.kernel_h, kernel_w = g.kernel_w;
  const std::int64_t dilation_h = g.dilation_h, dilation_w = g.dilation_w;
  const std::int64_t stride_h = g.stride_h, stride_w = g.stride_w;
  const std::int64_t pad_top = g.pad_top, pad_left = g.pad_left;
#pragma omp parallel
  {
    std::vector<float> acc_lo(static_cast<std::size_t>(plane)), acc_hi(acc_lo.size());
#pragma omp for collapse(2) schedule(static)
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t o = 0; o < out_c; ++o) {
        float* const al = acc_lo.data();
        float* const ah = acc_hi.data();
        std::fill(al, al + plane, bias[o]);
        std::fill(ah, ah + plane, bias[o]);
        const float* sl = l + s * in_size;
        const float* su = u + s * in_size;
        const float* w = weight + o * k_count;
        // Output channel o reads the group_c input channels of its group.
        const std::int64_t c0 = o / group_out * group_c;
        for (std::int64_t c = c0, k = 0; c < c0 + group_c; ++c) {
          for (std::int64_t ky = 0; ky < kernel_h; ++ky) {
            for (std::int64_t kx = 0; kx < kernel_w; ++kx, ++k) {
              const float wk = w[k];
              for (std::int64_t oy = 0; oy < out_h; ++oy) {
                const std::int64_t iy = oy * stride_h - pad_top + ky * dilation_h;
                float* row_lo = al + oy * out_w;
                float* row_hi = ah + oy * out_w;
                const bool row_ok = iy >= 0 && iy < in_h;
                const float* rl = sl + (c * in_h + (row_ok ? iy : 0)) * in_w;
                const float* ru = su + (c * in_h + (row_ok ? iy : 0)) * in_w;
                for (std::int64_t ox = 0; ox < out_w; ++ox) {
                  const std::int64_t ix = ox * stride_w - pad_left + kx * dilation_w;
                  const bool ok = row_ok && ix >= 0 && ix < in_w;
                  float a = row_lo[ox], b = row_hi[ox];  // locals: no aliasing with the inputs
                  detail::sound_affine_step(wk, ok ? rl[ix] : 0.0f, ok ? ru[ix] : 0.0f, a, b);
                  row_lo[ox] = a;
                  row_hi[ox] = b;
                }
              }
            }
          }
        }
        float* out_lo = lo + (s * out_c + o) * plane;
        float* out_hi = hi + (s * out_c + o) * plane;
        for (std::int64_t p = 0; p < plane; ++p) {
          out_lo[p] = relu ? detail::relu_value(al[p]) : al[p];
          out_hi[p] = relu ? detail::relu_value(ah[p]) : ah[p];
        }
      }
    }
  }
}

void nn_margins_folded(const Context&, std::int64_t inputs, std::int64_t outputs,
                       const float* weight, const float* bias, bool sound, const float* l,
                       const float* u, std::int64_t n, const int* targets, float* margins) {
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t j = 0; j < outputs; ++j) {
      const std::int64_t t = targets[s];
      float acc = 0.0f;
      if (j != t) {
        const float* wj = weight + j * inputs;
        const float* wt = weight + t * inputs;
        const float* sl = l + s * inputs;
        const float* su = u + s * inputs;
        if (sound) {
          acc = detail::add_rounded<Rounding::up>(bias[j], -bias[t]);
          for (std::int64_t i = 0; i < inputs; ++i)
            acc = detail::sound_margin_step(wj[i], wt[i], sl[i], su[i], acc);
        } else {
          acc = bias[j] - bias[t];
          for (std::int64_t i = 0; i < inputs; ++i)
            acc = detail::margin_step(wj[i], wt[i], sl[i], su[i], acc);
        }
      }
      margins[s * outputs + j] = acc;
    }
  }
}

std::int64_t nn_first_inverted(const Context&, const float* l, const float* u,
                               std::int64_t count) {
  std::int64_t first = count;
#pragma omp parallel for reduction(min : first) schedule(static)
  for (std::int64_t i = 0; i < count; ++i) {
    if (!(l[i] <= u[i] && std::isfinite(l[i]) && std::isfinite(u[i])) && i < first) first = i;
  }
  return first == count ? -1 : first;
}

}  // namespace cuxplain::kernels::cpu
