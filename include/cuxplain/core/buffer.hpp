#pragma once
// cuxplain::Buffer: typed temporary memory on a Context's device.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "context.hpp"
#include "error.hpp"

namespace cuxplain {

/// Owns `size` uninitialized elements of T allocated from a Context's
/// allocator on its device and stream; released on the same stream. Move-only.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Context& ctx, std::int64_t size)
      : allocator_(ctx.shared_allocator()), stream_(ctx.stream()), size_(size) {
    CUXPLAIN_EXPECTS(size >= 0, "Buffer size must be >= 0, got ", size);
    if (size_ > 0) {
      data_ = static_cast<T*>(allocator_->allocate(bytes(), stream_));
    }
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
