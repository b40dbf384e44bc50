// The host backend's GEMM (kernels/cpu/backend.cpp): against a float64
// reference for every transpose combination, with padded leading dimensions
// and beta != 0, on shapes large enough to be split across threads; and the
// same bits whatever the number of threads (the split never divides a sum).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cuxplain/cuxplain.hpp>

#include "kernels/backend.hpp"

namespace {

using cuxplain::Context;

struct Shape {
  std::int64_t m, n, k;
};

struct Operands {
  bool ta, tb;
  Shape s;
  std::int64_t lda, ldb, ldc;
  std::vector<float> a, b, c;
};

// Leading dimensions padded by a few columns, so that a slab that
// mis-steps over them reads or writes the padding.
Operands make_operands(bool ta, bool tb, Shape s, std::uint32_t seed) {
  Operands o{ta, tb, s, (ta ? s.m : s.k) + 3, (tb ? s.k : s.n) + 5, s.n + 2, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  o.a.resize(static_cast<std::size_t>((ta ? s.k : s.m) * o.lda));
  o.b.resize(static_cast<std::size_t>((tb ? s.n : s.k) * o.ldb));
  o.c.resize(static_cast<std::size_t>(s.m * o.ldc));
  for (float& v : o.a) v = u(rng);
  for (float& v : o.b) v = u(rng);
  for (float& v : o.c) v = u(rng);
  return o;
}

std::vector<float> run_gemm(const Operands& o, float alpha, float beta, int threads) {
#if defined(_OPENMP)
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
  std::vector<float> c = o.c;
  cuxplain::kernels::cpu::gemm(Context::host(), o.ta, o.tb, o.s.m, o.s.n, o.s.k, alpha, o.a.data(),
                               o.lda, o.b.data(), o.ldb, beta, c.data(), o.ldc);
#if defined(_OPENMP)
  omp_set_num_threads(before);
#endif
  return c;
}

const Shape kShapes[] = {
    {2007, 25, 300},   // tall C: split by rows, a ragged last slab
    {25, 2057, 300},   // wide C: split by columns
    {97, 113, 1000},   // near square, a few slabs
    {3, 4, 5},         // too small to split
};

TEST(HostGemm, MatchesAFloat64ReferenceForEveryTranspose) {
  const float alpha = 0.75f, beta = 0.5f;
  std::uint32_t seed = 1;
  for (const Shape& s : kShapes) {
    for (int ta = 0; ta < 2; ++ta) {
      for (int tb = 0; tb < 2; ++tb) {
        const Operands o = make_operands(ta != 0, tb != 0, s, seed++);
        const std::vector<float> c = run_gemm(o, alpha, beta, 2);
        double largest = 0.0;
        for (std::int64_t i = 0; i < s.m; ++i) {
          for (std::int64_t j = 0; j < o.ldc; ++j) {
            const std::size_t at = static_cast<std::size_t>(i * o.ldc + j);
            if (j >= s.n) {  // padding: never written
              ASSERT_EQ(c[at], o.c[at]) << "padding at " << i << ", " << j;
              continue;
            }
            double sum = 0.0, magnitude = 0.0;
            for (std::int64_t p = 0; p < s.k; ++p) {
              const double x = ta ? o.a[p * o.lda + i] : o.a[i * o.lda + p];
              const double y = tb ? o.b[j * o.ldb + p] : o.b[p * o.ldb + j];
              sum += x * y;
              magnitude += std::fabs(x * y);
            }
            const double expected = alpha * sum + beta * static_cast<double>(o.c[at]);
            // float accumulation of k products: a few ulps of the sum of magnitudes.
            const double bound = 1e-6 * static_cast<double>(s.k) * (magnitude + 1.0);
            ASSERT_NEAR(c[at], expected, bound) << "ta " << ta << " tb " << tb << " shape "
                                                << s.m << "x" << s.n << "x" << s.k << " at " << i
                                                << ", " << j;
            largest = std::max(largest, std::fabs(expected));
          }
        }
        EXPECT_GT(largest, 0.1);  // a result, not zeros
      }
    }
  }
}

TEST(HostGemm, SameBitsWhateverTheNumberOfThreads) {
#if !defined(_OPENMP)
  GTEST_SKIP() << "built without OpenMP";
#else
  std::uint32_t seed = 100;
  for (const Shape& s : kShapes) {
    for (int ta = 0; ta < 2; ++ta) {
      for (int tb = 0; tb < 2; ++tb) {
        const Operands o = make_operands(ta != 0, tb != 0, s, seed++);
        const std::vector<float> one = run_gemm(o, 1.0f, 0.0f, 1);
        for (int threads : {2, 3}) {
          const std::vector<float> many = run_gemm(o, 1.0f, 0.0f, threads);
          ASSERT_EQ(0, std::memcmp(one.data(), many.data(), one.size() * sizeof(float)))
              << threads << " threads, ta " << ta << " tb " << tb << " shape " << s.m << "x"
              << s.n << "x" << s.k;
        }
      }
    }
  }
#endif
}

}  // namespace
