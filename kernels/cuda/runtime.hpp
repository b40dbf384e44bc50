#pragma once
// CUDA runtime services for host/ code, declared without CUDA headers so that
// g++-compiled orchestration can call them. Defined in runtime.cu; only built
// when CUXPLAIN_WITH_CUDA is on.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <cuxplain/core/context.hpp>

namespace cuxplain::kernels::cuda {

/// True when the CUDA runtime finds at least one usable device.
bool device_available();
/// The calling thread's current device; throws cuxplain::Error when none.
int current_device();
/// Stream-ordered cudaMallocAsync / cudaFreeAsync allocator.
std::shared_ptr<Allocator> make_stream_ordered_allocator();

/// Where `ptr` lives as the CUDA runtime sees it.
enum class MemoryKind { host, device, managed };
MemoryKind memory_kind(const void* ptr);

void copy_host_to_device(Stream stream, void* dst, const void* src, std::size_t bytes);
void copy_device_to_host(Stream stream, void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(Stream stream, void* dst, const void* src, std::size_t bytes);
void fill(Stream stream, float* dst, std::int64_t count, float value);
void zero(Stream stream, void* dst, std::size_t bytes);
void synchronize(Stream stream);

}  // namespace cuxplain::kernels::cuda
