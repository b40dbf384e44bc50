// HSIC estimator benchmarks: cuxplain's O(N^2 + N d) estimator (GEMM form for
// binary masks, tiled kernel for continuous ones) beside the literal (d, N, N)
// formulation of the reference code (K_i for every cell, H K_i H by GEMMs,
// then the elementwise product with Lc), at the size where that still fits.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"
#include "kernels/cpu/backend.hpp"

#if CUXPLAIN_WITH_CUDA
#include "baselines/hsic_literal.hpp"
#endif

namespace {

using namespace cuxplain;

struct Problem {
  std::int64_t n, d;
  bool binary;
  std::vector<float> masks, y, centered_gram;
};

Problem make_problem(std::int64_t n, std::int64_t d, bool binary) {
  const Context host = Context::host();
  Problem p{n, d, binary, std::vector<float>(static_cast<std::size_t>(n * d)),
            std::vector<float>(static_cast<std::size_t>(n)),
            std::vector<float>(static_cast<std::size_t>(n * n))};
  hsic_design(host, binary ? Sampler::sobol : Sampler::lhs, n, d, binary, p.masks.data(), 1, 3);
  for (std::int64_t j = 0; j < n; ++j)
    p.y[j] = std::sin(3.0f * p.masks[j * d]) + p.masks[j * d + d / 2] * p.masks[j * d + d - 1];
  const float width = hsic_output_width(host, p.y.data(), n, Bandwidth::median_output);
  hsic_centered_gram(host, p.y.data(), n, width, p.centered_gram.data());
  return p;
}

const HsicKernel kKernelFor[2] = {HsicKernel::rbf, HsicKernel::binary};

void set_counters(benchmark::State& state, const Problem& p) {
  // Items: kernel evaluations k(x_ji, x_li) the estimator accounts for.
  bench::set_throughput(state, static_cast<double>(p.n * p.n + p.n * p.d) * 4.0,
                        static_cast<double>(p.n) * p.n * p.d);
  state.counters["estimator_bytes"] = static_cast<double>((p.n * p.n + 2 * p.n * p.d) * 4);
}

void BM_HsicScoresHost(benchmark::State& state) {
  const Problem p = make_problem(state.range(0), state.range(1), state.range(2) != 0);
  const Context ctx = Context::host();
  std::vector<float> scores(static_cast<std::size_t>(p.d));
  for (auto _ : state) {
    hsic_scores(ctx, p.masks.data(), p.n, p.d, kKernelFor[p.binary], p.binary,
                p.centered_gram.data(), scores.data());
    benchmark::DoNotOptimize(scores.data());
  }
  set_counters(state, p);
}

/// The (d, N, N) formulation on the host: K_i, then H K_i H with two GEMMs,
/// then sum(K_c o Lc) / N, cell by cell (the tensor for all cells would not
/// fit; per cell it is the same arithmetic).
void BM_HsicLiteralHost(benchmark::State& state) {
  const Problem p = make_problem(state.range(0), state.range(1), state.range(2) != 0);
  const std::int64_t n = p.n;
  const Context ctx = Context::host();
  std::vector<float> h(static_cast<std::size_t>(n * n)), k(h.size()), hk(h.size()), kc(h.size());
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) h[i * n + j] = (i == j) - 1.0f / n;
  std::vector<float> scores(static_cast<std::size_t>(p.d));
  for (auto _ : state) {
    for (std::int64_t cell = 0; cell < p.d; ++cell) {
      for (std::int64_t a = 0; a < n; ++a)
        for (std::int64_t b = 0; b < n; ++b) {
          const float diff = p.masks[a * p.d + cell] - p.masks[b * p.d + cell];
          k[a * n + b] = p.binary ? 0.5f - diff * diff : std::exp(-diff * diff * 2.0f);
        }
      kernels::cpu::gemm(ctx, false, false, n, n, n, 1.0f, h.data(), n, k.data(), n, 0.0f, hk.data(), n);
      kernels::cpu::gemm(ctx, false, false, n, n, n, 1.0f, hk.data(), n, h.data(), n, 0.0f, kc.data(), n);
      double sum = 0.0;
      for (std::int64_t e = 0; e < n * n; ++e) sum += kc[e] * p.centered_gram[e];
      scores[cell] = static_cast<float>(sum / n);
    }
    benchmark::DoNotOptimize(scores.data());
  }
  set_counters(state, p);
}

#if CUXPLAIN_WITH_CUDA

void BM_HsicScoresCuda(benchmark::State& state) {
  const Problem p = make_problem(state.range(0), state.range(1), state.range(2) != 0);
  const Context ctx = Context::cuda();
  Buffer<float> masks(ctx, p.n * p.d), gram(ctx, p.n * p.n), scores(ctx, p.d);
  copy_to_device(ctx, masks.data(), p.masks.data(), masks.bytes());
  copy_to_device(ctx, gram.data(), p.centered_gram.data(), gram.bytes());
  bench::time_cuda(state, ctx, [&] {
    hsic_scores(ctx, masks.data(), p.n, p.d, kKernelFor[p.binary], p.binary, gram.data(),
                scores.data());
  });
  set_counters(state, p);
}

void BM_HsicLiteralCuda(benchmark::State& state) {
  const Problem p = make_problem(state.range(0), state.range(1), state.range(2) != 0);
  const Context ctx = Context::cuda();
  bench::HsicLiteralCuda literal(p.masks.data(), p.centered_gram.data(), p.n, p.d, p.binary,
                                 ctx.stream());
  bench::time_cuda(state, ctx, [&] { literal.run(); });
  set_counters(state, p);
  state.counters["literal_bytes"] = static_cast<double>(bench::hsic_literal_cuda_bytes(p.n, p.d));
}

#endif

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::vector<std::int64_t>> sizes = {{1536, 49}, {8192, 256}};
  for (const auto& size : sizes) {
    for (std::int64_t binary : {1, 0}) {
      benchmark::RegisterBenchmark("hsic_scores/host", BM_HsicScoresHost)
          ->Args({size[0], size[1], binary})
          ->Unit(benchmark::kMillisecond)
          // The continuous host case at N = 8192 evaluates 17e9 kernels.
          ->Iterations(size[0] > 4096 ? 1 : 5);
    }
  }
  benchmark::RegisterBenchmark("hsic_literal_dNN/host", BM_HsicLiteralHost)
      ->Args({1536, 49, 1})
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
  return bench::run_benchmarks(argc, argv, [&] {
#if CUXPLAIN_WITH_CUDA
    for (const auto& size : sizes)
      for (std::int64_t binary : {1, 0})
        benchmark::RegisterBenchmark("hsic_scores/cuda", BM_HsicScoresCuda)
            ->Args({size[0], size[1], binary})
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    // The (d, N, N) tensor fits at N = 1536, d = 49 (0.9 GB); at N = 8192,
    // d = 256 it would need 137 GB.
    for (std::int64_t binary : {1, 0})
      benchmark::RegisterBenchmark("hsic_literal_dNN/cuda", BM_HsicLiteralCuda)
          ->Args({1536, 49, binary})
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
#endif
  });
}
