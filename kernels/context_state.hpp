#pragma once
// What a Context holds. Internal: host/core/context.cpp builds it, and backend code
// that needs per-context resources (the cuBLAS handle) reads it.
#include <memory>
#include <mutex>

#include <cuxplain/core/context.hpp>

namespace cuxplain::detail {

struct ContextState {
  Backend backend = Backend::host;
  Stream stream = nullptr;
  int device = -1;
  std::shared_ptr<Allocator> allocator;
  /// Device properties, read once when the Context is made (CUDA only).
  int multiprocessors = 1;

  /// Created on first use by the CUDA backend (a cublasHandle_t), destroyed
  /// with the last copy of the Context.
  std::mutex blas_mutex;
  std::shared_ptr<void> blas_handle;
};

/// The state behind a Context (for backend code only).
ContextState& state_of(const Context& ctx);

}  // namespace cuxplain::detail
