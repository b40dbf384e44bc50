#pragma once
// The execution contract the metric and baseline ops are written over (the
// direction DESIGN.md sets for kernels/): an op's walk is written once, as a
// function template taking an executor `exec`, and calls
// exec(count, lambda) with a CUXPLAIN_LAMBDA body that runs for every
// index in [0, count). kernels/host/for_each.hpp runs it as an OpenMP loop,
// kernels/cuda/for_each.cuh as cub::DeviceFor::Bulk on the context's stream:
// the same body, compiled by g++ and by nvcc.
//
// The bodies must not depend on the order indices run in: each writes its
// own outputs; a sum is a sequential loop inside one index.
#if defined(__CUDACC__)
#define CUXPLAIN_LAMBDA __host__ __device__
#else
#define CUXPLAIN_LAMBDA
#endif
