// Heatmap upsampling 8x8 -> 224x224 (the default grid on ImageNet-sized
// images), one heatmap and a batch of 256, 1 and 3 channels, bicubic and
// nearest. items = output elements; bytes = output written plus cells read.
#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"

namespace {

using cuxplain::Context;
using cuxplain::Interpolation;

struct Shape {
  std::int64_t n, grid, size, channels;
};
constexpr Shape kShapes[] = {{1, 8, 224, 1}, {256, 8, 224, 1}, {256, 8, 224, 3}};

std::int64_t out_count(Shape s) { return s.n * s.size * s.size * s.channels; }
std::int64_t cell_count(Shape s) { return s.n * s.grid * s.grid * s.channels; }
double bytes_moved(Shape s) { return 4.0 * static_cast<double>(out_count(s) + cell_count(s)); }

std::vector<float> make_cells(Shape s) {
  std::vector<float> cells(static_cast<std::size_t>(cell_count(s)));
  for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = static_cast<float>(i % 13) / 13.0f;
  return cells;
}

void host_case(benchmark::State& state, Interpolation method, Shape s) {
  const Context ctx = Context::host();
  const std::vector<float> cells = make_cells(s);
  std::vector<float> out(static_cast<std::size_t>(out_count(s)));
  for (auto _ : state) {
    cuxplain::upsample(ctx, cells.data(), s.n, s.grid, s.grid, s.size, s.size, out.data(), method,
                       s.channels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  cuxplain::bench::set_throughput(state, bytes_moved(s), static_cast<double>(out_count(s)));
}

#if CUXPLAIN_WITH_CUDA
void cuda_case(benchmark::State& state, Interpolation method, Shape s) {
  const cuxplain::bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  const std::vector<float> cells = make_cells(s);
  cuxplain::Buffer<float> device_cells(ctx, cell_count(s));
  cuxplain::copy_to_device(ctx, device_cells.data(), cells.data(), cells.size() * sizeof(float));
  cuxplain::Buffer<float> out(ctx, out_count(s));
  cuxplain::bench::time_cuda(state, ctx, [&] {
    cuxplain::upsample(ctx, device_cells.data(), s.n, s.grid, s.grid, s.size, s.size, out.data(),
                       method, s.channels);
  });
  cuxplain::bench::set_throughput(state, bytes_moved(s), static_cast<double>(out_count(s)));
  cuxplain::bench::set_percent_of_peak(state, bytes_moved(s));
}
#endif

std::string name(const char* backend, Interpolation method, Shape s) {
  return std::string(backend) + "/upsample/" + cuxplain::to_string(method) +
         "/n:" + std::to_string(s.n) + "/" + std::to_string(s.grid) + "x" + std::to_string(s.grid) +
         "->" + std::to_string(s.size) + "x" + std::to_string(s.size) +
         "/c:" + std::to_string(s.channels);
}

}  // namespace

int main(int argc, char** argv) {
  for (Interpolation method : {Interpolation::bicubic, Interpolation::nearest}) {
    for (Shape s : kShapes) {
      benchmark::RegisterBenchmark(name("host", method, s).c_str(), host_case, method, s);
    }
  }
  return cuxplain::bench::run_benchmarks(argc, argv, [] {
#if CUXPLAIN_WITH_CUDA
    for (Interpolation method : {Interpolation::bicubic, Interpolation::nearest}) {
      for (Shape s : kShapes) {
        benchmark::RegisterBenchmark(name("cuda", method, s).c_str(), cuda_case, method, s)
            ->UseManualTime();
      }
    }
#endif
  });
}
