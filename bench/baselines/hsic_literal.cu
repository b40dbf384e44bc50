#include "hsic_literal.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace cuxplain::bench {
namespace {

__global__ void form_k_kernel(const float* masks, std::int64_t n, std::int64_t d, bool binary,
                              float* k) {
  const std::int64_t total = d * n * n;
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < total; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t i = e / (n * n), a = (e / n) % n, b = e % n;
    const float diff = masks[a * d + i] - masks[b * d + i];
    k[e] = binary ? 0.5f - diff * diff : expf(-diff * diff * 2.0f);
  }
}

__global__ void centering_kernel(std::int64_t n, float* h) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
       e < n * n; e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    h[e] = (e / n == e % n ? 1.0f : 0.0f) - 1.0f / static_cast<float>(n);
  }
}

/// One block per cell: sum(Kc_i o Lc) / N.
__global__ void reduce_kernel(const float* kc, const float* gram, std::int64_t n, float* scores) {
  __shared__ double partial[256];
  const float* kci = kc + static_cast<std::int64_t>(blockIdx.x) * n * n;
  double sum = 0.0;
  for (std::int64_t e = threadIdx.x; e < n * n; e += blockDim.x) sum += kci[e] * gram[e];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) scores[blockIdx.x] = static_cast<float>(partial[0] / n);
}

unsigned grid(std::int64_t count) {
  const std::int64_t blocks = (count + 255) / 256;
  return static_cast<unsigned>(blocks > 65535 * 16 ? 65535 * 16 : blocks);
}

}  // namespace

std::int64_t hsic_literal_cuda_bytes(std::int64_t n, std::int64_t d) {
  return (2 * d * n * n + 2 * n * n + n * d + d) * 4;
}

HsicLiteralCuda::HsicLiteralCuda(const float* masks, const float* centered_gram, std::int64_t n,
                                 std::int64_t d, bool binary_kernel, void* stream)
    : n_(n), d_(d), binary_(binary_kernel), stream_(stream) {
  cudaMalloc(&masks_, n * d * sizeof(float));
  cudaMalloc(&gram_, n * n * sizeof(float));
  cudaMalloc(&h_, n * n * sizeof(float));
  cudaMalloc(&k_, d * n * n * sizeof(float));
  cudaMalloc(&hk_, d * n * n * sizeof(float));
  cudaMalloc(&scores_, d * sizeof(float));
  cudaMemcpy(masks_, masks, n * d * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(gram_, centered_gram, n * n * sizeof(float), cudaMemcpyHostToDevice);
  cublasHandle_t handle;
  cublasCreate(&handle);
  cublasSetStream(handle, static_cast<cudaStream_t>(stream_));
  handle_ = handle;
}

HsicLiteralCuda::~HsicLiteralCuda() {
  cublasDestroy(static_cast<cublasHandle_t>(handle_));
  cudaFree(masks_);
  cudaFree(gram_);
  cudaFree(h_);
  cudaFree(k_);
  cudaFree(hk_);
  cudaFree(scores_);
}

void HsicLiteralCuda::run() {
  auto stream = static_cast<cudaStream_t>(stream_);
  auto handle = static_cast<cublasHandle_t>(handle_);
  const int n = static_cast<int>(n_);
  const long long stride = static_cast<long long>(n_) * n_;
  const float one = 1.0f, zero = 0.0f;
  centering_kernel<<<grid(n_ * n_), 256, 0, stream>>>(n_, h_);
  form_k_kernel<<<grid(d_ * n_ * n_), 256, 0, stream>>>(masks_, n_, d_, binary_, k_);
  // HK_i for every i, then (HK_i) H into k_ (H and K_i are symmetric, so the
  // column-major view changes nothing).
  cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, h_, n, 0, k_, n,
                            stride, &zero, hk_, n, stride, static_cast<int>(d_));
  cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, hk_, n, stride, h_, n,
                            0, &zero, k_, n, stride, static_cast<int>(d_));
  reduce_kernel<<<static_cast<unsigned>(d_), 256, 0, stream>>>(k_, gram_, n_, scores_);
}

}  // namespace cuxplain::bench
