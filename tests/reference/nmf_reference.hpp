#pragma once
// Plain double-precision NMF, written from the update formulas and
// independent of cuxplain's code: the products U W are formed explicitly,
// the loss is summed entry by entry, coordinate descent takes each
// coordinate's gradient from the objective directly, and NNDSVD follows
// scikit-learn's _initialize_nmf line by line on an exact SVD (one-sided
// Jacobi).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace cuxplain::reference::nmf {

using Matrix = std::vector<double>;  // row-major

struct Penalties {
  double l1_u = 0.0, l2_u = 0.0, l1_w = 0.0, l2_w = 0.0;
};

/// C (m x n) = A (m x k) B (k x n).
inline Matrix multiply(const Matrix& a, const Matrix& b, std::int64_t m, std::int64_t k,
                       std::int64_t n) {
  Matrix c(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t l = 0; l < k; ++l)
      for (std::int64_t j = 0; j < n; ++j) c[i * n + j] += a[i * k + l] * b[l * n + j];
  return c;
}

inline Matrix transpose(const Matrix& a, std::int64_t rows, std::int64_t cols) {
  Matrix t(a.size());
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) t[j * rows + i] = a[i * cols + j];
  return t;
}

template <class T>
Matrix to_double(const std::vector<T>& values) {
  return Matrix(values.begin(), values.end());
}

/// ||A - U W||_F^2, entry by entry.
inline double residual(const Matrix& a, const Matrix& u, const Matrix& w, std::int64_t n,
                       std::int64_t p, std::int64_t r) {
  const Matrix product = multiply(u, w, n, r, p);
  double sum = 0.0;
  for (std::size_t e = 0; e < a.size(); ++e) sum += (a[e] - product[e]) * (a[e] - product[e]);
  return sum;
}

/// 0.5 ||A - U W||_F^2 + l1_u sum U + 0.5 l2_u ||U||^2 + l1_w sum W + 0.5 l2_w ||W||^2.
inline double objective(const Matrix& a, const Matrix& u, const Matrix& w, std::int64_t n,
                        std::int64_t p, std::int64_t r, const Penalties& pen,
                        bool with_w_penalty = true) {
  double sum_u = 0.0, sq_u = 0.0, sum_w = 0.0, sq_w = 0.0;
  for (double v : u) sum_u += v, sq_u += v * v;
  for (double v : w) sum_w += v, sq_w += v * v;
  double value = 0.5 * residual(a, u, w, n, p, r) + pen.l1_u * sum_u + 0.5 * pen.l2_u * sq_u;
  if (with_w_penalty) value += pen.l1_w * sum_w + 0.5 * pen.l2_w * sq_w;
  return value;
}

/// float32's epsilon, which replaces a zero denominator (scikit-learn).
constexpr double kEpsilon = 1.1920928955078125e-07;

/// U <- U o (A W^T) / ((U W) W^T + l1 + l2 U).
inline void update_u(const Matrix& a, Matrix& u, const Matrix& w, std::int64_t n, std::int64_t p,
                     std::int64_t r, double l1, double l2) {
  const Matrix wt = transpose(w, r, p);
  const Matrix numerator = multiply(a, wt, n, p, r);
  const Matrix denominator = multiply(multiply(u, w, n, r, p), wt, n, p, r);
  for (std::size_t e = 0; e < u.size(); ++e) {
    double den = denominator[e] + l1 + l2 * u[e];
    if (den == 0.0) den = kEpsilon;
    u[e] *= numerator[e] / den;
  }
}

/// W <- W o (U^T A) / (U^T (U W) + l1 + l2 W).
inline void update_w(const Matrix& a, const Matrix& u, Matrix& w, std::int64_t n, std::int64_t p,
                     std::int64_t r, double l1, double l2) {
  const Matrix ut = transpose(u, n, r);
  const Matrix numerator = multiply(ut, a, r, n, p);
  const Matrix denominator = multiply(ut, multiply(u, w, n, r, p), r, n, p);
  for (std::size_t e = 0; e < w.size(); ++e) {
    double den = denominator[e] + l1 + l2 * w[e];
    if (den == 0.0) den = kEpsilon;
    w[e] *= numerator[e] / den;
  }
}

/// `iterations` rounds of (U update, W update); objective after each in `history`
/// (entry 0: at the start) when not null.
inline void run(const Matrix& a, Matrix& u, Matrix& w, std::int64_t n, std::int64_t p,
                std::int64_t r, int iterations, const Penalties& pen,
                std::vector<double>* history = nullptr) {
  if (history) history->assign(1, objective(a, u, w, n, p, r, pen));
  for (int it = 0; it < iterations; ++it) {
    update_u(a, u, w, n, p, r, pen.l1_u, pen.l2_u);
    update_w(a, u, w, n, p, r, pen.l1_w, pen.l2_w);
    if (history) history->push_back(objective(a, u, w, n, p, r, pen));
  }
}

/// One coordinate-descent pass over U (scikit-learn's solver='cd', written
/// from the objective): for t = 0..r-1, for every row i, the gradient and
/// curvature of 0.5 ||A - U W||^2 + l1 sum U + 0.5 l2 ||U||^2 in U_it,
///   g = sum_j ((U W)_ij - A_ij) W_tj + l1 + l2 U_it,  h = sum_j W_tj^2 + l2,
/// from the current U (U W formed entry by entry), then
/// U_it <- max(U_it - g / h, 0) unless h = 0. Returns the sum over the
/// coordinates of |g| (|min(g, 0)| where U_it = 0 before its step).
inline double cd_update_u(const Matrix& a, Matrix& u, const Matrix& w, std::int64_t n,
                          std::int64_t p, std::int64_t r, double l1, double l2) {
  double violation = 0.0;
  for (std::int64_t t = 0; t < r; ++t) {
    double h = l2;
    for (std::int64_t j = 0; j < p; ++j) h += w[t * p + j] * w[t * p + j];
    for (std::int64_t i = 0; i < n; ++i) {
      double& x = u[i * r + t];
      double g = l1 + l2 * x;
      for (std::int64_t j = 0; j < p; ++j) {
        double product = 0.0;
        for (std::int64_t q = 0; q < r; ++q) product += u[i * r + q] * w[q * p + j];
        g += (product - a[i * p + j]) * w[t * p + j];
      }
      violation += std::fabs(x == 0.0 ? std::min(g, 0.0) : g);
      if (h != 0.0) x = std::max(x - g / h, 0.0);
    }
  }
  return violation;
}

/// The same pass over W (by symmetry: U's pass on A^T, W^T, U^T).
inline double cd_update_w(const Matrix& a, const Matrix& u, Matrix& w, std::int64_t n,
                          std::int64_t p, std::int64_t r, double l1, double l2) {
  Matrix wt = transpose(w, r, p);
  const double violation =
      cd_update_u(transpose(a, n, p), wt, transpose(u, n, r), p, n, r, l1, l2);
  w = transpose(wt, p, r);
  return violation;
}

/// `iterations` coordinate-descent rounds (U pass, W pass): the objective
/// after each in `history` (entry 0: at the start) and each round's
/// violation (U's plus W's) in `violations`, when not null.
inline void cd_run(const Matrix& a, Matrix& u, Matrix& w, std::int64_t n, std::int64_t p,
                   std::int64_t r, int iterations, const Penalties& pen,
                   std::vector<double>* history = nullptr,
                   std::vector<double>* violations = nullptr) {
  if (history) history->assign(1, objective(a, u, w, n, p, r, pen));
  if (violations) violations->clear();
  for (int it = 0; it < iterations; ++it) {
    double violation = cd_update_u(a, u, w, n, p, r, pen.l1_u, pen.l2_u);
    violation += cd_update_w(a, u, w, n, p, r, pen.l1_w, pen.l2_w);
    if (history) history->push_back(objective(a, u, w, n, p, r, pen));
    if (violations) violations->push_back(violation);
  }
}

/// A = U diag(s) V^T: one-sided Jacobi (Hestenes) on the columns of A.
/// s descending (min(n, p) values), U n x m and V p x m column by column
/// (row-major, m = min(n, p)).
struct Svd {
  std::vector<double> s;
  Matrix u, v;
};

inline Svd exact_svd(const Matrix& a, std::int64_t n, std::int64_t p) {
  Matrix m = a, v(static_cast<std::size_t>(p * p), 0.0);
  for (std::int64_t i = 0; i < p; ++i) v[i * p + i] = 1.0;
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (std::int64_t i = 0; i < p; ++i) {
      for (std::int64_t j = i + 1; j < p; ++j) {
        double alpha = 0.0, beta = 0.0, gamma = 0.0;
        for (std::int64_t k = 0; k < n; ++k) {
          alpha += m[k * p + i] * m[k * p + i];
          beta += m[k * p + j] * m[k * p + j];
          gamma += m[k * p + i] * m[k * p + j];
        }
        if (std::fabs(gamma) <= 1e-15 * std::sqrt(alpha * beta) || gamma == 0.0) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2.0 * gamma);
        const double t = (zeta >= 0.0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1.0 + zeta * zeta));
        const double c = 1.0 / std::sqrt(1.0 + t * t), s = c * t;
        for (std::int64_t k = 0; k < n; ++k) {
          const double mi = m[k * p + i], mj = m[k * p + j];
          m[k * p + i] = c * mi - s * mj;
          m[k * p + j] = s * mi + c * mj;
        }
        for (std::int64_t k = 0; k < p; ++k) {
          const double vi = v[k * p + i], vj = v[k * p + j];
          v[k * p + i] = c * vi - s * vj;
          v[k * p + j] = s * vi + c * vj;
        }
      }
    }
    if (!rotated) break;
  }
  std::vector<double> norms(static_cast<std::size_t>(p));
  for (std::int64_t j = 0; j < p; ++j) {
    double sum = 0.0;
    for (std::int64_t k = 0; k < n; ++k) sum += m[k * p + j] * m[k * p + j];
    norms[j] = std::sqrt(sum);
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(p));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return norms[x] > norms[y]; });
  const std::int64_t count = std::min(n, p);
  Svd svd;
  svd.u.assign(static_cast<std::size_t>(n * count), 0.0);
  svd.v.assign(static_cast<std::size_t>(p * count), 0.0);
  for (std::int64_t c = 0; c < count; ++c) {
    const std::int64_t j = order[c];
    svd.s.push_back(norms[j]);
    for (std::int64_t k = 0; k < n; ++k) svd.u[k * count + c] = norms[j] > 0 ? m[k * p + j] / norms[j] : 0.0;
    for (std::int64_t k = 0; k < p; ++k) svd.v[k * count + c] = v[k * p + j];
  }
  return svd;
}

/// scikit-learn's NNDSVD (nndsvda: zeros filled with mean(A)) on the exact
/// SVD: U (n x r), W (r x p).
inline void nndsvd(const Matrix& a, std::int64_t n, std::int64_t p, std::int64_t r, bool fill_mean,
                   Matrix& u_out, Matrix& w_out) {
  const Svd svd = exact_svd(a, n, p);
  const std::int64_t m = std::min(n, p);
  u_out.assign(static_cast<std::size_t>(n * r), 0.0);
  w_out.assign(static_cast<std::size_t>(r * p), 0.0);
  const auto norm = [](const std::vector<double>& x) {
    double s = 0.0;
    for (double v : x) s += v * v;
    return std::sqrt(s);
  };
  for (std::int64_t j = 0; j < r; ++j) {
    std::vector<double> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(p));
    for (std::int64_t k = 0; k < n; ++k) x[k] = svd.u[k * m + j];
    for (std::int64_t k = 0; k < p; ++k) y[k] = svd.v[k * m + j];
    if (j == 0) {
      for (std::int64_t k = 0; k < n; ++k) u_out[k * r] = std::sqrt(svd.s[0]) * std::fabs(x[k]);
      for (std::int64_t k = 0; k < p; ++k) w_out[k] = std::sqrt(svd.s[0]) * std::fabs(y[k]);
      continue;
    }
    std::vector<double> xp(x.size()), xn(x.size()), yp(y.size()), yn(y.size());
    for (std::size_t k = 0; k < x.size(); ++k) xp[k] = std::max(x[k], 0.0), xn[k] = std::fabs(std::min(x[k], 0.0));
    for (std::size_t k = 0; k < y.size(); ++k) yp[k] = std::max(y[k], 0.0), yn[k] = std::fabs(std::min(y[k], 0.0));
    const double xpn = norm(xp), ypn = norm(yp), xnn = norm(xn), ynn = norm(yn);
    const double mp = xpn * ypn, mn = xnn * ynn;
    const bool positive = mp > mn;
    const std::vector<double>& uu = positive ? xp : xn;
    const std::vector<double>& vv = positive ? yp : yn;
    const double un = positive ? xpn : xnn, vn = positive ? ypn : ynn;
    const double sigma = positive ? mp : mn;
    const double lbd = std::sqrt(svd.s[j] * sigma);
    for (std::int64_t k = 0; k < n; ++k) u_out[k * r + j] = lbd * uu[k] / un;
    for (std::int64_t k = 0; k < p; ++k) w_out[j * p + k] = lbd * vv[k] / vn;
  }
  double mean = 0.0;
  for (double v : a) mean += v;
  mean /= static_cast<double>(a.size());
  for (double& v : u_out) v = v < 1e-6 ? (fill_mean ? mean : 0.0) : v;
  for (double& v : w_out) v = v < 1e-6 ? (fill_mean ? mean : 0.0) : v;
}

}  // namespace cuxplain::reference::nmf
