#pragma once
// Picks the backend implementation of an op from the Context: host/ calls
// CUXPLAIN_DISPATCH(ctx, op, args...) for kernels::cpu::op or
// kernels::cuda::op. Both are declared once in kernels/<family>.hpp (the
// contract's own GEMM, fills and copies in kernels/backend.hpp); the CUDA one
// exists only when cuxplain is built with CUXPLAIN_WITH_CUDA.
#include <cuxplain/core/context.hpp>

#include "backend.hpp"

#if CUXPLAIN_WITH_CUDA
#define CUXPLAIN_DISPATCH(ctx, op, ...)                              \
  ((ctx).is_cuda() ? ::cuxplain::kernels::cuda::op(ctx, __VA_ARGS__) \
                   : ::cuxplain::kernels::cpu::op(ctx, __VA_ARGS__))
#else
#define CUXPLAIN_DISPATCH(ctx, op, ...) ::cuxplain::kernels::cpu::op(ctx, __VA_ARGS__)
#endif
