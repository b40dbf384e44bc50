#pragma once
// Shared benchmark plumbing: the programs' main(), a non-blocking stream for
// the CUDA cases, CUDA-event timing with manual time, an L2 flush before each
// timed iteration, and the device's peak DRAM bandwidth so memory-bound
// kernels can report "% of peak".
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>

#include <cuxplain/core/context.hpp>

#if CUXPLAIN_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace cuxplain::bench {

/// Sets bytes/s and items/s counters from per-iteration work.
inline void set_throughput(benchmark::State& state, double bytes_per_iteration,
                           double items_per_iteration) {
  state.counters["bytes_per_second"] = benchmark::Counter(
      bytes_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["items_per_second"] = benchmark::Counter(
      items_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

#if CUXPLAIN_WITH_CUDA

/// A non-blocking stream for one CUDA case, so that nothing is ordered by the
/// legacy default stream; waits for its work before it is destroyed.
class CudaStream {
 public:
  CudaStream() { cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking); }
  ~CudaStream() {
    if (stream_ != nullptr) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// Peak DRAM bandwidth of the current device in bytes/s (2 transfers per clock).
inline double device_peak_bandwidth() {
  int device = 0, clock_khz = 0, bus_bits = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0);
}

/// Evicts the L2 cache by writing a buffer twice its size on `stream`.
class L2Flusher {
 public:
  L2Flusher() {
    int device = 0, l2_bytes = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device);
    bytes_ = static_cast<std::size_t>(l2_bytes) * 2;
    if (bytes_ > 0) cudaMalloc(&buffer_, bytes_);
  }
  ~L2Flusher() { cudaFree(buffer_); }
  L2Flusher(const L2Flusher&) = delete;
  L2Flusher& operator=(const L2Flusher&) = delete;
  void flush(cudaStream_t stream) {
    if (buffer_ != nullptr) cudaMemsetAsync(buffer_, 0, bytes_, stream);
  }

 private:
  void* buffer_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Times `work` (enqueued on ctx's stream) with CUDA events for each benchmark
/// iteration, after an L2 flush, and reports it as manual time.
inline void time_cuda(benchmark::State& state, const Context& ctx, const std::function<void()>& work) {
  L2Flusher flusher;
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  work();  // warm-up: first-touch allocations, module load
  cudaStreamSynchronize(ctx.stream());
  for (auto _ : state) {
    flusher.flush(ctx.stream());
    cudaEventRecord(start, ctx.stream());
    work();
    cudaEventRecord(stop, ctx.stream());
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms * 1e-3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

/// Adds "pct_of_peak" for a memory-bound kernel moving `bytes_per_iteration`
/// (a rate counter: divided by the measured time, manual time for CUDA).
inline void set_percent_of_peak(benchmark::State& state, double bytes_per_iteration) {
  state.counters["pct_of_peak"] = benchmark::Counter(
      100.0 * bytes_per_iteration * static_cast<double>(state.iterations()) /
          device_peak_bandwidth(),
      benchmark::Counter::kIsRate);
}

#endif  // CUXPLAIN_WITH_CUDA

/// Registers CUDA benchmarks only when a device is present, so host-only
/// machines run the host cases and list no CUDA ones.
inline bool cuda_benchmarks_enabled() { return Context::cuda_available(); }

/// The rest of every benchmark program's main(), once it has registered its
/// host cases: parses the benchmark flags (unknown ones are an error), calls
/// `register_cuda_cases` when this is a CUDA build with a device present, and
/// runs the selected benchmarks. Returns main's exit status.
inline int run_benchmarks(int argc, char** argv, const std::function<void()>& register_cuda_cases) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#if CUXPLAIN_WITH_CUDA
  if (register_cuda_cases && cuda_benchmarks_enabled()) register_cuda_cases();
#else
  (void)register_cuda_cases;
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace cuxplain::bench
