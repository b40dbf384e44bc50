// Sobol design rows: one explainer batch (256 rows) and the whole design, for
// an 8x8 grid (d = 64), per-channel masks on it (d = 192) and a 16x16 grid
// (d = 256), N = 32. items = design entries written; bytes = entries written
// plus the sequence read.
#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"

namespace {

using cuxplain::Context;

struct Shape {
  std::int64_t nb_design, d, rows;  // rows < 0: the whole design
};
constexpr Shape kShapes[] = {
    {32, 64, 256}, {32, 64, -1}, {32, 192, 256}, {32, 192, -1}, {32, 256, -1}};

std::int64_t rows_of(Shape s) {
  return s.rows > 0 ? s.rows : cuxplain::sobol_design_rows(s.nb_design, s.d, false);
}

double bytes_moved(Shape s) {
  return 4.0 * static_cast<double>(rows_of(s) * s.d + s.nb_design * 2 * s.d);
}

std::vector<float> make_sequence(Shape s) {
  std::vector<float> sequence(static_cast<std::size_t>(s.nb_design * 2 * s.d));
  for (std::size_t i = 0; i < sequence.size(); ++i)
    sequence[i] = static_cast<float>(i % 97) / 97.0f;
  return sequence;
}

// Batches start inside the C blocks, as most of an explainer's batches do.
std::int64_t first_row(Shape s) { return s.rows > 0 ? s.nb_design + 7 : 0; }

void host_case(benchmark::State& state, Shape s) {
  const Context ctx = Context::host();
  const std::vector<float> sequence = make_sequence(s);
  std::vector<float> masks(static_cast<std::size_t>(rows_of(s) * s.d));
  for (auto _ : state) {
    cuxplain::sobol_design_masks(ctx, sequence.data(), s.nb_design, s.d, false, first_row(s),
                                 rows_of(s), masks.data());
    benchmark::DoNotOptimize(masks.data());
    benchmark::ClobberMemory();
  }
  cuxplain::bench::set_throughput(state, bytes_moved(s), static_cast<double>(rows_of(s) * s.d));
}

#if CUXPLAIN_WITH_CUDA
void cuda_case(benchmark::State& state, Shape s) {
  const cuxplain::bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  const std::vector<float> sequence = make_sequence(s);
  cuxplain::Buffer<float> device_sequence(ctx, static_cast<std::int64_t>(sequence.size()));
  cuxplain::copy_to_device(ctx, device_sequence.data(), sequence.data(),
                           sequence.size() * sizeof(float));
  cuxplain::Buffer<float> masks(ctx, rows_of(s) * s.d);
  cuxplain::bench::time_cuda(state, ctx, [&] {
    cuxplain::sobol_design_masks(ctx, device_sequence.data(), s.nb_design, s.d, false,
                                 first_row(s), rows_of(s), masks.data());
  });
  cuxplain::bench::set_throughput(state, bytes_moved(s), static_cast<double>(rows_of(s) * s.d));
  cuxplain::bench::set_percent_of_peak(state, bytes_moved(s));
}
#endif

std::string name(const char* backend, Shape s) {
  return std::string(backend) + "/design_rows/N:" + std::to_string(s.nb_design) +
         "/d:" + std::to_string(s.d) + "/rows:" + std::to_string(rows_of(s));
}

}  // namespace

int main(int argc, char** argv) {
  for (Shape s : kShapes) benchmark::RegisterBenchmark(name("host", s).c_str(), host_case, s);
  return cuxplain::bench::run_benchmarks(argc, argv, [] {
#if CUXPLAIN_WITH_CUDA
    for (Shape s : kShapes) {
      benchmark::RegisterBenchmark(name("cuda", s).c_str(), cuda_case, s)->UseManualTime();
    }
#endif
  });
}
