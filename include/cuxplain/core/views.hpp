#pragma once
// Non-owning views over memory that lives on a Context's device.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <vector>

namespace cuxplain {

/// Memory order of an image batch: NCHW (channel planes) or NHWC (interleaved).
enum class Layout { nchw, nhwc };

/// Element type of tensors that cuxplain writes for a model (perturbed images).
enum class DType { f32, f16, bf16 };

/// Size in bytes of one element of `type`.
constexpr std::size_t dtype_size(DType type) { return type == DType::f32 ? 4 : 2; }

/// A batch of n float images of c x h x w on the Context's device.
struct ConstImageView {
  const float* data = nullptr;
  std::int64_t n = 0;
  std::int64_t c = 0;
  std::int64_t h = 0;
  std::int64_t w = 0;
  Layout layout = Layout::nchw;

  constexpr std::int64_t image_size() const { return c * h * w; }
  constexpr std::int64_t size() const { return n * c * h * w; }
  /// Image `i` of the batch as a batch of one.
  constexpr ConstImageView image(std::int64_t i) const {
    return {data + i * image_size(), 1, c, h, w, layout};
  }
};

/// Mutable twin of ConstImageView.
struct ImageView {
  float* data = nullptr;
  std::int64_t n = 0;
  std::int64_t c = 0;
  std::int64_t h = 0;
  std::int64_t w = 0;
  Layout layout = Layout::nchw;

  constexpr std::int64_t image_size() const { return c * h * w; }
  constexpr std::int64_t size() const { return n * c * h * w; }
  constexpr operator ConstImageView() const { return {data, n, c, h, w, layout}; }
};

/// A contiguous range of host memory (std::span for C++17): pointer and count.
template <class T>
class HostSpan {
 public:
  constexpr HostSpan() = default;
  constexpr HostSpan(T* data, std::size_t size) : data_(data), size_(size) {}
  template <class U, class Alloc>
  HostSpan(const std::vector<U, Alloc>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
  template <class U, class Alloc>
  HostSpan(std::vector<U, Alloc>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
  // For braced arguments, f(ctx, ..., {3, 7}, ...): the list lives until the
  // end of the full expression, as long as the call. Never store such a span.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  constexpr HostSpan(std::initializer_list<std::remove_const_t<T>> list)  // NOLINT
      : data_(list.begin()), size_(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  constexpr T* data() const { return data_; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T& operator[](std::size_t i) const { return data_[i]; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cuxplain
