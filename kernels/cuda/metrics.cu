// The CUDA backend of kernels/metrics.inl, and its sorts: the rank maps as
// one CUB radix sort per image (stable, as the CPU's std::stable_sort, so
// that both backends rank ties alike).
#include "backend.cuh"

#include "../metrics.inl"

#include <cub/device/device_radix_sort.cuh>

#include <cstdint>

#include <cuxplain/core/buffer.hpp>

namespace cuxplain::kernels::cuda {
namespace {

/// CUB's temporary storage, from the context's allocator.
template <class Run>
void with_temp_storage(const Context& ctx, Run run) {
  std::size_t bytes = 0;
  CUXPLAIN_CUDA_TRY(run(nullptr, bytes));
  Buffer<unsigned char> storage(ctx, static_cast<std::int64_t>(bytes > 0 ? bytes : 1),
                                "CUB's temporary storage of a sort");
  CUXPLAIN_CUDA_TRY(run(storage.data(), bytes));
}

}  // namespace

void rank_maps(const Context& ctx, const float* keys, std::int64_t n, std::int64_t pixels,
               bool ties_high_first, std::int32_t* ranks) {
  // One image at a time: the sort's memory is one image's, whatever n.
  // Radix sorts are stable, so equal keys keep the input order: the index
  // order, or its reverse (the keys fed back to front) with ties_high_first.
  const int count = static_cast<int>(pixels);
  Buffer<float> keys_in(ctx, pixels, "the keys of a rank map");
  Buffer<float> keys_out(ctx, pixels, "the sorted keys of a rank map");
  Buffer<std::int32_t> index_in(ctx, pixels, "the pixel indices of a rank map");
  Buffer<std::int32_t> index_out(ctx, pixels, "the sorted pixel indices of a rank map");
  float* kin = keys_in.data();
  std::int32_t* iin = index_in.data();
  const std::int32_t* iout = index_out.data();
  for (std::int64_t image = 0; image < n; ++image) {
    const float* k = keys + image * pixels;
    std::int32_t* r = ranks + image * pixels;
    for_each(ctx, pixels, [=] CUXPLAIN_LAMBDA(std::int64_t j) {
      const std::int64_t p = ties_high_first ? pixels - 1 - j : j;
      kin[j] = k[p];
      iin[j] = static_cast<std::int32_t>(p);
    });
    with_temp_storage(ctx, [&](void* storage, std::size_t& bytes) {
      return cub::DeviceRadixSort::SortPairsDescending(storage, bytes, keys_in.data(),
                                                       keys_out.data(), index_in.data(),
                                                       index_out.data(), count, 0,
                                                       static_cast<int>(sizeof(float) * 8),
                                                       ctx.stream());
    });
    for_each(ctx, pixels, [=] CUXPLAIN_LAMBDA(std::int64_t j) {
      r[iout[j]] = static_cast<std::int32_t>(j);
    });
  }
}

void sort_ascending(const Context& ctx, const float* keys, std::int64_t n, std::int64_t pixels,
                    float* sorted) {
  for (std::int64_t image = 0; image < n; ++image) {
    with_temp_storage(ctx, [&](void* storage, std::size_t& bytes) {
      return cub::DeviceRadixSort::SortKeys(storage, bytes, keys + image * pixels,
                                            sorted + image * pixels, static_cast<int>(pixels), 0,
                                            static_cast<int>(sizeof(float) * 8), ctx.stream());
    });
  }
}

}  // namespace cuxplain::kernels::cuda
