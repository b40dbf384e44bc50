#pragma once
// Copies between the host and a Context's device, ordered on its stream.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "context.hpp"

namespace cuxplain {

/// Copies `bytes` from host memory to the Context's device (enqueued on its
/// stream; the host source may be reused when the call returns).
void copy_to_device(const Context& ctx, void* device_dst, const void* host_src, std::size_t bytes);

/// Copies `bytes` from the Context's device to host memory and waits for it.
void copy_to_host(const Context& ctx, void* host_dst, const void* device_src, std::size_t bytes);

/// Copies `bytes` between two buffers on the Context's device (stream-ordered).
void copy_on_device(const Context& ctx, void* dst, const void* src, std::size_t bytes);

/// Sets `count` floats on the Context's device to `value` (stream-ordered).
void fill(const Context& ctx, float* dst, std::int64_t count, float value);

/// Sets `bytes` bytes on the Context's device to zero (stream-ordered).
void zero(const Context& ctx, void* dst, std::size_t bytes);

/// Convenience: the `count` floats at `device_src` as a host vector.
std::vector<float> to_host(const Context& ctx, const float* device_src, std::int64_t count);

}  // namespace cuxplain
