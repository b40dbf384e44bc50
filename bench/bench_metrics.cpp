// The metrics' own cost, apart from the model's: the fused step images of
// deletion / insertion (64 rows of 224 x 224 x 3 written from rank maps, the
// op of kernels/metrics.hpp), the rank maps (one sort per image), and
// deletion, MuFidelity and RISE end to end with a model that costs nothing
// (it writes constant outputs), so that what is timed is the metric's
// machinery: masks, perturbed batches, reductions. Host cases always; CUDA
// cases (event-timed) when a device is present.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "bench_common.hpp"
#include "kernels/metrics.hpp"

namespace {

using namespace cuxplain;

constexpr std::int64_t kChannels = 3;
constexpr std::int64_t kSide = 224;
constexpr std::int64_t kPixels = kSide * kSide;
constexpr std::int64_t kImageSize = kChannels * kPixels;
constexpr std::int64_t kImages = 8;
constexpr std::int64_t kRows = 64;  // xplique's metric batch
constexpr std::int64_t kPoints = 11;

std::vector<float> random_values(std::int64_t count, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (auto& v : values) v = dist(gen);
  return values;
}

/// Images, explanations, rank maps and step counts on ctx's device.
struct Data {
  Buffer<float> images, explanations, out;
  Buffer<std::int32_t> ranks;
  Buffer<std::int64_t> counts;

  explicit Data(const Context& ctx)
      : images(ctx, kImages * kImageSize),
        explanations(ctx, kImages * kPixels),
        out(ctx, kRows * kImageSize),
        ranks(ctx, kImages * kPixels),
        counts(ctx, kPoints) {
    const auto pixels = random_values(kImages * kImageSize, 1);
    const auto maps = random_values(kImages * kPixels, 2);
    copy_to_device(ctx, images.data(), pixels.data(), pixels.size() * sizeof(float));
    copy_to_device(ctx, explanations.data(), maps.data(), maps.size() * sizeof(float));
    const std::vector<std::int64_t> steps = causal_step_counts(kPixels, CausalOptions{});
    copy_to_device(ctx, counts.data(), steps.data(), steps.size() * sizeof(std::int64_t));
    rank(ctx);
  }
  ConstImageView image_view() const {
    return {images.data(), kImages, kChannels, kSide, kSide, Layout::nchw};
  }
  ConstImageView explanation_view() const {
    return {explanations.data(), kImages, 1, kSide, kSide, Layout::nchw};
  }
  void rank(const Context& ctx) const {
    // The explanations are one channel: their means are themselves.
#if CUXPLAIN_WITH_CUDA
    if (ctx.is_cuda()) {
      kernels::cuda::rank_maps(ctx, explanations.data(), kImages, kPixels, false, ranks.data());
      return;
    }
#endif
    kernels::cpu::rank_maps(ctx, explanations.data(), kImages, kPixels, false, ranks.data());
  }
  void steps(const Context& ctx) const {
#if CUXPLAIN_WITH_CUDA
    if (ctx.is_cuda()) {
      kernels::cuda::causal_fill(ctx, image_view(), ranks.data(), counts.data(), kPoints, true,
                                 0.0f, 0, kRows, out.data());
      return;
    }
#endif
    kernels::cpu::causal_fill(ctx, image_view(), ranks.data(), counts.data(), kPoints, true,
                               0.0f, 0, kRows, out.data());
  }
};

/// Bytes of one step batch: every output element written, the images and
/// rank maps read (once, in the best case).
double step_bytes() {
  return static_cast<double>(kRows * kImageSize) * 4.0 +
         static_cast<double>(kImages * (kImageSize + kPixels)) * 4.0;
}

/// A model that costs nothing: constant outputs on ctx's device.
Model free_model(const Context& ctx) {
  return Model{10, [ctx](ConstImageView batch, float* outputs) {
                 fill(ctx, outputs, batch.n * 10, 0.5f);
               }};
}

enum class EndToEnd { deletion, mufidelity, rise };

const char* name_of(EndToEnd which) {
  switch (which) {
    case EndToEnd::deletion: return "deletion";
    case EndToEnd::mufidelity: return "mufidelity";
    case EndToEnd::rise: return "rise_1000";
  }
  return "";
}

/// Model evaluations of one end-to-end call on kImages images.
std::int64_t evaluations(EndToEnd which) {
  switch (which) {
    case EndToEnd::deletion: return kImages * kPoints;
    case EndToEnd::mufidelity: return kImages * 201;
    case EndToEnd::rise: return kImages * 1000;
  }
  return 0;
}

struct EndToEndData {
  Data data;
  Buffer<float> curves, values, maps;
  std::vector<int> targets = std::vector<int>(kImages, 3);
  explicit EndToEndData(const Context& ctx)
      : data(ctx),
        curves(ctx, kImages * kPoints),
        values(ctx, kImages),
        maps(ctx, kImages * kPixels) {}
  void run(const Context& ctx, EndToEnd which) {
    const Model model = free_model(ctx);
    switch (which) {
      case EndToEnd::deletion:
        deletion(ctx, model, data.image_view(), targets, data.explanation_view(), curves.data(),
                 values.data());
        break;
      case EndToEnd::mufidelity:
        mu_fidelity(ctx, model, data.image_view(), targets, data.explanation_view(),
                    values.data());
        break;
      case EndToEnd::rise: {
        RiseOptions options;
        options.nb_samples = 1000;
        options.batch_size = 64;
        rise(ctx, model, data.image_view(), targets, maps.data(), options);
        break;
      }
    }
  }
};

void host_steps(benchmark::State& state) {
  const Context ctx = Context::host();
  const Data data(ctx);
  for (auto _ : state) {
    data.steps(ctx);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  bench::set_throughput(state, step_bytes(), static_cast<double>(kRows * kImageSize));
}

void host_rank_maps(benchmark::State& state) {
  const Context ctx = Context::host();
  const Data data(ctx);
  for (auto _ : state) {
    data.rank(ctx);
    benchmark::ClobberMemory();
  }
  bench::set_throughput(state, static_cast<double>(kImages * kPixels) * 8.0,
                        static_cast<double>(kImages * kPixels));
}

void host_end_to_end(benchmark::State& state, EndToEnd which) {
  const Context ctx = Context::host();
  EndToEndData data(ctx);
  for (auto _ : state) {
    data.run(ctx, which);
    benchmark::ClobberMemory();
  }
  bench::set_throughput(state, static_cast<double>(evaluations(which) * kImageSize) * 4.0,
                        static_cast<double>(evaluations(which)));
}

#if CUXPLAIN_WITH_CUDA

void cuda_steps(benchmark::State& state) {
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  {
    const Data data(ctx);
    bench::time_cuda(state, ctx, [&] { data.steps(ctx); });
  }
  ctx.synchronize();
  bench::set_throughput(state, step_bytes(), static_cast<double>(kRows * kImageSize));
  bench::set_percent_of_peak(state, step_bytes());
}

void cuda_rank_maps(benchmark::State& state) {
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  {
    const Data data(ctx);
    bench::time_cuda(state, ctx, [&] { data.rank(ctx); });
  }
  ctx.synchronize();
  bench::set_throughput(state, static_cast<double>(kImages * kPixels) * 8.0,
                        static_cast<double>(kImages * kPixels));
}

void cuda_end_to_end(benchmark::State& state, EndToEnd which) {
  const bench::CudaStream stream;
  const Context ctx = Context::cuda(stream.get());
  {
    EndToEndData data(ctx);
    // The metrics synchronize the stream themselves (their output checks):
    // wall time, measured around the whole call.
    data.run(ctx, which);
    for (auto _ : state) {
      data.run(ctx, which);
      ctx.synchronize();
    }
  }
  bench::set_throughput(state, static_cast<double>(evaluations(which) * kImageSize) * 4.0,
                        static_cast<double>(evaluations(which)));
}

#endif  // CUXPLAIN_WITH_CUDA

}  // namespace

int main(int argc, char** argv) {
  const std::string shape = "/224x224x3/";
  benchmark::RegisterBenchmark(("causal_steps/host" + shape + "64rows").c_str(), host_steps)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("rank_maps/host" + shape + "8images").c_str(), host_rank_maps)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (const EndToEnd which : {EndToEnd::deletion, EndToEnd::mufidelity, EndToEnd::rise}) {
    benchmark::RegisterBenchmark(
        (std::string("metric/host") + shape + "8images/" + name_of(which)).c_str(),
        host_end_to_end, which)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return bench::run_benchmarks(argc, argv, [&] {
#if CUXPLAIN_WITH_CUDA
    benchmark::RegisterBenchmark(("causal_steps/cuda" + shape + "64rows").c_str(), cuda_steps)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("rank_maps/cuda" + shape + "8images").c_str(), cuda_rank_maps)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    for (const EndToEnd which : {EndToEnd::deletion, EndToEnd::mufidelity, EndToEnd::rise}) {
      benchmark::RegisterBenchmark(
          (std::string("metric/cuda") + shape + "8images/" + name_of(which)).c_str(),
          cuda_end_to_end, which)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
#endif
  });
}
