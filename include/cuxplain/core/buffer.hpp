#pragma once
// cuxplain::Buffer: typed temporary memory on a Context's device.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "context.hpp"
#include "error.hpp"

namespace cuxplain {

namespace detail {
/// count * element_size bytes from ctx's allocator. A size that overflows and
/// any failure of the allocator (std::bad_alloc, a CUDA out-of-memory error,
/// whatever a user allocator throws) become a cuxplain::Error "cannot
/// allocate <what>: <count> x <element_size> = <bytes> bytes (<GiB>) on
/// <device>: <reason>", so callers can name the buffer and the option that
/// sized it.
void* allocate_elements(const Context& ctx, std::int64_t count, std::size_t element_size,
                        const std::string& what);
}  // namespace detail

/// Owns `size` uninitialized elements of T allocated from a Context's
/// allocator on its device and stream; released on the same stream. Move-only.
/// `what` names the buffer in the cuxplain::Error thrown when it cannot be
/// allocated (see detail::allocate_elements).
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Context& ctx, std::int64_t size, const std::string& what = "a temporary buffer")
      : allocator_(ctx.shared_allocator()), stream_(ctx.stream()) {
    CUXPLAIN_EXPECTS(size >= 0, "Buffer size must be >= 0, got ", size, " (", what, ")");
    if (size > 0) data_ = static_cast<T*>(detail::allocate_elements(ctx, size, sizeof(T), what));
    size_ = size;
  }
  Buffer(Buffer&& other) noexcept { swap(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    Buffer(std::move(other)).swap(*this);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (data_ != nullptr) allocator_->deallocate(data_, bytes(), stream_);
  }

  T* data() const { return data_; }
  std::int64_t size() const { return size_; }
  std::size_t bytes() const { return static_cast<std::size_t>(size_) * sizeof(T); }

  void swap(Buffer& other) noexcept {
    std::swap(allocator_, other.allocator_);
    std::swap(stream_, other.stream_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

 private:
  std::shared_ptr<Allocator> allocator_;
  Stream stream_ = nullptr;
  T* data_ = nullptr;
  std::int64_t size_ = 0;
};

}  // namespace cuxplain
