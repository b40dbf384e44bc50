#pragma once
// Reference network ops in double precision, written as the textbook loops
// (direct convolution, explicit windows, the unfolded batch-norm formula),
// independently of cuxplain's im2col / GEMM / folding code. One sample at a
// time; tensors are C x H x W.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace cuxplain::reference {

struct Tensor {
  std::int64_t c = 0, h = 1, w = 1;
  std::vector<double> v;

  Tensor() = default;
  Tensor(std::int64_t channels, std::int64_t height, std::int64_t width)
      : c(channels), h(height), w(width), v(static_cast<std::size_t>(channels * height * width)) {}
  double& at(std::int64_t ch, std::int64_t y, std::int64_t x) {
    return v[static_cast<std::size_t>((ch * h + y) * w + x)];
  }
  double at(std::int64_t ch, std::int64_t y, std::int64_t x) const {
    return v[static_cast<std::size_t>((ch * h + y) * w + x)];
  }
  std::int64_t size() const { return c * h * w; }
};

inline Tensor tensor_from(const float* data, std::int64_t c, std::int64_t h, std::int64_t w) {
  Tensor t(c, h, w);
  for (std::int64_t i = 0; i < t.size(); ++i) t.v[static_cast<std::size_t>(i)] = data[i];
  return t;
}

/// y[o][oy][ox] = b[o] + sum_{c,ky,kx} W[o][c][ky][kx] x[c][oy*sh - pt + ky][ox*sw - pl + kx],
/// out-of-range taps reading 0.
inline Tensor conv2d(const Tensor& x, const std::vector<float>& weight,
                     const std::vector<float>& bias, std::int64_t out_c, std::int64_t kh,
                     std::int64_t kw, std::int64_t sh, std::int64_t sw, std::int64_t pt,
                     std::int64_t pl, std::int64_t pb, std::int64_t pr) {
  const std::int64_t oh = (x.h + pt + pb - kh) / sh + 1;
  const std::int64_t ow = (x.w + pl + pr - kw) / sw + 1;
  Tensor y(out_c, oh, ow);
  for (std::int64_t o = 0; o < out_c; ++o) {
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        double sum = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(o)];
        for (std::int64_t c = 0; c < x.c; ++c) {
          for (std::int64_t ky = 0; ky < kh; ++ky) {
            for (std::int64_t kx = 0; kx < kw; ++kx) {
              const std::int64_t iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
              if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
              sum += static_cast<double>(weight[static_cast<std::size_t>(((o * x.c + c) * kh + ky) * kw + kx)]) *
                     x.at(c, iy, ix);
            }
          }
        }
        y.at(o, oy, ox) = sum;
      }
    }
  }
  return y;
}

/// y = W x + b over the flattened input, W [out][in].
inline Tensor dense(const Tensor& x, const std::vector<float>& weight,
                    const std::vector<float>& bias, std::int64_t out) {
  Tensor y(out, 1, 1);
  const std::int64_t in = x.size();
  for (std::int64_t o = 0; o < out; ++o) {
    double sum = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(o)];
    for (std::int64_t i = 0; i < in; ++i)
      sum += static_cast<double>(weight[static_cast<std::size_t>(o * in + i)]) * x.v[static_cast<std::size_t>(i)];
    y.v[static_cast<std::size_t>(o)] = sum;
  }
  return y;
}

/// gamma (x - mean) / sqrt(var + eps) + beta per channel.
inline Tensor batch_norm(const Tensor& x, const std::vector<float>& gamma,
                         const std::vector<float>& beta, const std::vector<float>& mean,
                         const std::vector<float>& var, float eps) {
  Tensor y = x;
  for (std::int64_t c = 0; c < x.c; ++c) {
    const auto k = static_cast<std::size_t>(c);
    const double denom = std::sqrt(static_cast<double>(var[k]) + static_cast<double>(eps));
    for (std::int64_t i = 0; i < x.h * x.w; ++i) {
      double& e = y.v[static_cast<std::size_t>(c * x.h * x.w + i)];
      e = gamma[k] * (e - mean[k]) / denom + beta[k];
    }
  }
  return y;
}

inline Tensor relu(const Tensor& x) {
  Tensor y = x;
  for (double& e : y.v) e = std::max(e, 0.0);
  return y;
}

/// Max (padding never wins) or average pooling; the average divides by the
/// window's in-range count, or by kh * kw with count_include_pad.
inline Tensor pool2d(const Tensor& x, bool is_max, std::int64_t kh, std::int64_t kw,
                     std::int64_t sh, std::int64_t sw, std::int64_t pt, std::int64_t pl,
                     std::int64_t pb, std::int64_t pr, bool count_include_pad) {
  const std::int64_t oh = (x.h + pt + pb - kh) / sh + 1;
  const std::int64_t ow = (x.w + pl + pr - kw) / sw + 1;
  Tensor y(x.c, oh, ow);
  for (std::int64_t c = 0; c < x.c; ++c) {
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0.0;
        std::int64_t count = 0;
        for (std::int64_t ky = 0; ky < kh; ++ky) {
          for (std::int64_t kx = 0; kx < kw; ++kx) {
            const std::int64_t iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            best = std::max(best, x.at(c, iy, ix));
            sum += x.at(c, iy, ix);
            ++count;
          }
        }
        y.at(c, oy, ox) = is_max ? best : sum / static_cast<double>(count_include_pad ? kh * kw : count);
      }
    }
  }
  return y;
}

inline Tensor global_avg_pool(const Tensor& x) {
  Tensor y(x.c, 1, 1);
  for (std::int64_t c = 0; c < x.c; ++c) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < x.h * x.w; ++i) sum += x.v[static_cast<std::size_t>(c * x.h * x.w + i)];
    y.v[static_cast<std::size_t>(c)] = sum / static_cast<double>(x.h * x.w);
  }
  return y;
}

inline Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = a;
  for (std::size_t i = 0; i < y.v.size(); ++i) y.v[i] += b.v[i];
  return y;
}

inline Tensor reshape(const Tensor& x, std::int64_t c, std::int64_t h, std::int64_t w) {
  Tensor y = x;
  y.c = c;
  y.h = h;
  y.w = w;
  return y;
}

}  // namespace cuxplain::reference
