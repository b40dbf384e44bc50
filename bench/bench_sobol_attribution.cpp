// End-to-end Sobol and HSIC attribution with a trivial model (a linear read
// of every pixel), so the numbers are the library's own cost: design, fused
// perturbation, output handling and the estimator. And Sobol on the embedded
// Fashion-MNIST network, timing the model callback apart from the rest: the
// share of the wall time spent outside the forward pass.
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/onnx.hpp>

#include "bench_common.hpp"

#if CUXPLAIN_WITH_CUDA
#include <cublas_v2.h>
#endif

namespace {

using namespace cuxplain;

constexpr std::int64_t kChannels = 3, kSide = 224;

Model linear_host_model() {
  return Model{1, [](ConstImageView batch, float* out) {
    const std::int64_t size = batch.image_size();
    for (std::int64_t i = 0; i < batch.n; ++i) {
      const float* x = batch.data + i * size;
      float sum = 0.0f;
      for (std::int64_t e = 0; e < size; ++e) sum += x[e];
      out[i] = sum / static_cast<float>(size);
    }
  }};
}

void report(benchmark::State& state, std::int64_t forwards) {
  const double image_bytes = static_cast<double>(kChannels * kSide * kSide * 4);
  bench::set_throughput(state, forwards * image_bytes, static_cast<double>(forwards));
  state.counters["forwards"] = static_cast<double>(forwards);
}

void BM_SobolHost(benchmark::State& state) {
  const Context ctx = Context::host();
  const std::vector<float> image(kChannels * kSide * kSide, 0.5f);
  SobolOptions options;
  options.grid_size = state.range(0);
  std::vector<float> scores(static_cast<std::size_t>(options.grid_size * options.grid_size));
  const Model model = linear_host_model();
  for (auto _ : state) {
    sobol_attribution(ctx, model, {image.data(), 1, kChannels, kSide, kSide, Layout::nchw}, {0},
                      scores.data(), options);
  }
  report(state, options.nb_design * (options.grid_size * options.grid_size + 1));
}

void BM_HsicHost(benchmark::State& state) {
  const Context ctx = Context::host();
  std::vector<float> image(kChannels * kSide * kSide);
  for (std::size_t e = 0; e < image.size(); ++e) image[e] = static_cast<float>(e % 97) / 97.0f;
  HsicOptions options;
  options.grid_size = state.range(0);
  std::vector<float> scores(static_cast<std::size_t>(options.grid_size * options.grid_size));
  const Model model = linear_host_model();
  for (auto _ : state) {
    hsic_attribution(ctx, model, {image.data(), 1, kChannels, kSide, kSide, Layout::nchw}, {0},
                     scores.data(), options);
  }
  report(state, options.nb_design);
}

/// Sobol attribution of 16 Fashion-MNIST-sized images with the embedded
/// network on the host, grid state.range(0), the other options at their
/// defaults. Counters: model_calls and forwards (rows) per iteration,
/// forward_s (wall seconds inside the model callback per iteration),
/// outside_forward_pct (the rest of the wall time, as a share of it) and
/// outside_forward_cpu_pct (the same in the process's CPU time, all threads:
/// steadier than wall time on a loaded machine).
void BM_SobolEmbeddedHost(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const auto cpu_seconds = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  };
  const Context ctx = Context::host();
  const nn::Network network =
      nn::load_onnx(ctx, std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx");
  const nn::Shape in = network.input_shape();
  constexpr std::int64_t kImages = 16;
  std::vector<float> images(static_cast<std::size_t>(kImages * in.size()));
  for (std::size_t e = 0; e < images.size(); ++e) {
    images[e] = static_cast<float>((e * 2654435761u) % 1000u) / 1000.0f;
  }
  std::vector<int> targets(kImages);
  for (std::int64_t i = 0; i < kImages; ++i) targets[static_cast<std::size_t>(i)] = i % 10;
  SobolOptions options;
  options.grid_size = state.range(0);
  std::vector<float> scores(
      static_cast<std::size_t>(kImages * options.grid_size * options.grid_size));
  double forward_seconds = 0.0, total_seconds = 0.0, forward_cpu = 0.0, total_cpu = 0.0;
  std::int64_t calls = 0, rows = 0;
  const Model model{network.output_shape().size(), [&](ConstImageView batch, float* out) {
                      const auto start = Clock::now();
                      const double start_cpu = cpu_seconds();
                      network.forward(ctx, batch.data, batch.n, out);
                      forward_cpu += cpu_seconds() - start_cpu;
                      forward_seconds +=
                          std::chrono::duration<double>(Clock::now() - start).count();
                      ++calls;
                      rows += batch.n;
                    }};
  const ConstImageView view{images.data(), kImages, in.c, in.h, in.w, Layout::nchw};
  for (auto _ : state) {
    const auto start = Clock::now();
    const double start_cpu = cpu_seconds();
    sobol_attribution(ctx, model, view, targets, scores.data(), options);
    total_cpu += cpu_seconds() - start_cpu;
    total_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["model_calls"] = static_cast<double>(calls) / iterations;
  state.counters["forwards"] = static_cast<double>(rows) / iterations;
  state.counters["forward_s"] = forward_seconds / iterations;
  state.counters["outside_forward_pct"] = 100.0 * (total_seconds - forward_seconds) / total_seconds;
  state.counters["outside_forward_cpu_pct"] = 100.0 * (total_cpu - forward_cpu) / total_cpu;
  state.counters["outside_forward_cpu_s"] = (total_cpu - forward_cpu) / iterations;
}

#if CUXPLAIN_WITH_CUDA

/// outputs = batch * (1/size) as a cuBLAS GEMV on ctx's stream.
class LinearCudaModel {
 public:
  explicit LinearCudaModel(const Context& ctx)
      : ctx_(ctx), weights_(ctx, kChannels * kSide * kSide) {
    fill(ctx, weights_.data(), weights_.size(), 1.0f / static_cast<float>(weights_.size()));
    cublasCreate(&handle_);
    cublasSetStream(handle_, ctx.stream());
  }
  ~LinearCudaModel() { cublasDestroy(handle_); }
  Model model() {
    return Model{1, [this](ConstImageView batch, float* out) {
      const float one = 1.0f, zero = 0.0f;
      const int size = static_cast<int>(batch.image_size());
      cublasSgemv(handle_, CUBLAS_OP_T, size, static_cast<int>(batch.n), &one, batch.data, size,
                  weights_.data(), 1, &zero, out, 1);
    }};
  }

 private:
  Context ctx_;
  Buffer<float> weights_;
  cublasHandle_t handle_ = nullptr;
};

void BM_SobolCuda(benchmark::State& state) {
  const Context ctx = Context::cuda();
  Buffer<float> image(ctx, kChannels * kSide * kSide);
  fill(ctx, image.data(), image.size(), 0.5f);
  SobolOptions options;
  options.grid_size = state.range(0);
  Buffer<float> scores(ctx, options.grid_size * options.grid_size);
  LinearCudaModel linear(ctx);
  const Model model = linear.model();
  bench::time_cuda(state, ctx, [&] {
    sobol_attribution(ctx, model, {image.data(), 1, kChannels, kSide, kSide, Layout::nchw}, {0},
                      scores.data(), options);
  });
  report(state, options.nb_design * (options.grid_size * options.grid_size + 1));
}

#endif

}  // namespace

int main(int argc, char** argv) {
  for (std::int64_t grid : {8, 16}) {
    benchmark::RegisterBenchmark("sobol_attribution_224/host", BM_SobolHost)
        ->Arg(grid)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("hsic_attribution_224/host", BM_HsicHost)
      ->Arg(8)
      ->Unit(benchmark::kMillisecond);
  if (nn::onnx_available()) {
    for (std::int64_t grid : {8, 14}) {
      benchmark::RegisterBenchmark("sobol_attribution_embedded/images:16/host",
                                   BM_SobolEmbeddedHost)
          ->Arg(grid)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  return bench::run_benchmarks(argc, argv, [] {
#if CUXPLAIN_WITH_CUDA
    for (std::int64_t grid : {8, 16, 32}) {
      benchmark::RegisterBenchmark("sobol_attribution_224/cuda", BM_SobolCuda)
          ->Arg(grid)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
#endif
  });
}
