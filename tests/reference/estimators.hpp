#pragma once
// Reference Sobol estimators, written straight from the formulas of
// DESIGN.md ("Sobol estimators") in double precision on the raw outputs:
// deliberately not the centred forms of include/cuxplain/detail/estimators.hpp,
// so that the two agree only if the algebra there is right.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <cuxplain/core/options.hpp>

namespace cuxplain::reference {

inline double mean(const std::vector<double>& x) {
  double sum = 0.0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

/// Variance with ddof 1, clamped to >= 1e-12.
inline double variance(const std::vector<double>& x) {
  const double m = mean(x);
  double sum = 0.0;
  for (double v : x) sum += (v - m) * (v - m);
  return std::max(sum / static_cast<double>(x.size() - 1), 1e-12);
}

inline std::vector<double> to_double(const float* values, std::size_t count) {
  return std::vector<double>(values, values + count);
}

/// Total-order index of each of the d cells; y_c holds d blocks of N outputs.
inline std::vector<double> total_order(Estimator estimator, const std::vector<float>& y_a,
                                       const std::vector<float>& y_c, std::size_t d) {
  const std::size_t n = y_a.size();
  const double nd = static_cast<double>(n);
  const std::vector<double> a = to_double(y_a.data(), n);
  const double f0 = mean(a);
  const double v = variance(a);
  std::vector<double> st(d);
  for (std::size_t i = 0; i < d; ++i) {
    const std::vector<double> c = to_double(y_c.data() + i * n, n);
    double sum_diff2 = 0.0, sum_ac = 0.0, sum_squares = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum_diff2 += (a[j] - c[j]) * (a[j] - c[j]);
      sum_ac += a[j] * c[j];
      sum_squares += a[j] * a[j] + c[j] * c[j];
    }
    const double mean_ac = sum_ac / nd;
    switch (estimator) {
      case Estimator::jansen:
        st[i] = sum_diff2 / (2.0 * nd * v);
        break;
      case Estimator::homma:
        st[i] = (v - mean_ac + f0 * f0) / v;
        break;
      case Estimator::saltelli:
        st[i] = 1.0 - (mean_ac - f0 * f0) / v;
        break;
      case Estimator::janon: {
        const double mu = (mean(a) + mean(c)) / 2.0;
        const double var_i = std::max(sum_squares / (2.0 * (nd - 1.0)) - mu * mu, 1e-12);
        st[i] = 1.0 - (mean_ac - mu * mu) / var_i;
        break;
      }
      case Estimator::glen: {
        const double mc = mean(c);
        double cov = 0.0;
        for (std::size_t j = 0; j < n; ++j) cov += (a[j] - f0) * (c[j] - mc);
        cov /= nd - 1.0;
        st[i] = 1.0 - cov / std::sqrt(v * variance(c));
        break;
      }
    }
  }
  return st;
}

/// First-order index S_i = mean(b (c_i - a)) / V of each cell.
inline std::vector<double> first_order(const std::vector<float>& y_a, const std::vector<float>& y_b,
                                       const std::vector<float>& y_c, std::size_t d) {
  const std::size_t n = y_a.size();
  const std::vector<double> a = to_double(y_a.data(), n);
  const std::vector<double> b = to_double(y_b.data(), n);
  const double v = variance(a);
  std::vector<double> s1(d);
  for (std::size_t i = 0; i < d; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum += b[j] * (static_cast<double>(y_c[i * n + j]) - a[j]);
    }
    s1[i] = sum / static_cast<double>(n) / v;
  }
  return s1;
}

}  // namespace cuxplain::reference
