#pragma once
// CUXPLAIN_HD marks per-element math shared by the host and CUDA backends: the
// same function body is compiled by g++ for kernels/cpu and by nvcc for
// kernels/cuda, so the CPU tests exercise the arithmetic the GPU runs.
#if defined(__CUDACC__)
#define CUXPLAIN_HD __host__ __device__ __forceinline__
#else
#define CUXPLAIN_HD inline
#endif
