#pragma once
// The reference code's (d, N, N) HSIC formulation on CUDA, as a baseline for
// bench_hsic: forms every K_i, centres each with two GEMMs, reduces with Lc.
#include <cstdint>

namespace cuxplain::bench {

/// Device-memory bytes the baseline needs (the K tensor dominates).
std::int64_t hsic_literal_cuda_bytes(std::int64_t n, std::int64_t d);

/// State (device buffers, cuBLAS handle) of one baseline problem.
class HsicLiteralCuda {
 public:
  HsicLiteralCuda(const float* masks, const float* centered_gram, std::int64_t n, std::int64_t d,
                  bool binary_kernel, void* stream);
  ~HsicLiteralCuda();
  HsicLiteralCuda(const HsicLiteralCuda&) = delete;
  HsicLiteralCuda& operator=(const HsicLiteralCuda&) = delete;
  /// Enqueues one full evaluation of the d scores on the stream.
  void run();

 private:
  std::int64_t n_, d_;
  bool binary_;
  void* stream_;
  void* handle_ = nullptr;
  float *masks_ = nullptr, *gram_ = nullptr, *h_ = nullptr, *k_ = nullptr, *hk_ = nullptr,
        *scores_ = nullptr;
};

}  // namespace cuxplain::bench
