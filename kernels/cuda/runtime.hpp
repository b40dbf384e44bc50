#pragma once
// CUDA runtime services for host/ code (copies and fills are the backend
// contract's, kernels/backend.hpp), declared without CUDA headers so that
// g++-compiled orchestration can call them. Defined in runtime.cu; only built
// when CUXPLAIN_WITH_CUDA is on.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <cuxplain/core/context.hpp>

namespace cuxplain::kernels::cuda {

/// True when the CUDA runtime finds at least one usable device (asked once
/// per process: the answer does not change while it runs).
bool device_available();
/// The calling thread's current device; throws cuxplain::Error when none.
int current_device();
/// The multiprocessors of `device` (at least 1).
int multiprocessor_count(int device);
/// Stream-ordered allocator on `device`: cudaMallocFromPoolAsync from
/// cuxplain's own pool on that device, which keeps freed memory for the next
/// calls (runtime.cu), and cudaFreeAsync.
std::shared_ptr<Allocator> make_stream_ordered_allocator(int device);

/// Where `ptr` lives as the CUDA runtime sees it.
enum class MemoryKind { host, device, managed };
MemoryKind memory_kind(const void* ptr);

void synchronize(Stream stream);

}  // namespace cuxplain::kernels::cuda
