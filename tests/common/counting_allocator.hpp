#pragma once
// A host allocator that counts live and peak bytes, for tests of the
// library's memory bounds, and that can refuse allocations beyond a limit
// (throwing std::bad_alloc, as operator new does) to test out-of-memory paths.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <cuxplain/core/context.hpp>

namespace cuxplain::test {

class CountingAllocator final : public Allocator {
 public:
  /// limit: the most live bytes allowed; < 0 for no limit.
  explicit CountingAllocator(std::int64_t limit = -1) : limit_(limit) {}

  void* allocate(std::size_t bytes, Stream) override {
    const auto size = static_cast<std::int64_t>(bytes);
    if (limit_ >= 0 && (size > limit_ || live_ > limit_ - size)) {
      ++refused_;
      throw std::bad_alloc();
    }
    void* ptr = std::malloc(bytes == 0 ? 1 : bytes);
    if (ptr == nullptr) throw std::bad_alloc();
    live_ += size;
    peak_ = std::max(peak_, live_);
    ++allocations_;
    return ptr;
  }
  void deallocate(void* ptr, std::size_t bytes, Stream) noexcept override {
    live_ -= static_cast<std::int64_t>(bytes);
    std::free(ptr);
  }
  std::int64_t live() const { return live_; }
  std::int64_t peak() const { return peak_; }
  std::int64_t allocations() const { return allocations_; }
  std::int64_t refused() const { return refused_; }
  void reset_peak() { peak_ = live_; }

 private:
  std::int64_t limit_;
  std::int64_t live_ = 0, peak_ = 0, allocations_ = 0, refused_ = 0;
};

}  // namespace cuxplain::test
