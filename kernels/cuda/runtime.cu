// CUDA runtime services behind kernels/cuda/runtime.hpp.
#include "check.cuh"
#include "runtime.hpp"

namespace cuxplain::kernels::cuda {
namespace {

class StreamOrderedAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, Stream stream) override {
    void* ptr = nullptr;
    CUXPLAIN_CUDA_TRY(cudaMallocAsync(&ptr, bytes, stream));
    return ptr;
  }
  void deallocate(void* ptr, std::size_t, Stream stream) noexcept override {
    // A failing free cannot be reported from a destructor; the next checked
    // call on the stream surfaces a sticky error.
    (void)cudaFreeAsync(ptr, stream);
  }
};

}  // namespace

bool device_available() {
  static const bool available = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the error so later calls start clean
      return false;
    }
    return count > 0;
  }();
  return available;
}

int multiprocessor_count(int device) {
  int count = 0;
  CUXPLAIN_CUDA_TRY(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
  return count > 0 ? count : 1;
}

int current_device() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    CUXPLAIN_FAIL("Context::cuda(): no usable CUDA device (",
                  status != cudaSuccess ? cudaGetErrorString(status) : "device count is 0",
                  "); use Context::host() on this machine");
  }
  int device = 0;
  CUXPLAIN_CUDA_TRY(cudaGetDevice(&device));
  return device;
}

std::shared_ptr<Allocator> make_stream_ordered_allocator() {
  return std::make_shared<StreamOrderedAllocator>();
}

MemoryKind memory_kind(const void* ptr) {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, ptr) != cudaSuccess) {
    (void)cudaGetLastError();
    return MemoryKind::host;
  }
  switch (attributes.type) {
    case cudaMemoryTypeDevice: return MemoryKind::device;
    case cudaMemoryTypeManaged: return MemoryKind::managed;
    default: return MemoryKind::host;
  }
}

void synchronize(Stream stream) { CUXPLAIN_CUDA_TRY(cudaStreamSynchronize(stream)); }

}  // namespace cuxplain::kernels::cuda
