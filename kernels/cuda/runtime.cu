// CUDA runtime services behind kernels/cuda/runtime.hpp.
#include "check.cuh"
#include "runtime.hpp"

#include <cstdint>
#include <map>
#include <mutex>

namespace cuxplain::kernels::cuda {
namespace {

/// cuxplain's memory pool on `device`, made on first use and kept for the
/// process (destroying it at exit could race the driver's own teardown).
/// Its release threshold keeps freed blocks in the pool: with the device's
/// default pool (threshold 0) every synchronization hands the unused memory
/// back to the driver, and the next call's temporaries (a network's
/// workspace, an explainer's batches) are mapped again. The user's own
/// cudaMallocAsync keeps the default pool and its settings.
cudaMemPool_t library_pool(int device) {
  static std::mutex mutex;
  static std::map<int, cudaMemPool_t> pools;
  std::lock_guard<std::mutex> lock(mutex);
  const auto it = pools.find(device);
  if (it != pools.end()) return it->second;
  cudaMemPoolProps props = {};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t pool = nullptr;
  CUXPLAIN_CUDA_TRY(cudaMemPoolCreate(&pool, &props));
  std::uint64_t keep = UINT64_MAX;
  CUXPLAIN_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  pools.emplace(device, pool);
  return pool;
}

class StreamOrderedAllocator final : public Allocator {
 public:
  explicit StreamOrderedAllocator(int device) : pool_(library_pool(device)) {}
  void* allocate(std::size_t bytes, Stream stream) override {
    void* ptr = nullptr;
    CUXPLAIN_CUDA_TRY(cudaMallocFromPoolAsync(&ptr, bytes, pool_, stream));
    return ptr;
  }
  void deallocate(void* ptr, std::size_t, Stream stream) noexcept override {
    // A failing free cannot be reported from a destructor; the next checked
    // call on the stream surfaces a sticky error.
    (void)cudaFreeAsync(ptr, stream);
  }

 private:
  cudaMemPool_t pool_;
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

std::shared_ptr<Allocator> make_stream_ordered_allocator(int device) {
  return std::make_shared<StreamOrderedAllocator>(device);
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
