#pragma once
// Picks the backend implementation of an op from the Context. Both backends
// declare the same function in kernels/<family>.hpp; the CUDA one exists only
// when cuxplain is built with CUXPLAIN_WITH_CUDA.
#include <cuxplain/core/context.hpp>

#if CUXPLAIN_WITH_CUDA
#define CUXPLAIN_DISPATCH(ctx, op, ...)                              \
  ((ctx).is_cuda() ? ::cuxplain::kernels::cuda::op(ctx, __VA_ARGS__) \
                   : ::cuxplain::kernels::host::op(ctx, __VA_ARGS__))
#else
#define CUXPLAIN_DISPATCH(ctx, op, ...) ::cuxplain::kernels::host::op(ctx, __VA_ARGS__)
#endif
