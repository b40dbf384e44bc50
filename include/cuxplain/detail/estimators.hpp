#pragma once
// Per-cell arithmetic of the Sobol index estimators (DESIGN.md, "Sobol
// estimators"), shared by the host and CUDA backends: each backend only
// decides how the sums below are split and combined.
//
// Every sum is taken in double over outputs centred by f0 = mean(a). The
// textbook Homma, Saltelli and Janon forms subtract two nearly equal second
// moments (mean(a*c) - f0^2); on outputs with a large offset (logits around
// 20, say) that difference loses most of its digits. Rewritten on centred
// values the f0^2 terms cancel algebraically instead of numerically, e.g.
//   mean(a*c) - f0^2 = (sum((a-f0)(c-f0)) + f0 * (sum(a-f0) + sum(c-f0))) / N,
// so the results equal the textbook formulas up to rounding, without their
// cancellation. Jansen, Glen and the first-order index are shift invariant
// already and centring only keeps their products small.
#include <cmath>
#include <cstdint>
#include <limits>

#include "../core/options.hpp"
#include "hd.hpp"

namespace cuxplain::detail {

/// Floor applied to every variance so that constant outputs give finite indices.
constexpr double kMinVariance = 1e-12;

/// max(v, kMinVariance), letting NaN through so bad outputs stay visible.
CUXPLAIN_HD double clamp_variance(double v) { return v < kMinVariance ? kMinVariance : v; }

/// f0 = mean(a) and V = sum((a - f0)^2) / (N - 1), clamped: shared by every cell.
struct OutputStats {
  double f0;
  double variance;
};

CUXPLAIN_HD OutputStats output_stats(double sum_a, double centred_square_sum_a,
                                     std::int64_t nb_design) {
  const double n = static_cast<double>(nb_design);
  return {sum_a / n, clamp_variance(centred_square_sum_a / (n - 1.0))};
}

/// Sums over the N points of one cell i, with a = y_a[j] and c = y_c[i][j].
/// Zero-initialize with `TotalOrderSums s{}`.
struct TotalOrderSums {
  double a;      ///< sum(a - f0)
  double c;      ///< sum(c - f0)
  double aa;     ///< sum((a - f0)^2)
  double cc;     ///< sum((c - f0)^2)
  double ac;     ///< sum((a - f0) * (c - f0))
  double diff2;  ///< sum((a - c)^2)
};

CUXPLAIN_HD TotalOrderSums operator+(const TotalOrderSums& x, const TotalOrderSums& y) {
  return {x.a + y.a, x.c + y.c, x.aa + y.aa, x.cc + y.cc, x.ac + y.ac, x.diff2 + y.diff2};
}

/// Adds point (a, c) of a cell to its sums.
CUXPLAIN_HD void accumulate(TotalOrderSums& sums, float a, float c, double f0) {
  const double da = static_cast<double>(a) - f0;
  const double dc = static_cast<double>(c) - f0;
  // a - c from the raw values: no rounding of f0 enters Jansen's numerator.
  const double diff = static_cast<double>(a) - static_cast<double>(c);
  sums.a += da;
  sums.c += dc;
  sums.aa += da * da;
  sums.cc += dc * dc;
  sums.ac += da * dc;
  sums.diff2 += diff * diff;
}

/// Total-order index of one cell from its sums (formulas of DESIGN.md, on
/// centred sums; see the top of this file).
CUXPLAIN_HD double total_order_index(Estimator estimator, const TotalOrderSums& s,
                                     OutputStats stats, std::int64_t nb_design) {
  const double n = static_cast<double>(nb_design);
  const double f0 = stats.f0;
  const double v = stats.variance;
  switch (estimator) {
    case Estimator::jansen:
      // sum((a - c_i)^2) / (2 N V)
      return s.diff2 / (2.0 * n * v);
    case Estimator::homma:
      // (V - mean(a c_i) + f0^2) / V
      return (v - (s.ac + f0 * (s.a + s.c)) / n) / v;
    case Estimator::saltelli:
      // 1 - (mean(a c_i) - f0^2) / V
      return 1.0 - ((s.ac + f0 * (s.a + s.c)) / n) / v;
    case Estimator::janon: {
      // mu_i = (mean(a) + mean(c_i)) / 2 = f0 + m,
      // V_i = sum(a^2 + c_i^2) / (2 (N-1)) - mu_i^2
      //     = (saa + scc) / (2 (N-1)) + f0 (sa + sc) / (N (N-1)) + f0^2 / (N-1) - m^2,
      // mean(a c_i) - mu_i^2 = sac / N - m^2.
      // (The f0^2 / (N-1) term is the formula's own: it mixes N and N-1.)
      const double m = (s.a + s.c) / (2.0 * n);
      const double var_i =
          clamp_variance((s.aa + s.cc) / (2.0 * (n - 1.0)) + f0 * (s.a + s.c) / (n * (n - 1.0)) +
                         f0 * f0 / (n - 1.0) - m * m);
      return 1.0 - (s.ac / n - m * m) / var_i;
    }
    case Estimator::glen: {
      // 1 - cov(a, c_i) / sqrt(var(a) var(c_i)), ddof 1 throughout; var(a) is V.
      const double cov = (s.ac - s.a * s.c / n) / (n - 1.0);
      const double var_c = clamp_variance((s.cc - s.c * s.c / n) / (n - 1.0));
      return 1.0 - cov / std::sqrt(v * var_c);
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

/// Sums for the first-order index of one cell, with b = y_b[j].
/// Zero-initialize with `FirstOrderSums s{}`.
struct FirstOrderSums {
  double b_diff;  ///< sum((b - f0) * (c - a))
  double diff;    ///< sum(c - a)
};

CUXPLAIN_HD FirstOrderSums operator+(const FirstOrderSums& x, const FirstOrderSums& y) {
  return {x.b_diff + y.b_diff, x.diff + y.diff};
}

CUXPLAIN_HD void accumulate(FirstOrderSums& sums, float a, float b, float c, double f0) {
  const double diff = static_cast<double>(c) - static_cast<double>(a);
  sums.b_diff += (static_cast<double>(b) - f0) * diff;
  sums.diff += diff;
}

/// S_i = mean(b (c_i - a)) / V = (sum((b - f0)(c_i - a)) + f0 sum(c_i - a)) / (N V).
CUXPLAIN_HD double first_order_index(const FirstOrderSums& s, OutputStats stats,
                                     std::int64_t nb_design) {
  const double n = static_cast<double>(nb_design);
  return (s.b_diff + stats.f0 * s.diff) / (n * stats.variance);
}

/// True for the estimators total_order_index knows.
constexpr bool is_known_estimator(Estimator estimator) {
  return estimator == Estimator::jansen || estimator == Estimator::homma ||
         estimator == Estimator::janon || estimator == Estimator::glen ||
         estimator == Estimator::saltelli;
}

}  // namespace cuxplain::detail
