// Context construction and the default allocators.
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>

#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../../kernels/context_state.hpp"

#if CUXPLAIN_WITH_CUDA
#include "../../kernels/cuda/runtime.hpp"
#endif

namespace cuxplain {

namespace {

/// Cache-line aligned host memory; the stream argument is meaningless here.
/// Blocks of 4 MiB and more are aligned to 2 MiB and advised to the kernel's
/// transparent huge pages, as numpy does with its arrays: where THP is
/// "madvise" (Debian's default) they would otherwise get 4 KiB pages, and
/// OpenBLAS's packing of a large GEMM operand, which walks it across rows,
/// then misses the TLB on nearly every row. NMF's two GEMMs over A
/// (2000 x 2048, rank 25; the two cblas_sgemm calls alone, one core, CPU
/// time) took 10.0 ms per iteration with A on 4 KiB pages against 7.9 ms on
/// huge pages; bench/nmf_vs_sklearn.py compares the whole fits.
class HostAllocator final : public Allocator {
 public:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeFrom = std::size_t{4} << 20;  // numpy's threshold

  void* allocate(std::size_t bytes, Stream) override {
    // nothrow, then bad_alloc here: the same for callers, and under
    // AddressSanitizer (allocator_may_return_null=1) a failed allocation comes
    // back as null instead of ending the process, so that the sanitizer job
    // runs the tests of allocation failures too.
    void* ptr = ::operator new(bytes, std::align_val_t{alignment(bytes)}, std::nothrow);
    if (ptr == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    // Advice only: where THP is off (or "always") nothing changes, so the
    // result is not checked.
    if (bytes >= kHugeFrom) madvise(ptr, bytes, MADV_HUGEPAGE);
#endif
    return ptr;
  }
  void deallocate(void* ptr, std::size_t bytes, Stream) noexcept override {
    ::operator delete(ptr, std::align_val_t{alignment(bytes)});
  }

 private:
  static std::size_t alignment(std::size_t bytes) {
    return bytes >= kHugeFrom ? kHugePage : kAlignment;
  }
};

}  // namespace

detail::ContextState& detail::state_of(const Context& ctx) { return *ctx.state_; }

Context::Context(std::shared_ptr<detail::ContextState> state) : state_(std::move(state)) {}

Context Context::host() {
  auto state = std::make_shared<detail::ContextState>();
  state->allocator = std::make_shared<HostAllocator>();
  return Context(std::move(state));
}

Context Context::cuda(Stream stream) {
#if CUXPLAIN_WITH_CUDA
  auto state = std::make_shared<detail::ContextState>();
  state->backend = Backend::cuda;
  state->device = kernels::cuda::current_device();
  state->multiprocessors = kernels::cuda::multiprocessor_count(state->device);
  state->stream = stream;
  state->allocator = kernels::cuda::make_stream_ordered_allocator(state->device);
  return Context(std::move(state));
#else
  (void)stream;
  CUXPLAIN_FAIL("Context::cuda(): this cuxplain was built with CUXPLAIN_WITH_CUDA=OFF; "
                "rebuild with the CUDA toolkit or use Context::host()");
#endif
}

bool Context::cuda_available() {
#if CUXPLAIN_WITH_CUDA
  return kernels::cuda::device_available();
#else
  return false;
#endif
}

Backend Context::backend() const { return state_->backend; }
Stream Context::stream() const { return state_->stream; }
int Context::device() const { return state_->device; }
Allocator& Context::allocator() const { return *state_->allocator; }
std::shared_ptr<Allocator> Context::shared_allocator() const { return state_->allocator; }

void Context::set_allocator(std::shared_ptr<Allocator> allocator) {
  CUXPLAIN_EXPECTS(allocator != nullptr, "Context::set_allocator: allocator is null");
  state_->allocator = std::move(allocator);
}

void Context::synchronize() const {
#if CUXPLAIN_WITH_CUDA
  if (is_cuda()) kernels::cuda::synchronize(state_->stream);
#endif
}

}  // namespace cuxplain
