// Two kernels for the test of tools/ptxas_gate.py: one the gate must pass,
// one it must fail (a local array indexed at run time lives in local memory,
// a stack frame).
#include <cstdint>

__global__ void clean_kernel(float* x, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    x[i] = 2.0f * x[i] + 1.0f;
  }
}

#if defined(CUXPLAIN_PTXAS_GATE_LOCAL_ARRAY)
__global__ void local_array_kernel(std::uint32_t* out, int s, int count) {
  // A recurrence over a run-time distance, as Sobol's direction numbers were.
  std::uint32_t v[32];
  for (int k = 0; k < s && k < 32; ++k) v[k] = out[k];
  for (int k = s; k < count && k < 32; ++k) v[k] = v[k - s] ^ (v[k - s] << 1);
  for (int k = 0; k < count && k < 32; ++k) out[k * 64 + threadIdx.x] = v[k];
}
#endif
