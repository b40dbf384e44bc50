// Sobol estimators: every total-order estimator and the first-order index on
// the shapes the explainers produce (N = 32 designs over 8x8 and 32x32 grids),
// a long design over few inputs (N = 2^14, d = 3: Ishigami-like) and a large
// one (N = 1024, d = 4096). items = N * d points reduced; bytes = the outputs
// read once (y_a, y_c, and y_b for first order) plus the indices written.
#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"

namespace {

using cuxplain::Context;
using cuxplain::Estimator;

struct Shape {
  std::int64_t nb_design, d;
};
constexpr Shape kShapes[] = {{32, 64}, {32, 1024}, {1 << 14, 3}, {1024, 4096}};
constexpr Estimator kEstimators[] = {Estimator::jansen, Estimator::homma, Estimator::janon,
                                     Estimator::glen, Estimator::saltelli};

/// Outputs of the stacked design: y_a, y_b, then y_c (d blocks of N).
std::vector<float> make_outputs(std::int64_t nb_design, std::int64_t d) {
  std::vector<float> y(static_cast<std::size_t>(nb_design * (d + 2)));
  std::uint32_t state = 12345u;
  for (float& v : y) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) * (1.0f / 16777216.0f);
  }
  return y;
}

double bytes_moved(Shape s, bool first_order) {
  return 4.0 * (static_cast<double>(s.nb_design) * (s.d + (first_order ? 2 : 1)) + s.d);
}

/// Runs total order (`first_order` false) or first order on ctx with outputs at `y`.
void run(const Context& ctx, Estimator estimator, bool first_order, const float* y, Shape s,
         float* out) {
  const float* y_a = y;
  const float* y_b = y + s.nb_design;
  const float* y_c = y + 2 * s.nb_design;
  if (first_order) {
    cuxplain::sobol_first_order(ctx, y_a, y_b, y_c, s.nb_design, s.d, out);
  } else {
    cuxplain::sobol_total_order(ctx, estimator, y_a, y_c, s.nb_design, s.d, out);
  }
}

void host_case(benchmark::State& state, Estimator estimator, bool first_order, Shape s) {
  const Context ctx = Context::host();
  const std::vector<float> y = make_outputs(s.nb_design, s.d);
  std::vector<float> out(static_cast<std::size_t>(s.d));
  for (auto _ : state) {
    run(ctx, estimator, first_order, y.data(), s, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  cuxplain::bench::set_throughput(state, bytes_moved(s, first_order),
                                  static_cast<double>(s.nb_design * s.d));
}

#if CUXPLAIN_WITH_CUDA
void cuda_case(benchmark::State& state, Estimator estimator, bool first_order, Shape s) {
  const cuxplain::bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  const std::vector<float> y = make_outputs(s.nb_design, s.d);
  cuxplain::Buffer<float> device_y(ctx, static_cast<std::int64_t>(y.size()));
  cuxplain::copy_to_device(ctx, device_y.data(), y.data(), y.size() * sizeof(float));
  cuxplain::Buffer<float> out(ctx, s.d);
  cuxplain::bench::time_cuda(
      state, ctx, [&] { run(ctx, estimator, first_order, device_y.data(), s, out.data()); });
  cuxplain::bench::set_throughput(state, bytes_moved(s, first_order),
                                  static_cast<double>(s.nb_design * s.d));
  cuxplain::bench::set_percent_of_peak(state, bytes_moved(s, first_order));
}
#endif

std::string name(const char* backend, const std::string& what, Shape s) {
  return std::string(backend) + "/" + what + "/N:" + std::to_string(s.nb_design) +
         "/d:" + std::to_string(s.d);
}

void register_backend(const char* backend, void (*fn)(benchmark::State&, Estimator, bool, Shape),
                      bool manual_time) {
  for (Shape s : kShapes) {
    for (Estimator estimator : kEstimators) {
      auto* b = benchmark::RegisterBenchmark(
          name(backend, std::string("total_order/") + cuxplain::to_string(estimator), s).c_str(),
          fn, estimator, false, s);
      if (manual_time) b->UseManualTime();
    }
    auto* b = benchmark::RegisterBenchmark(name(backend, "first_order", s).c_str(), fn,
                                           Estimator::jansen, true, s);
    if (manual_time) b->UseManualTime();
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
