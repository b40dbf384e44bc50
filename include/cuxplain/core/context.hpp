#pragma once
// cuxplain::Context: which backend runs an op, on which stream, with which memory.
#include <cstddef>
#include <memory>

// The CUDA runtime spells its stream type `struct CUstream_st*`; declaring the
// tag here keeps this header free of CUDA includes (it compiles with g++ alone)
// while `cudaStream_t` values still convert implicitly.
struct CUstream_st;

namespace cuxplain {

/// A CUDA stream handle (cudaStream_t); nullptr on the host backend.
using Stream = CUstream_st*;

enum class Backend { host, cuda };

/// Where temporary memory comes from. allocate/deallocate are called with the
/// Context's stream: a CUDA allocator may order them on it (cudaMallocAsync),
/// a host allocator ignores it. deallocate must not throw.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t bytes, Stream stream) = 0;
  virtual void deallocate(void* ptr, std::size_t bytes, Stream stream) noexcept = 0;
};

class Context;
namespace detail {
struct ContextState;
ContextState& state_of(const Context& ctx);
}  // namespace detail

/// Backend, device, stream and allocator used by every cuxplain op.
///
/// A Context is a cheap handle: copies share the same state. Everything passed
/// to an op through a Context (images, scores, buffers) lives on its device:
/// host memory for Context::host(), device memory of `device()` for
/// Context::cuda(). CUDA ops enqueue on `stream()` and never synchronize the
/// device; the explainers synchronize the stream only where a result must reach
/// the host (a model output check), and say so in their documentation.
class Context {
 public:
  /// CPU backend: plain C++ loops, parallel with OpenMP when available.
  static Context host();

  /// CUDA backend on the current device, ordering all work on `stream`
  /// (nullptr is the CUDA default stream). Throws cuxplain::Error when cuxplain
  /// was built without CUDA or no usable GPU is present.
  static Context cuda(Stream stream = nullptr);

  /// True when a CUDA device is usable by this build (never throws).
  static bool cuda_available();

  Backend backend() const;
  bool is_cuda() const { return backend() == Backend::cuda; }
  bool is_host() const { return backend() == Backend::host; }
  Stream stream() const;
  /// CUDA device ordinal, -1 on the host backend.
  int device() const;

  Allocator& allocator() const;
  /// Replaces the allocator used for temporaries from now on. Buffers already
  /// allocated keep the allocator that made them.
  void set_allocator(std::shared_ptr<Allocator> allocator);
  std::shared_ptr<Allocator> shared_allocator() const;

  /// Waits for all work enqueued on stream(); no-op on the host backend.
  void synchronize() const;

 private:
  explicit Context(std::shared_ptr<detail::ContextState> state);
  friend detail::ContextState& detail::state_of(const Context& ctx);
  std::shared_ptr<detail::ContextState> state_;
};

}  // namespace cuxplain
