// Throughput of the fused perturbation and the box blur: 256 perturbed copies
// of a 224 x 224 x 3 image (8 x 8 masks) in both layouts, every mask mode, f32
// and f16 outputs, and the 10 x 10 box blur of one image. Host cases always,
// each beside a memset of its output by the same threads in the same run
// ("of_memset": the share of memset's write bandwidth reached); CUDA cases
// (event-timed, L2 flushed, % of peak DRAM bandwidth) when a device is
// present.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"

#if CUXPLAIN_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace {

using namespace cuxplain;

constexpr std::int64_t kMasks = 256;
constexpr std::int64_t kChannels = 3;
constexpr std::int64_t kSide = 224;
constexpr std::int64_t kGrid = 8;
constexpr std::int64_t kImageSize = kChannels * kSide * kSide;
constexpr std::int64_t kBlurSize = 10;

struct PerturbCase {
  Perturbation kind;
  Layout layout;
  Interpolation interpolation;
  DType type;
};

std::string name_of(const PerturbCase& p) {
  return std::string(to_string(p.kind)) + "/" + (p.layout == Layout::nchw ? "nchw" : "nhwc") + "/" +
         to_string(p.interpolation) + "/" +
         (p.type == DType::f32   ? "f32"
          : p.type == DType::f16 ? "f16"
                                 : "bf16");
}

std::vector<float> random_values(std::int64_t count, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = dist(gen);
  return values;
}

PerturbationParams params_of(const PerturbCase& p) {
  PerturbationParams params;
  params.kind = p.kind;
  params.interpolation = p.interpolation;
  params.grid_size = kGrid;
  return params;
}

/// Bytes one perturb call moves: every output element written once, the
/// image, the blurred image (blurring) and the masks read once.
double perturb_bytes(const PerturbCase& p) {
  const double out = static_cast<double>(kMasks * kImageSize) * dtype_size(p.type);
  const double image = kImageSize * sizeof(float) * (p.kind == Perturbation::blurring ? 2.0 : 1.0);
  const double masks = static_cast<double>(kMasks * kGrid * kGrid) * sizeof(float);
  return out + image + masks;
}

/// Inputs and output of one perturb case on ctx's device.
struct PerturbData {
  Buffer<float> image;
  Buffer<float> masks;
  Buffer<float> blurred;
  Buffer<std::uint16_t> out;  // room for f32 too: 2 x uint16 per element

  PerturbData(const Context& ctx, const PerturbCase& p)
      : image(ctx, kImageSize),
        masks(ctx, kMasks * kGrid * kGrid),
        blurred(ctx, kImageSize),
        out(ctx, kMasks * kImageSize * 2) {
    const auto pixels = random_values(kImageSize, 1);
    const auto mask_values = random_values(kMasks * kGrid * kGrid, 2);
    copy_to_device(ctx, image.data(), pixels.data(), pixels.size() * sizeof(float));
    copy_to_device(ctx, masks.data(), mask_values.data(), mask_values.size() * sizeof(float));
    box_blur(ctx, view(p), kBlurSize, {blurred.data(), 1, kChannels, kSide, kSide, p.layout});
  }
  ConstImageView view(const PerturbCase& p) const {
    return {image.data(), 1, kChannels, kSide, kSide, p.layout};
  }
  void run(const Context& ctx, const PerturbCase& p) const {
    perturb(ctx, view(p), masks.data(), kMasks, params_of(p), blurred.data(), out.data(), p.type);
  }
};

/// memset of `bytes` at `dst` by the host backend's OpenMP team, a
/// contiguous share per thread: the write bandwidth the perturbation is
/// measured against.
void team_memset(void* dst, std::size_t bytes) {
  constexpr std::int64_t kShares = 256;
  auto* base = static_cast<char*>(dst);
#pragma omp parallel for schedule(static)
  for (std::int64_t share = 0; share < kShares; ++share) {
    const std::size_t begin = bytes * static_cast<std::size_t>(share) / kShares;
    const std::size_t end = bytes * static_cast<std::size_t>(share + 1) / kShares;
    std::memset(base + begin, 0, end - begin);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Each iteration times the perturbation, then (outside the benchmark's
/// clock) a team memset of the same output bytes, so both see the same load:
/// "of_memset" is the perturbation's write bandwidth over memset's.
void host_perturb(benchmark::State& state, PerturbCase p) {
  const Context ctx = Context::host();
  const PerturbData data(ctx, p);
  const std::size_t out_bytes = static_cast<std::size_t>(kMasks * kImageSize) * dtype_size(p.type);
  team_memset(data.out.data(), out_bytes);  // first touch of the pages
  double perturb_seconds = 0.0, memset_seconds = 0.0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    data.run(ctx, p);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
    perturb_seconds += seconds_since(start);
    state.PauseTiming();
    const auto memset_start = std::chrono::steady_clock::now();
    team_memset(data.out.data(), out_bytes);
    benchmark::ClobberMemory();
    memset_seconds += seconds_since(memset_start);
    state.ResumeTiming();
  }
  bench::set_throughput(state, perturb_bytes(p), static_cast<double>(kMasks * kImageSize));
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["write_GBps"] = static_cast<double>(out_bytes) * iterations / perturb_seconds / 1e9;
  state.counters["memset_GBps"] = static_cast<double>(out_bytes) * iterations / memset_seconds / 1e9;
  state.counters["of_memset"] = memset_seconds / perturb_seconds;
}

/// Bytes of one blur: the image read and the result written (the temporary
/// row sums add one write and one read more, not counted).
double blur_bytes() { return 2.0 * kImageSize * sizeof(float); }

void host_box_blur(benchmark::State& state, Layout layout) {
  const Context ctx = Context::host();
  const auto pixels = random_values(kImageSize, 3);
  std::vector<float> out(pixels.size());
  for (auto _ : state) {
    box_blur(ctx, {pixels.data(), 1, kChannels, kSide, kSide, layout}, kBlurSize,
             {out.data(), 1, kChannels, kSide, kSide, layout});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bench::set_throughput(state, blur_bytes(), static_cast<double>(kImageSize));
}

#if CUXPLAIN_WITH_CUDA

void cuda_perturb(benchmark::State& state, PerturbCase p) {
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  {
    const PerturbData data(ctx, p);
    bench::time_cuda(state, ctx, [&] { data.run(ctx, p); });
  }
  ctx.synchronize();
  bench::set_throughput(state, perturb_bytes(p), static_cast<double>(kMasks * kImageSize));
  bench::set_percent_of_peak(state, perturb_bytes(p));
}

void cuda_box_blur(benchmark::State& state, Layout layout) {
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  {
    Buffer<float> image(ctx, kImageSize);
    Buffer<float> out(ctx, kImageSize);
    const auto pixels = random_values(kImageSize, 3);
    copy_to_device(ctx, image.data(), pixels.data(), pixels.size() * sizeof(float));
    bench::time_cuda(state, ctx, [&] {
      box_blur(ctx, {image.data(), 1, kChannels, kSide, kSide, layout}, kBlurSize,
               {out.data(), 1, kChannels, kSide, kSide, layout});
    });
  }
  ctx.synchronize();
  bench::set_throughput(state, blur_bytes(), static_cast<double>(kImageSize));
  bench::set_percent_of_peak(state, blur_bytes());
}

#endif  // CUXPLAIN_WITH_CUDA

std::vector<PerturbCase> perturb_cases() {
  std::vector<PerturbCase> cases;
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    for (Interpolation mode :
         {Interpolation::nearest, Interpolation::nearest_exact, Interpolation::bilinear}) {
      for (DType type : {DType::f32, DType::f16}) {
        cases.push_back({Perturbation::inpainting, layout, mode, type});
      }
    }
  }
  // The other formulas on the default mask mode.
  cases.push_back({Perturbation::blurring, Layout::nchw, Interpolation::nearest_exact, DType::f32});
  cases.push_back(
      {Perturbation::amplitude, Layout::nchw, Interpolation::nearest_exact, DType::f32});
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string shape = "/256x224x224x3/g8/";
  for (const PerturbCase& p : perturb_cases()) {
    // Real time: the host backend runs on all OpenMP threads.
    benchmark::RegisterBenchmark(("perturb/host" + shape + name_of(p)).c_str(), host_perturb, p)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    const std::string name =
        std::string("box_blur/host/224x224x3/k10/") + (layout == Layout::nchw ? "nchw" : "nhwc");
    benchmark::RegisterBenchmark(name.c_str(), host_box_blur, layout)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  return bench::run_benchmarks(argc, argv, [&] {
#if CUXPLAIN_WITH_CUDA
    for (const PerturbCase& p : perturb_cases()) {
      benchmark::RegisterBenchmark(("perturb/cuda" + shape + name_of(p)).c_str(), cuda_perturb, p)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
    for (Layout layout : {Layout::nchw, Layout::nhwc}) {
      const std::string name =
          std::string("box_blur/cuda/224x224x3/k10/") + (layout == Layout::nchw ? "nchw" : "nhwc");
      benchmark::RegisterBenchmark(name.c_str(), cuda_box_blur, layout)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
#endif
  });
}
