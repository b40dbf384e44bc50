#pragma once
// The cases of the Sobol estimator tests, host and CUDA: every estimator,
// model outputs with a known ordering of the cells, the (N, d, offset)
// parameter and the host backend's indices, which the CUDA tests compare to.
#include <cstdint>
#include <ostream>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/estimators.hpp>

#include "common/test_utils.hpp"

namespace cuxplain::test {

inline constexpr Estimator kEstimators[] = {Estimator::jansen, Estimator::homma,
                                            Estimator::janon, Estimator::glen,
                                            Estimator::saltelli};

/// Model outputs on A, B and C_1..C_d.
struct Outputs {
  std::vector<float> a, b, c;
};

/// Outputs where cell i matters more as i grows: c_i = (1 - w_i) a + w_i u
/// with u independent, w_i = (i + 1) / (d + 1), all shifted by `offset`
/// (logits sit far from zero; the textbook Homma and Saltelli forms lose
/// digits there).
inline Outputs make_outputs(std::int64_t nb_design, std::int64_t d, float offset,
                            std::uint32_t seed) {
  Outputs out;
  out.a = random_uniform(static_cast<std::size_t>(nb_design), seed);
  out.b = random_uniform(static_cast<std::size_t>(nb_design), seed + 1);
  const std::vector<float> u = random_uniform(static_cast<std::size_t>(nb_design * d), seed + 2);
  out.c.resize(u.size());
  for (std::int64_t i = 0; i < d; ++i) {
    const float weight = static_cast<float>(i + 1) / static_cast<float>(d + 1);
    for (std::int64_t j = 0; j < nb_design; ++j) {
      const std::size_t k = static_cast<std::size_t>(i * nb_design + j);
      out.c[k] = (1.0f - weight) * out.a[static_cast<std::size_t>(j)] + weight * u[k] + offset;
    }
  }
  for (float& v : out.a) v += offset;
  for (float& v : out.b) v += offset;
  return out;
}

/// Every output equal to `value`: no variance at all.
inline Outputs constant_outputs(std::int64_t nb_design, std::int64_t d, float value) {
  Outputs y;
  y.a.assign(nb_design, value);
  y.b.assign(nb_design, value);
  y.c.assign(nb_design * d, value);
  return y;
}

/// y = x_0 on random A and B: cells 1.. never change the output, so Jansen's
/// numerator sum((a - c_i)^2) and the first-order numerator are exactly zero
/// for them; cell 0 carries all the variance.
inline Outputs first_input_outputs(std::int64_t nb_design, std::int64_t d) {
  const std::vector<float> x_a = random_uniform(nb_design * d, 21);
  const std::vector<float> x_b = random_uniform(nb_design * d, 22);
  Outputs y;
  y.a.resize(nb_design);
  y.b.resize(nb_design);
  y.c.resize(nb_design * d);
  for (std::int64_t j = 0; j < nb_design; ++j) {
    y.a[j] = x_a[j * d];
    y.b[j] = x_b[j * d];
    for (std::int64_t i = 0; i < d; ++i) y.c[i * nb_design + j] = i == 0 ? x_b[j * d] : x_a[j * d];
  }
  return y;
}

/// Total-order indices of `y` on the host backend (poisoned beforehand).
inline std::vector<float> host_total_order(Estimator estimator, const Outputs& y,
                                           std::int64_t nb_design, std::int64_t d) {
  std::vector<float> st(static_cast<std::size_t>(d), poison());
  sobol_total_order(Context::host(), estimator, y.a.data(), y.c.data(), nb_design, d, st.data());
  return st;
}

/// First-order indices of `y` on the host backend (poisoned beforehand).
inline std::vector<float> host_first_order(const Outputs& y, std::int64_t nb_design,
                                           std::int64_t d) {
  std::vector<float> s1(static_cast<std::size_t>(d), poison());
  sobol_first_order(Context::host(), y.a.data(), y.b.data(), y.c.data(), nb_design, d, s1.data());
  return s1;
}

/// N, d and output offset of a parameterized estimator test.
struct EstimatorCase {
  std::int64_t nb_design, d;
  float offset;
};

/// Printed into the test names: N32_d64_offset100.
inline std::ostream& operator<<(std::ostream& os, const EstimatorCase& c) {
  const int whole = static_cast<int>(c.offset);
  return os << "N" << c.nb_design << "_d" << c.d << "_offset" << (whole < 0 ? "minus" : "")
            << (whole < 0 ? -whole : whole);
}

}  // namespace cuxplain::test
