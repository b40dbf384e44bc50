#pragma once
// NMF test problems shared by the host and CUDA programs: a planted
// factorization A = max(U* W* + noise, 0) with known rank and noise level.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace cuxplain::test {

struct PlantedNmf {
  std::int64_t n = 0, p = 0, r = 0;
  std::vector<float> a;       ///< n x p
  std::vector<float> u, w;    ///< the planted factors, n x r and r x p
  double noise_level = 0.0;   ///< ||A - U* W*||_F / ||A||_F
};

/// Factors with entries uniform in [0, 1), a third of them zero; Gaussian
/// noise of standard deviation `noise` times the RMS of U* W*.
inline PlantedNmf planted_nmf(std::int64_t n, std::int64_t p, std::int64_t r, double noise,
                              std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  PlantedNmf out;
  out.n = n, out.p = p, out.r = r;
  const auto factor = [&](std::int64_t count) {
    std::vector<float> f(static_cast<std::size_t>(count));
    for (float& v : f) {
      const float x = uniform(gen);
      v = x < 1.0f / 3.0f ? 0.0f : uniform(gen);
    }
    return f;
  };
  out.u = factor(n * r);
  out.w = factor(r * p);
  std::vector<double> clean(static_cast<std::size_t>(n * p), 0.0);
  double sum_squares = 0.0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < p; ++j) {
      double s = 0.0;
      for (std::int64_t k = 0; k < r; ++k) s += static_cast<double>(out.u[i * r + k]) * out.w[k * p + j];
      clean[i * p + j] = s;
      sum_squares += s * s;
    }
  const double sigma = noise * std::sqrt(sum_squares / static_cast<double>(n * p));
  std::normal_distribution<double> gaussian(0.0, 1.0);
  out.a.resize(clean.size());
  double noise_sq = 0.0, a_sq = 0.0;
  for (std::size_t e = 0; e < clean.size(); ++e) {
    const double v = clean[e] + sigma * gaussian(gen);
    out.a[e] = static_cast<float>(v > 0.0 ? v : 0.0);
    noise_sq += (out.a[e] - clean[e]) * (out.a[e] - clean[e]);
    a_sq += static_cast<double>(out.a[e]) * out.a[e];
  }
  out.noise_level = std::sqrt(noise_sq / a_sq);
  return out;
}

}  // namespace cuxplain::test
