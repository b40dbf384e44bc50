// NMF benchmarks, for each solver (multiplicative updates, mu; coordinate
// descent, cd): iterations per second from a fixed start, time to a target
// relative error from NNDSVDa (initialization included), and a fit with the
// default options (tol 1e-4; mu tests the error every 10 iterations, cd the
// violation every iteration), at the CRAFT size n = 2000, p = 2048, r = 25
// and at n = 50000. Host cases are wall-clock (OpenMP and OpenBLAS threads);
// CUDA cases are event timed (manual time) when a device is present. The mu
// cases keep their names (nmf_mu_iterations, nmf_time_to_error,
// nmf_fit_defaults); the cd ones are nmf_cd_iterations,
// nmf_cd_time_to_error and nmf_cd_fit_defaults.
//
// The problem is a planted factorization A = max(U* W* + noise, 0) whose
// entries come from a splitmix64 hash, so that bench/sklearn_nmf.py builds
// the same matrix in numpy and times scikit-learn's NMF(solver='mu' and
// 'cd') on it.
// The target relative error is kTargetRatio times the planted noise level
// ||A - U* W*||_F / ||A||_F; the iterations needed are found by one fit
// with a loss history before the timed fits, which then run exactly that
// many iterations (tol = 0).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/nmf.hpp>

#include "bench_common.hpp"
#include "kernels/cpu/backend.hpp"

namespace {

using namespace cuxplain;

constexpr double kNoise = 0.1;         ///< noise sd / RMS of U* W*
constexpr double kTargetRatio = 1.35;  ///< target relative error / noise level (about 100 iterations)
constexpr std::int64_t kMaxIterToTarget = 1000;

// ---- the planted problem (mirrored in bench/sklearn_nmf.py) ----

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// Uniform in [0, 1) from entry `index` of stream `stream`.
double uniform(std::uint64_t stream, std::uint64_t index) {
  const std::uint64_t bits = mix64(stream * 0xd1b54a32d192ed03ull + (index + 1) * 0x9e3779b97f4a7c15ull);
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

/// Entries uniform in [0, 1), a third of them (by stream `zero_stream`) zero.
std::vector<float> planted_factor(std::int64_t count, std::uint64_t zero_stream,
                                  std::uint64_t value_stream) {
  std::vector<float> f(static_cast<std::size_t>(count));
  for (std::int64_t e = 0; e < count; ++e) {
    f[e] = uniform(zero_stream, e) < 1.0 / 3.0 ? 0.0f : static_cast<float>(uniform(value_stream, e));
  }
  return f;
}

struct Problem {
  std::int64_t n, p, r;
  std::vector<float> a;
  double noise_level = 0.0, norm_a = 0.0;
};

const Problem& planted(std::int64_t n, std::int64_t p, std::int64_t r) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::unique_ptr<Problem>> cache;
  auto& slot = cache[{n, p, r}];
  if (slot) return *slot;
  slot = std::make_unique<Problem>();
  Problem& pr = *slot;
  pr.n = n, pr.p = p, pr.r = r;
  const std::vector<float> u = planted_factor(n * r, 1, 2), w = planted_factor(r * p, 3, 4);
  std::vector<float> clean(static_cast<std::size_t>(n * p));
  kernels::cpu::gemm(Context::host(), false, false, n, p, r, 1.0f, u.data(), r, w.data(), p, 0.0f, clean.data(), p);
  double clean_sq = 0.0;
  for (float v : clean) clean_sq += static_cast<double>(v) * v;
  const double sigma = kNoise * std::sqrt(clean_sq / static_cast<double>(n * p));
  pr.a.resize(clean.size());
  double noise_sq = 0.0, a_sq = 0.0;
  for (std::int64_t e = 0; e < n * p; ++e) {
    const double u1 = uniform(5, e), u2 = uniform(6, e);
    const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
    const double v = clean[e] + sigma * z;
    pr.a[e] = static_cast<float>(v > 0.0 ? v : 0.0);
    noise_sq += (pr.a[e] - static_cast<double>(clean[e])) * (pr.a[e] - static_cast<double>(clean[e]));
    a_sq += static_cast<double>(pr.a[e]) * pr.a[e];
  }
  pr.noise_level = std::sqrt(noise_sq / a_sq);
  pr.norm_a = std::sqrt(a_sq);
  return pr;
}

/// FLOPs of one iteration: A W^T and U^T A (2 n p r each) and the four Gram products.
double flops_per_iteration(const Problem& pr) {
  return 4.0 * pr.n * pr.p * pr.r + 4.0 * (pr.n + pr.p) * pr.r * pr.r;
}

void set_iteration_counters(benchmark::State& state, const Problem& pr, std::int64_t iterations,
                            nmf::Solver solver) {
  const double runs = static_cast<double>(state.iterations());
  state.counters[std::string(nmf::to_string(solver)) + "_iterations_per_second"] =
      benchmark::Counter(static_cast<double>(iterations) * runs, benchmark::Counter::kIsRate);
  state.counters["gflops"] = benchmark::Counter(
      flops_per_iteration(pr) * static_cast<double>(iterations) * runs * 1e-9, benchmark::Counter::kIsRate);
}

/// Iterations from NNDSVDa until ||A - U W|| / ||A|| <= kTargetRatio * noise
/// level (0 when not reached within kMaxIterToTarget), and the error then.
std::pair<std::int64_t, double> iterations_to_target(const Context& ctx, const Problem& pr,
                                                     const float* a, float* u, float* w,
                                                     nmf::Solver solver) {
  nmf::Options options;
  options.rank = pr.r;
  options.solver = solver;
  options.tol = 0.0;
  options.max_iter = kMaxIterToTarget;
  options.loss_history = true;
  const nmf::Result result = nmf::fit(ctx, a, pr.n, pr.p, options, u, w);
  const double target = kTargetRatio * pr.noise_level;
  for (std::size_t k = 1; k < result.loss_history.size(); ++k) {
    const double error = std::sqrt(2.0 * result.loss_history[k]) / pr.norm_a;
    if (error <= target) return {static_cast<std::int64_t>(k), error};
  }
  return {0, 0.0};
}

// ---- host ----

/// A in the library's host memory, as CRAFT's activations are: a large host
/// Buffer gets transparent huge pages (as numpy's arrays do), which a
/// std::vector does not where THP is "madvise".
Buffer<float> host_matrix(const Context& ctx, const Problem& pr) {
  Buffer<float> a(ctx, pr.n * pr.p);
  copy_to_device(ctx, a.data(), pr.a.data(), a.bytes());
  return a;
}

template <nmf::Solver kSolver>
void BM_NmfIterationsHost(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const std::int64_t iterations = state.range(3);
  const Context ctx = Context::host();
  const Buffer<float> a = host_matrix(ctx, pr);
  nmf::Options options;
  options.rank = pr.r;
  options.solver = kSolver;
  options.init = nmf::Init::random;
  std::vector<float> u0(static_cast<std::size_t>(pr.n * pr.r)), w0(static_cast<std::size_t>(pr.r * pr.p));
  nmf::initialize(ctx, a.data(), pr.n, pr.p, options, u0.data(), w0.data());
  options.init = nmf::Init::custom;
  options.tol = 0.0;
  options.max_iter = iterations;
  std::vector<float> u, w;
  for (auto _ : state) {
    state.PauseTiming();
    u = u0, w = w0;
    state.ResumeTiming();
    nmf::fit(ctx, a.data(), pr.n, pr.p, options, u.data(), w.data());
  }
  set_iteration_counters(state, pr, iterations, kSolver);
}

template <nmf::Solver kSolver>
void BM_NmfTimeToErrorHost(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const Context ctx = Context::host();
  const Buffer<float> a = host_matrix(ctx, pr);
  std::vector<float> u(static_cast<std::size_t>(pr.n * pr.r)), w(static_cast<std::size_t>(pr.r * pr.p));
  const auto [k, reached] = iterations_to_target(ctx, pr, a.data(), u.data(), w.data(), kSolver);
  if (k == 0) {
    state.SkipWithError("target relative error not reached within kMaxIterToTarget iterations");
    return;
  }
  nmf::Options options;
  options.rank = pr.r;
  options.solver = kSolver;
  options.tol = 0.0;
  options.max_iter = k;
  for (auto _ : state) nmf::fit(ctx, a.data(), pr.n, pr.p, options, u.data(), w.data());
  state.counters["iterations"] = static_cast<double>(k);
  state.counters["noise_level"] = pr.noise_level;
  state.counters["relative_error"] = reached;
}

template <nmf::Solver kSolver>
void BM_NmfDefaultsHost(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const Context ctx = Context::host();
  const Buffer<float> a = host_matrix(ctx, pr);
  nmf::Options options;  // nndsvda, tol 1e-4, max_iter 200
  options.rank = pr.r;
  options.solver = kSolver;
  std::vector<float> u(static_cast<std::size_t>(pr.n * pr.r)), w(static_cast<std::size_t>(pr.r * pr.p));
  nmf::Result result;
  for (auto _ : state) result = nmf::fit(ctx, a.data(), pr.n, pr.p, options, u.data(), w.data());
  state.counters["iterations"] = static_cast<double>(result.iterations);
  state.counters["relative_error"] = result.relative_error;
  state.counters["noise_level"] = pr.noise_level;
}

#if CUXPLAIN_WITH_CUDA

struct DeviceProblem {
  DeviceProblem(const Context& ctx, const Problem& pr)
      : a(ctx, pr.n * pr.p), u(ctx, pr.n * pr.r), w(ctx, pr.r * pr.p) {
    copy_to_device(ctx, a.data(), pr.a.data(), a.bytes());
  }
  Buffer<float> a, u, w;
};

template <nmf::Solver kSolver>
void BM_NmfIterationsCuda(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const std::int64_t iterations = state.range(3);
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  DeviceProblem dev(ctx, pr);
  Buffer<float> u0(ctx, pr.n * pr.r), w0(ctx, pr.r * pr.p);
  nmf::Options options;
  options.rank = pr.r;
  options.solver = kSolver;
  options.init = nmf::Init::random;
  nmf::initialize(ctx, dev.a.data(), pr.n, pr.p, options, u0.data(), w0.data());
  options.init = nmf::Init::custom;
  options.tol = 0.0;
  options.max_iter = iterations;
  bench::time_cuda(state, ctx, [&] {
    copy_on_device(ctx, dev.u.data(), u0.data(), u0.bytes());
    copy_on_device(ctx, dev.w.data(), w0.data(), w0.bytes());
    nmf::fit(ctx, dev.a.data(), pr.n, pr.p, options, dev.u.data(), dev.w.data());
  });
  set_iteration_counters(state, pr, iterations, kSolver);
}

template <nmf::Solver kSolver>
void BM_NmfTimeToErrorCuda(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  DeviceProblem dev(ctx, pr);
  const auto [k, reached] =
      iterations_to_target(ctx, pr, dev.a.data(), dev.u.data(), dev.w.data(), kSolver);
  if (k == 0) {
    state.SkipWithError("target relative error not reached within kMaxIterToTarget iterations");
    return;
  }
  nmf::Options options;
  options.rank = pr.r;
  options.solver = kSolver;
  options.tol = 0.0;
  options.max_iter = k;
  bench::time_cuda(state, ctx, [&] {
    nmf::fit(ctx, dev.a.data(), pr.n, pr.p, options, dev.u.data(), dev.w.data());
  });
  state.counters["iterations"] = static_cast<double>(k);
  state.counters["noise_level"] = pr.noise_level;
  state.counters["relative_error"] = reached;
}

template <nmf::Solver kSolver>
void BM_NmfDefaultsCuda(benchmark::State& state) {
  const Problem& pr = planted(state.range(0), state.range(1), state.range(2));
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  DeviceProblem dev(ctx, pr);
  nmf::Options options;
  options.rank = pr.r;
  options.solver = kSolver;
  nmf::Result result;
  bench::time_cuda(state, ctx, [&] {
    result = nmf::fit(ctx, dev.a.data(), pr.n, pr.p, options, dev.u.data(), dev.w.data());
  });
  state.counters["iterations"] = static_cast<double>(result.iterations);
  state.counters["relative_error"] = result.relative_error;
  state.counters["noise_level"] = pr.noise_level;
}

#endif

/// {n, p, r, iterations per timed fit}: CRAFT's size and a large one.
const std::vector<std::vector<std::int64_t>> kSizes = {{2000, 2048, 25, 20}, {50000, 2048, 25, 5}};

/// Shorter host fits of the CRAFT size, whose difference in time with the
/// 20-iteration ones gives the cost of an iteration without a fit's fixed
/// work (the pass over A, the last objective): bench/nmf_vs_sklearn.py times
/// scikit-learn's fits at the same two lengths.
constexpr std::int64_t kShortFit = 5;

/// The benchmark names of a solver: mu keeps the names it had before cd.
struct Names {
  const char* iterations;
  const char* time_to_error;
  const char* defaults;
};

Names names_of(nmf::Solver solver, bool cuda) {
  if (solver == nmf::Solver::mu) {
    return cuda ? Names{"nmf_mu_iterations/cuda", "nmf_time_to_error/cuda", "nmf_fit_defaults/cuda"}
                : Names{"nmf_mu_iterations/host", "nmf_time_to_error/host", "nmf_fit_defaults/host"};
  }
  return cuda ? Names{"nmf_cd_iterations/cuda", "nmf_cd_time_to_error/cuda", "nmf_cd_fit_defaults/cuda"}
              : Names{"nmf_cd_iterations/host", "nmf_cd_time_to_error/host", "nmf_cd_fit_defaults/host"};
}

template <nmf::Solver kSolver>
void register_host() {
  const Names names = names_of(kSolver, false);
  for (const auto& size : kSizes) {
    const bool large = size[0] > 10000;
    benchmark::RegisterBenchmark(names.iterations, BM_NmfIterationsHost<kSolver>)
        ->Args(size)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(large ? 1 : 5);
    if (!large) {
      benchmark::RegisterBenchmark(names.iterations, BM_NmfIterationsHost<kSolver>)
          ->Args({size[0], size[1], size[2], kShortFit})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(5);
    }
    benchmark::RegisterBenchmark(names.time_to_error, BM_NmfTimeToErrorHost<kSolver>)
        ->Args({size[0], size[1], size[2]})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1);
    benchmark::RegisterBenchmark(names.defaults, BM_NmfDefaultsHost<kSolver>)
        ->Args({size[0], size[1], size[2]})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1);
  }
}

#if CUXPLAIN_WITH_CUDA
template <nmf::Solver kSolver>
void register_cuda() {
  const Names names = names_of(kSolver, true);
  for (const auto& size : kSizes) {
    std::vector<std::int64_t> args = size;
    args[3] = 50;  // iterations per timed fit
    benchmark::RegisterBenchmark(names.iterations, BM_NmfIterationsCuda<kSolver>)
        ->Args(args)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(names.time_to_error, BM_NmfTimeToErrorCuda<kSolver>)
        ->Args({size[0], size[1], size[2]})
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
    benchmark::RegisterBenchmark(names.defaults, BM_NmfDefaultsCuda<kSolver>)
        ->Args({size[0], size[1], size[2]})
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  register_host<nmf::Solver::mu>();
  register_host<nmf::Solver::cd>();
  return bench::run_benchmarks(argc, argv, [&] {
#if CUXPLAIN_WITH_CUDA
    register_cuda<nmf::Solver::mu>();
    register_cuda<nmf::Solver::cd>();
#endif
  });
}
