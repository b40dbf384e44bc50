// Samplers: every sampler on the default Sobol attribution design (N = 32
// points of 2 x 8 x 8 dimensions, skipping the first point), a wide one
// (N = 4096, 2048 dims: the size of a 32 x 32 grid's design) and a long one
// (N = 2^16, 128 dims). items = values written (n * dims); bytes = the float
// output, written once (Sobol also writes and reads 32 * dims direction words,
// negligible beside it).
#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/qmc.hpp>

#include "bench_common.hpp"

namespace {

using cuxplain::Context;
using cuxplain::Sampler;

struct Shape {
  std::int64_t n, dims, skip;
};
constexpr Shape kShapes[] = {{32, 2 * 64, 1}, {4096, 2048, 0}, {1 << 16, 128, 0}};
constexpr Sampler kSamplers[] = {Sampler::sobol, Sampler::sobol_owen, Sampler::halton,
                                 Sampler::lhs, Sampler::monte_carlo};
constexpr std::uint64_t kSeed = 2024;

double bytes_written(Shape s) { return 4.0 * static_cast<double>(s.n * s.dims); }

void host_case(benchmark::State& state, Sampler sampler, Shape s) {
  const Context ctx = Context::host();
  std::vector<float> out(static_cast<std::size_t>(s.n * s.dims));
  for (auto _ : state) {
    cuxplain::generate_samples(ctx, sampler, s.n, s.dims, out.data(), s.skip, kSeed);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  cuxplain::bench::set_throughput(state, bytes_written(s), static_cast<double>(s.n * s.dims));
}

#if CUXPLAIN_WITH_CUDA
void cuda_case(benchmark::State& state, Sampler sampler, Shape s) {
  const cuxplain::bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  cuxplain::Buffer<float> out(ctx, s.n * s.dims);
  cuxplain::bench::time_cuda(state, ctx, [&] {
    cuxplain::generate_samples(ctx, sampler, s.n, s.dims, out.data(), s.skip, kSeed);
  });
  cuxplain::bench::set_throughput(state, bytes_written(s), static_cast<double>(s.n * s.dims));
  cuxplain::bench::set_percent_of_peak(state, bytes_written(s));
}
#endif

std::string name(const char* backend, Sampler sampler, Shape s) {
  return std::string(backend) + "/" + cuxplain::to_string(sampler) + "/n:" + std::to_string(s.n) +
         "/dims:" + std::to_string(s.dims);
}

void register_backend(const char* backend, void (*fn)(benchmark::State&, Sampler, Shape),
                      bool manual_time) {
  for (Shape s : kShapes) {
    for (Sampler sampler : kSamplers) {
      auto* b = benchmark::RegisterBenchmark(name(backend, sampler, s).c_str(), fn, sampler, s);
      if (manual_time) b->UseManualTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_backend("host", host_case, false);
  return cuxplain::bench::run_benchmarks(argc, argv, [] {
#if CUXPLAIN_WITH_CUDA
    register_backend("cuda", cuda_case, true);
#endif
  });
}
