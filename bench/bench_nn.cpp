// Network stack benchmarks: forward, interval bounds (plain and sound) and
// folded margins, end to end for a small CNN on 28 x 28 x 1 inputs
// (conv 32 3x3, relu, maxpool 2, conv 64 3x3, relu, maxpool 2, dense 128,
// relu, dense 10) and per layer with that CNN's shapes, at batch 1, 65 and
// 1024. Items are samples (boxes). Host cases always; CUDA cases (event
// timed, manual time) when a device is present. The box check
// (BoundsOptions::check_boxes) is off: it is an argument check, and on CUDA
// a stream synchronization, not part of the propagation. Host sound mode
// (directed rounding emulated in double) runs at batch 1 and 65 only.
// Host forward runs twice: on oneDNN where the build has it (".../host")
// and on the hand-written path (".../host_handwritten", CUXPLAIN_NN_DNNL=0
// while the network plans), so that one run gives their ratio; CUDA cases
// likewise on cuDNN (".../cuda") and on im2col + cuBLAS
// (".../cuda_handwritten", CUXPLAIN_NN_CUDNN=0 while the network is built). Host cases
// count the minor page faults per call after a first call
// (page_faults_per_call): the network keeps its workspace across calls.
// ONNX models, forward only, at batch 1, 64 and 256 ("nn/onnx/<file>/..."):
// the embedded model, and the files listed in CUXPLAIN_BENCH_ONNX
// (colon-separated; bench/nn_forward_cpu.sh passes a ResNet-18), when the
// build reads ONNX. "nn/sobol/...": Sobol on the embedded model end to end
// (grid 14, 128 designs, batch 256, one 28 x 28 image) with the forward
// timed inside the model callback: forward_share is its part of the run.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>

#include <cmath>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "bench_common.hpp"

namespace {

using namespace cuxplain;

enum class Layer { cnn, conv1, relu, pool1, conv2, pool2, dense1, dense2 };
enum class Mode { forward, bounds, bounds_sound, margins, margins_sound };

const char* layer_name(Layer layer) {
  switch (layer) {
    case Layer::cnn: return "cnn";
    case Layer::conv1: return "conv1_1x28x28_to_32";
    case Layer::relu: return "relu_32x26x26";
    case Layer::pool1: return "maxpool_32x26x26";
    case Layer::conv2: return "conv2_32x13x13_to_64";
    case Layer::pool2: return "maxpool_64x11x11";
    case Layer::dense1: return "dense_1600_to_128";
    case Layer::dense2: return "dense_128_to_10";
  }
  return "?";
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::forward: return "forward";
    case Mode::bounds: return "bounds";
    case Mode::bounds_sound: return "bounds_sound";
    case Mode::margins: return "margins";
    case Mode::margins_sound: return "margins_sound";
  }
  return "?";
}

std::vector<float> he_uniform(std::int64_t count, std::int64_t fan_in, std::mt19937& gen) {
  const float limit = std::sqrt(6.0f / static_cast<float>(fan_in));
  std::uniform_real_distribution<float> dist(-limit, limit);
  std::vector<float> w(static_cast<std::size_t>(count));
  for (float& v : w) v = dist(gen);
  return w;
}

std::vector<float> small(std::int64_t count, std::mt19937& gen) {
  std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
  std::vector<float> b(static_cast<std::size_t>(count));
  for (float& v : b) v = dist(gen);
  return b;
}

nn::Network make_network(const Context& ctx, Layer layer) {
  std::mt19937 gen(7);
  nn::NetworkBuilder b;
  nn::PoolParams pool;
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  const auto conv = [&](nn::NodeId x, std::int64_t out_c) {
    const std::int64_t fan_in = b.shape(x).c * 9;
    return b.conv(x, out_c, 3, 3, he_uniform(out_c * fan_in, fan_in, gen), small(out_c, gen));
  };
  const auto dense = [&](nn::NodeId x, std::int64_t out) {
    const std::int64_t fan_in = b.shape(x).size();
    return b.dense(x, out, he_uniform(out * fan_in, fan_in, gen), small(out, gen));
  };
  nn::NodeId x;
  switch (layer) {
    case Layer::cnn:
      x = b.input({1, 28, 28});
      x = b.max_pool(b.relu(conv(x, 32)), pool);
      x = b.max_pool(b.relu(conv(x, 64)), pool);
      x = b.relu(dense(b.flatten(x), 128));
      x = dense(x, 10);
      break;
    case Layer::conv1: x = conv(b.input({1, 28, 28}), 32); break;
    case Layer::relu: x = b.relu(b.input({32, 26, 26})); break;
    case Layer::pool1: x = b.max_pool(b.input({32, 26, 26}), pool); break;
    case Layer::conv2: x = conv(b.input({32, 13, 13}), 64); break;
    case Layer::pool2: x = b.max_pool(b.input({64, 11, 11}), pool); break;
    case Layer::dense1: x = dense(b.input({1600, 1, 1}), 128); break;
    case Layer::dense2: x = dense(b.input({128, 1, 1}), 10); break;
  }
  return b.build(ctx, x);
}

/// Inputs in [0, 1] and boxes of radius 0.01 around them, targets cycling.
struct Data {
  std::vector<float> x, lo, hi;
  std::vector<int> targets;
};

Data make_data(const nn::Network& net, std::int64_t n) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  Data d;
  const std::int64_t in = net.input_shape().size();
  for (std::int64_t i = 0; i < n * in; ++i) {
    const float v = dist(gen);
    d.x.push_back(v);
    d.lo.push_back(v - 0.01f);
    d.hi.push_back(v + 0.01f);
  }
  for (std::int64_t s = 0; s < n; ++s)
    d.targets.push_back(static_cast<int>(s % net.output_shape().size()));
  return d;
}

void run(const nn::Network& net, const Context& ctx, Mode mode, std::int64_t n, const float* x,
         const float* lo, const float* hi, const std::vector<int>& targets, float* out0,
         float* out1) {
  nn::BoundsOptions options;
  options.check_boxes = false;
  options.sound = mode == Mode::bounds_sound || mode == Mode::margins_sound;
  switch (mode) {
    case Mode::forward: net.forward(ctx, x, n, out0); break;
    case Mode::bounds:
    case Mode::bounds_sound: net.bounds(ctx, lo, hi, n, out0, out1, options); break;
    case Mode::margins:
    case Mode::margins_sound:
      net.margin_upper_bounds(ctx, lo, hi, n, targets, out0, options);
      break;
  }
}

void set_counters(benchmark::State& state, const nn::Network& net, Mode mode, std::int64_t n) {
  const double inputs = static_cast<double>(net.input_shape().size());
  const double outputs = static_cast<double>(net.output_shape().size());
  const double factor = mode == Mode::forward ? 1.0 : 2.0;
  bench::set_throughput(state, factor * static_cast<double>(n) * (inputs + outputs) * 4.0,
                        static_cast<double>(n));
}

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void BM_NnHost(benchmark::State& state, Layer layer, Mode mode, bool hand_written,
               const std::string& onnx_file) {
  const std::int64_t n = state.range(0);
  const Context ctx = Context::host();
  const nn::Network net = onnx_file.empty() ? make_network(ctx, layer) : nn::load_onnx(ctx, onnx_file);
  const Data d = make_data(net, n);
  std::vector<float> out0(static_cast<std::size_t>(n * net.output_shape().size()));
  std::vector<float> out1(out0.size());
  const auto call = [&] {
    run(net, ctx, mode, n, d.x.data(), d.lo.data(), d.hi.data(), d.targets, out0.data(),
        out1.data());
  };
  // The first call plans the batch size (and its oneDNN primitives).
  if (hand_written) setenv("CUXPLAIN_NN_DNNL", "0", 1);
  call();
  if (hand_written) unsetenv("CUXPLAIN_NN_DNNL");
  const long faults = minor_page_faults();
  for (auto _ : state) {
    call();
    benchmark::DoNotOptimize(out0.data());
  }
  state.counters["page_faults_per_call"] =
      static_cast<double>(minor_page_faults() - faults) / static_cast<double>(state.iterations());
  set_counters(state, net, mode, n);
}

void BM_SobolEmbeddedHost(benchmark::State& state, bool hand_written) {
  using Clock = std::chrono::steady_clock;
  const Context ctx = Context::host();
  const nn::Network net =
      nn::load_onnx(ctx, std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx");
  const nn::Shape in = net.input_shape();
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> image(static_cast<std::size_t>(in.size()));
  for (float& v : image) v = dist(gen);
  double forward_seconds = 0.0;
  const Model model{net.output_shape().size(), [&](ConstImageView batch, float* outputs) {
                      const auto start = Clock::now();
                      net.forward(ctx, batch.data, batch.n, outputs);
                      forward_seconds += std::chrono::duration<double>(Clock::now() - start).count();
                    }};
  SobolOptions options;
  options.grid_size = 14;
  options.nb_design = 128;
  options.batch_size = 256;
  std::vector<float> scores(static_cast<std::size_t>(options.grid_size * options.grid_size));
  const auto explain = [&] {
    sobol_attribution(ctx, model, {image.data(), 1, in.c, in.h, in.w, Layout::nchw}, {0},
                      scores.data(), options);
  };
  if (hand_written) setenv("CUXPLAIN_NN_DNNL", "0", 1);
  explain();  // plans the batch sizes
  if (hand_written) unsetenv("CUXPLAIN_NN_DNNL");
  forward_seconds = 0.0;
  const long faults = minor_page_faults();
  double total_seconds = 0.0;
  for (auto _ : state) {
    const auto start = Clock::now();
    explain();
    total_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  state.counters["forward_share"] = forward_seconds / total_seconds;
  state.counters["page_faults_per_run"] =
      static_cast<double>(minor_page_faults() - faults) / static_cast<double>(state.iterations());
}

#if CUXPLAIN_WITH_CUDA

void BM_NnCuda(benchmark::State& state, Layer layer, Mode mode, bool hand_written) {
  const std::int64_t n = state.range(0);
  const Context ctx = Context::cuda();
  // cuDNN or not is read when the network is built.
  if (hand_written) setenv("CUXPLAIN_NN_CUDNN", "0", 1);
  const nn::Network net = make_network(ctx, layer);
  if (hand_written) unsetenv("CUXPLAIN_NN_CUDNN");
  const Data d = make_data(net, n);
  const std::int64_t in = n * net.input_shape().size(), out = n * net.output_shape().size();
  Buffer<float> x(ctx, in), lo(ctx, in), hi(ctx, in), out0(ctx, out), out1(ctx, out);
  copy_to_device(ctx, x.data(), d.x.data(), x.bytes());
  copy_to_device(ctx, lo.data(), d.lo.data(), lo.bytes());
  copy_to_device(ctx, hi.data(), d.hi.data(), hi.bytes());
  bench::time_cuda(state, ctx, [&] {
    run(net, ctx, mode, n, x.data(), lo.data(), hi.data(), d.targets, out0.data(), out1.data());
  });
  set_counters(state, net, mode, n);
}

#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const Layer layers[] = {Layer::cnn,   Layer::conv1, Layer::relu,   Layer::pool1,
                          Layer::conv2, Layer::pool2, Layer::dense1, Layer::dense2};
  const Mode modes[] = {Mode::forward, Mode::bounds, Mode::bounds_sound, Mode::margins,
                        Mode::margins_sound};
  const std::int64_t batches[] = {1, 65, 1024};
  for (const Layer layer : layers) {
    for (const Mode mode : modes) {
      // Margins fold into a final dense layer: end to end only.
      if ((mode == Mode::margins || mode == Mode::margins_sound) && layer != Layer::cnn) continue;
      const bool sound = mode == Mode::bounds_sound || mode == Mode::margins_sound;
      for (const std::int64_t n : batches) {
        if (sound && n > 65) continue;  // the host's emulated directed rounding
        const std::string name = std::string("nn/") + layer_name(layer) + "/" + mode_name(mode) + "/host";
        for (const bool hand_written : {false, true}) {
          if (hand_written && mode != Mode::forward) continue;  // bounds: hand-written only
          benchmark::RegisterBenchmark((name + (hand_written ? "_handwritten" : "")).c_str(),
                                       BM_NnHost, layer, mode, hand_written, std::string())
              ->Arg(n)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime()  // OpenMP and OpenBLAS threads: wall-clock rates
              ->MinTime(0.2);
        }
      }
    }
  }
  std::vector<std::string> onnx_files = {std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx"};
  if (const char* more = std::getenv("CUXPLAIN_BENCH_ONNX")) {
    std::string list = more;
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t end = std::min(list.find(':', start), list.size());
      if (end > start) onnx_files.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  bool reads_onnx = true;
  try {
    nn::load_onnx(Context::host(), onnx_files.front());
  } catch (const Error&) {
    reads_onnx = false;  // a build without ONNX support: no model cases
  }
  if (!reads_onnx) onnx_files.clear();
  for (const std::string& file : onnx_files) {
    const std::string stem = file.substr(file.find_last_of('/') + 1);
    for (const std::int64_t n : {1, 64, 256}) {
      for (const bool hand_written : {false, true}) {
        const std::string name = "nn/onnx/" + stem + "/forward/host" + (hand_written ? "_handwritten" : "");
        benchmark::RegisterBenchmark(name.c_str(), BM_NnHost, Layer::cnn, Mode::forward,
                                     hand_written, file)
            ->Arg(n)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime()
            ->MinTime(0.5);
      }
    }
  }
  for (const bool hand_written : {false, true}) {
    if (!reads_onnx) break;
    benchmark::RegisterBenchmark(
        (std::string("nn/sobol/fashion_mnist_cnn/grid14_design128/host") +
         (hand_written ? "_handwritten" : "")).c_str(),
        BM_SobolEmbeddedHost, hand_written)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
  }
#if CUXPLAIN_WITH_CUDA
  if (bench::cuda_benchmarks_enabled()) {
    for (const Layer layer : layers) {
      for (const Mode mode : modes) {
        if ((mode == Mode::margins || mode == Mode::margins_sound) && layer != Layer::cnn) continue;
        for (const std::int64_t n : batches) {
          for (const bool hand_written : {false, true}) {
            const std::string name = std::string("nn/") + layer_name(layer) + "/" +
                                     mode_name(mode) + "/cuda" + (hand_written ? "_handwritten" : "");
            benchmark::RegisterBenchmark(name.c_str(), BM_NnCuda, layer, mode, hand_written)
                ->Arg(n)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
