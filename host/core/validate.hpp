#pragma once
// Argument checks shared by the public entry points.
#include <cstdint>
#include <limits>
#include <string>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>

#if CUXPLAIN_WITH_CUDA
#include "../../kernels/cuda/runtime.hpp"
#endif

namespace cuxplain::detail {

/// Throws unless `ptr` is non-null and readable by ctx's backend: device (or
/// managed) memory for a CUDA context, host memory for a host context. Catches
/// the common mistake of handing host arrays to Context::cuda() and vice versa.
inline void expect_on_device(const Context& ctx, const void* ptr, const char* name) {
  CUXPLAIN_EXPECTS(ptr != nullptr, name, " is null");
#if CUXPLAIN_WITH_CUDA
  if (!Context::cuda_available()) return;
  const auto kind = kernels::cuda::memory_kind(ptr);
  if (ctx.is_cuda()) {
    CUXPLAIN_EXPECTS(kind != kernels::cuda::MemoryKind::host, name,
                     " points to host memory but the context is CUDA; pass device memory");
  } else {
    CUXPLAIN_EXPECTS(kind != kernels::cuda::MemoryKind::device, name,
                     " points to CUDA device memory but the context is host; pass host memory");
  }
#else
  (void)ctx;
#endif
}

/// a * b for sizes a, b >= 0; a cuxplain::Error naming `what` when the
/// product does not fit 64 bits.
inline std::int64_t checked_product(std::int64_t a, std::int64_t b, const std::string& what) {
  CUXPLAIN_EXPECTS(a >= 0 && b >= 0, what, ": negative size ", a, " x ", b);
  CUXPLAIN_EXPECTS(b == 0 || a <= std::numeric_limits<std::int64_t>::max() / b, what, ": ", a,
                   " x ", b, " overflows a 64-bit size");
  return a * b;
}

constexpr bool is_power_of_two(std::int64_t value) {
  return value > 0 && (value & (value - 1)) == 0;
}

}  // namespace cuxplain::detail
