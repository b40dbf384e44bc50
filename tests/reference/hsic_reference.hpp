#pragma once
// Literal double-precision HSIC, written from the paper's definition and
// independent of cuxplain's code: form H, K_i, L and take traces.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cuxplain::reference {

using Matrix = std::vector<double>;  // row-major N x N

inline double input_kernel(int kernel, double x, double y) {  // 0 binary, 1 rbf, 2 sobolev
  if (kernel == 0) return 0.5 - (x - y) * (x - y);
  if (kernel == 1) return std::exp(-(x - y) * (x - y) / (2.0 * 0.25));
  const double t = std::fabs(x - y);
  return (t * t - t + 1.0 / 6.0) / 2.0 + (std::fabs(x) - 0.5) * (std::fabs(y) - 0.5);
}

inline Matrix multiply(const Matrix& a, const Matrix& b, std::int64_t n) {
  Matrix c(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < n; ++k)
      for (std::int64_t j = 0; j < n; ++j) c[i * n + j] += a[i * n + k] * b[k * n + j];
  return c;
}

inline double trace(const Matrix& a, std::int64_t n) {
  double t = 0.0;
  for (std::int64_t i = 0; i < n; ++i) t += a[i * n + i];
  return t;
}

inline Matrix centering(std::int64_t n) {
  Matrix h(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) h[i * n + j] = (i == j ? 1.0 : 0.0) - 1.0 / n;
  return h;
}

inline Matrix output_gram(const std::vector<float>& y, double width) {
  const auto n = static_cast<std::int64_t>(y.size());
  Matrix l(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double diff = static_cast<double>(y[i]) - y[j];
      l[i * n + j] = std::exp(-diff * diff / (2.0 * width * width));
    }
  return l;
}

/// H L H.
inline Matrix centered(const Matrix& l, std::int64_t n) {
  const Matrix h = centering(n);
  return multiply(multiply(h, l, n), h, n);
}

/// K for an arbitrary per-pair function of cell values.
template <class PairKernel>
Matrix input_gram(const std::vector<float>& masks, std::int64_t n, std::int64_t d,
                  PairKernel&& pair) {
  Matrix k(static_cast<std::size_t>(n * n));
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t b = 0; b < n; ++b) k[a * n + b] = pair(masks.data() + a * d, masks.data() + b * d);
  return k;
}

/// tr(H K H H L H) / N for a given K and L.
inline double hsic(const Matrix& k, const Matrix& l, std::int64_t n) {
  const Matrix h = centering(n);
  const Matrix kc = multiply(multiply(h, k, n), h, n);
  const Matrix lc = multiply(multiply(h, l, n), h, n);
  return trace(multiply(kc, lc, n), n) / static_cast<double>(n);
}

/// Per-cell HSIC scores with input kernel `kernel`.
inline std::vector<double> hsic_scores(const std::vector<float>& masks, std::int64_t n,
                                       std::int64_t d, int kernel, const Matrix& l) {
  std::vector<double> scores(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < d; ++i) {
    const Matrix k = input_gram(masks, n, d, [&](const float* xa, const float* xb) {
      return input_kernel(kernel, xa[i], xb[i]);
    });
    scores[i] = hsic(k, l, n);
  }
  return scores;
}

/// S_ij = HSIC((1 + k_i)(1 + k_j)) - HSIC_i - HSIC_j, the original HSIC code's
/// interaction, for i != j; 0 on the diagonal.
inline std::vector<double> hsic_interactions(const std::vector<float>& masks, std::int64_t n,
                                             std::int64_t d, int kernel, const Matrix& l) {
  const std::vector<double> single = hsic_scores(masks, n, d, kernel, l);
  std::vector<double> s(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t i = 0; i < d; ++i)
    for (std::int64_t j = 0; j < d; ++j) {
      if (i == j) continue;
      const Matrix k = input_gram(masks, n, d, [&](const float* xa, const float* xb) {
        return (1.0 + input_kernel(kernel, xa[i], xb[i])) * (1.0 + input_kernel(kernel, xa[j], xb[j]));
      });
      s[i * d + j] = hsic(k, l, n) - single[i] - single[j];
    }
  return s;
}

/// Median pairwise |y_j - y_l| over j < l, by listing every pair.
inline double median_pairwise_distance(const std::vector<float>& y) {
  std::vector<double> distances;
  for (std::size_t j = 0; j < y.size(); ++j)
    for (std::size_t l = j + 1; l < y.size(); ++l)
      distances.push_back(std::fabs(static_cast<double>(y[l]) - y[j]));
  std::sort(distances.begin(), distances.end());
  const std::size_t m = distances.size();
  return m % 2 == 1 ? distances[m / 2] : 0.5 * (distances[m / 2 - 1] + distances[m / 2]);
}

}  // namespace cuxplain::reference
