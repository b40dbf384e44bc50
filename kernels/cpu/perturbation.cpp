// Host backend of box_blur and perturb around the shared math of
// detail/perturbation.hpp.
//
// perturb walks the output as rows of contiguous elements (one channel's row
// of w pixels in NCHW, a row of w * c values in NHWC), in memory order, each
// thread over its own contiguous spans. Everything that depends on the
// column only (the mask's source cells and weights) is tabulated once per
// call, and the horizontal step of the mask lookup once per mask and grid
// row (detail::mask_row_mix), so the inner loop over a row is the vertical
// mix and the perturbation formula on contiguous arrays: the compiler
// vectorizes it. The loops are compiled twice, for the baseline target and
// for AVX2 + FMA + F16C (isa.hpp); std::fma gives the same bits in both,
// and so does F16C's conversion to binary16. Outputs from
// kPerturbStreamingBytes on are written with non-temporal stores, which skip
// reading each destination line before writing it.
#include "../perturbation.hpp"

#include "isa.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if CUXPLAIN_CPU_HAVE_AVX2_FMA
#include <immintrin.h>
#endif

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/perturbation.hpp>

namespace cuxplain::kernels::cpu {
namespace {

using Index = std::int64_t;

/// Element strides of an image in either layout.
struct Strides {
  Index x;
  Index y;
  Index channel;
};

Strides strides_of(ConstImageView v) {
  if (v.layout == Layout::nhwc) return {v.c, v.w * v.c, 1};
  return {1, v.w, v.h * v.w};
}

// Outputs from kPerturbStreamingBytes on are streamed past the caches: 154 MB
// of perturbed copies written through the cache also read every line first,
// and are evicted long before a model reads them; a small batch is left in
// the cache for its reader.

/// Elements a row is computed in before it is streamed out (16 KiB of f32:
/// the staging buffer stays in L1).
constexpr Index kChunk = 4096;

/// Rows of the output, the row geometry and the column tables of one call.
struct Walk {
  Index rows;        // num_masks * planes * h
  Index h;
  Index planes;      // c in NCHW (a row is one channel's), 1 in NHWC
  Index length;      // elements of a row: w in NCHW, w * c in NHWC
  Index grid;
  Index cells;       // floats per mask
  Index cell_stride; // c for per-channel masks, else 1
  bool plane_is_channel_of_mask;  // NCHW with per-channel masks
  const float* image;
  const float* fill;  // the blurred image (blurring), else null
  const float* masks;
  const detail::MaskAxisTap<Index>* row_taps;  // h entries
  const Index* left;   // per row element: the offset of its left (nearest) cell in a grid row
  const Index* right;  // and of its right cell
  const float* tx;     // and the weight of the right cell
  float baseline;
  float sigma;
  bool stream;
  void* out;
};

/// Per-thread cache of one mask's horizontal mixes: grid rows x row length,
/// each grid row filled when a pixel row first reads it.
struct RowMixes {
  explicit RowMixes(const Walk& walk)
      : values(new float[static_cast<std::size_t>(walk.grid * walk.length)]),
        ready(static_cast<std::size_t>(walk.grid), 0) {}
  std::unique_ptr<float[]> values;  // filled row by row: not initialized
  std::vector<char> ready;
  const float* mask = nullptr;  // the mask (and channel) the cache holds
};

/// Writes `bytes` from `src` to `dst` with non-temporal 16-byte stores where
/// `dst` is aligned for them, plain copies at the ends.
inline void stream_out(void* dst, const void* src, std::size_t bytes) {
#if defined(__SSE2__)
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  std::size_t head = (16 - reinterpret_cast<std::uintptr_t>(d) % 16) % 16;
  head = std::min(head, bytes);
  std::memcpy(d, s, head);
  d += head;
  s += head;
  bytes -= head;
  for (; bytes >= 16; bytes -= 16, d += 16, s += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(d),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
  }
  std::memcpy(d, s, bytes);
#else
  std::memcpy(dst, src, bytes);
#endif
}

/// Orders the non-temporal stores before what follows (the team's barrier).
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

/// Grid row `gy` of the mask at `mask`, mixed horizontally at every element
/// of a pixel row.
template <bool Bilinear>
inline const float* row_mix(const Walk& walk, RowMixes& cache, const float* mask, Index gy) {
  if (cache.mask != mask) {
    std::fill(cache.ready.begin(), cache.ready.end(), 0);
    cache.mask = mask;
  }
  float* values = cache.values.get() + gy * walk.length;
  if (!cache.ready[gy]) {
    const float* grid_row = mask + gy * walk.grid * walk.cell_stride;
    for (Index k = 0; k < walk.length; ++k) {
      values[k] = detail::mask_row_mix<Bilinear>(grid_row, walk.left[k], walk.right[k], walk.tx[k]);
    }
    cache.ready[gy] = 1;
  }
  return values;
}

/// binary16 bits of `count` floats. With F16C, its vcvtps2ph rounding to
/// nearest even: the bits of detail::float_to_f16_bits for every one of the
/// 2^32 floats (NaN payloads included), in one instruction per 8.
#if CUXPLAIN_CPU_HAVE_AVX2_FMA
__attribute__((target("avx2,fma,f16c"))) inline void encode_f16(const float* src,
                                                                std::uint16_t* dst,
                                                                Index count) {
  Index k = 0;
  for (; k + 8 <= count; k += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + k), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; k < count; ++k) dst[k] = detail::float_to_f16_bits(src[k]);
}
#else
inline void encode_f16(const float* src, std::uint16_t* dst, Index count) {
  for (Index k = 0; k < count; ++k) dst[k] = detail::float_to_f16_bits(src[k]);
}
#endif

/// `count` elements of a pixel row: the vertical mix of the grid rows' mixes
/// `top` and `bottom`, then the perturbation.
template <Perturbation Kind, bool Bilinear, class Store>
inline void perturb_span(const float* __restrict image, const float* __restrict fill,
                         const float* __restrict top, const float* __restrict bottom, float ty,
                         float baseline, float sigma, typename Store::type* __restrict dst,
                         Index count) {
  for (Index k = 0; k < count; ++k) {
    const float m = detail::mask_column_mix<Bilinear>(top[k], bottom[k], ty);
    const float f = Kind == Perturbation::blurring ? fill[k] : baseline;
    dst[k] = Store::encode(detail::perturbed_value(Kind, image[k], m, f, sigma));
  }
}

/// Output rows [row_begin, row_end). With `F16c`, half outputs are computed
/// as floats and converted by encode_f16.
template <Perturbation Kind, bool Bilinear, class Store, bool F16c>
inline void perturb_rows(const Walk& walk, RowMixes& cache, Index row_begin, Index row_end) {
  using T = typename Store::type;
  constexpr bool via_floats = F16c && std::is_same_v<Store, detail::StoreF16>;
  alignas(64) T staging[kChunk];
  alignas(64) float values[via_floats ? kChunk : 1];
  T* const out = static_cast<T*>(walk.out);
  const Index per_mask = walk.planes * walk.h;
  for (Index row = row_begin; row < row_end; ++row) {
    const Index mask_index = row / per_mask;
    const Index plane = row / walk.h % walk.planes;
    const Index y = row % walk.h;
    const float* mask = walk.masks + mask_index * walk.cells +
                        (walk.plane_is_channel_of_mask ? plane : Index{0});
    const detail::MaskAxisTap<Index> tap = walk.row_taps[y];
    const float* top = row_mix<Bilinear>(walk, cache, mask, tap.i0);
    const float* bottom = Bilinear ? row_mix<Bilinear>(walk, cache, mask, tap.i1) : top;
    // Input rows are the output rows of the first copy.
    const Index in = (row % per_mask) * walk.length;
    const float* fill = Kind == Perturbation::blurring ? walk.fill + in : nullptr;
    T* dst = out + row * walk.length;
    for (Index k0 = 0; k0 < walk.length; k0 += kChunk) {
      const Index count = std::min(kChunk, walk.length - k0);
      T* target = walk.stream ? staging : dst + k0;
      const float* image = walk.image + in + k0;
      const float* fill_row = fill ? fill + k0 : nullptr;
      if constexpr (via_floats) {
        perturb_span<Kind, Bilinear, detail::StoreF32>(image, fill_row, top + k0, bottom + k0,
                                                       tap.t, walk.baseline, walk.sigma, values,
                                                       count);
        encode_f16(values, target, count);
      } else {
        perturb_span<Kind, Bilinear, Store>(image, fill_row, top + k0, bottom + k0, tap.t,
                                            walk.baseline, walk.sigma, target, count);
      }
      if (walk.stream) stream_out(dst + k0, staging, static_cast<std::size_t>(count) * sizeof(T));
    }
  }
  if (walk.stream) stream_fence();
}

template <bool Bilinear, class Store, bool F16c>
inline void perturb_rows_of_kind(Perturbation kind, const Walk& walk, RowMixes& cache,
                                 Index row_begin, Index row_end) {
  switch (kind) {
    case Perturbation::inpainting:
      return perturb_rows<Perturbation::inpainting, Bilinear, Store, F16c>(walk, cache, row_begin,
                                                                     row_end);
    case Perturbation::blurring:
      return perturb_rows<Perturbation::blurring, Bilinear, Store, F16c>(walk, cache, row_begin,
                                                                   row_end);
    case Perturbation::amplitude:
      return perturb_rows<Perturbation::amplitude, Bilinear, Store, F16c>(walk, cache, row_begin,
                                                                    row_end);
  }
}

template <class Store, bool F16c>
inline void perturb_rows_of_store(const PerturbationParams& params, const Walk& walk,
                                  RowMixes& cache, Index row_begin, Index row_end) {
  if (params.interpolation == Interpolation::bilinear) {
    perturb_rows_of_kind<true, Store, F16c>(params.kind, walk, cache, row_begin, row_end);
  } else {
    perturb_rows_of_kind<false, Store, F16c>(params.kind, walk, cache, row_begin, row_end);
  }
}

/// Every instantiation of perturb_rows for one call's parameters.
template <bool F16c>
inline void perturb_rows_any(const PerturbationParams& params, DType out_type, const Walk& walk,
                             RowMixes& cache, Index row_begin, Index row_end) {
  switch (out_type) {
    case DType::f32:
      return perturb_rows_of_store<detail::StoreF32, F16c>(params, walk, cache, row_begin, row_end);
    case DType::f16:
      return perturb_rows_of_store<detail::StoreF16, F16c>(params, walk, cache, row_begin, row_end);
    case DType::bf16:
      return perturb_rows_of_store<detail::StoreBF16, F16c>(params, walk, cache, row_begin, row_end);
  }
}

// The same walk compiled for each instruction set (the attributes inline
// everything it calls into it).
CUXPLAIN_TARGET_GENERIC void perturb_rows_generic(const PerturbationParams& params,
                                                  DType out_type, const Walk& walk,
                                                  RowMixes& cache, Index row_begin,
                                                  Index row_end) {
  perturb_rows_any<false>(params, out_type, walk, cache, row_begin, row_end);
}

CUXPLAIN_TARGET_AVX2_FMA void perturb_rows_avx2_fma(const PerturbationParams& params,
                                                    DType out_type, const Walk& walk,
                                                    RowMixes& cache, Index row_begin,
                                                    Index row_end) {
  perturb_rows_any<true>(params, out_type, walk, cache, row_begin, row_end);
}

}  // namespace

void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out) {
  const Index n = images.n, c = images.c, h = images.h, w = images.w;
  const Index image_size = images.image_size();
  const Strides strides = strides_of(images);
  // Separable: horizontal window sums into a temporary, then vertical sums of
  // those. `out` may alias `images`: the second pass only reads the temporary.
  Buffer<float> row_sums(ctx, images.size());
  float* sums = row_sums.data();

#pragma omp parallel for collapse(3) schedule(static)
  for (Index image = 0; image < n; ++image) {
    for (Index ch = 0; ch < c; ++ch) {
      for (Index y = 0; y < h; ++y) {
        const Index row = image * image_size + ch * strides.channel + y * strides.y;
        for (Index x = 0; x < w; ++x) {
          sums[row + x * strides.x] =
              detail::box_window_sum(images.data + row, strides.x, w, x, blur_size);
        }
      }
    }
  }

  const float area = static_cast<float>(static_cast<double>(blur_size) * blur_size);
#pragma omp parallel for collapse(3) schedule(static)
  for (Index image = 0; image < n; ++image) {
    for (Index ch = 0; ch < c; ++ch) {
      for (Index y = 0; y < h; ++y) {
        for (Index x = 0; x < w; ++x) {
          const Index column = image * image_size + ch * strides.channel + x * strides.x;
          out.data[column + y * strides.y] = detail::div_rounded<detail::Rounding::nearest>(
              detail::box_window_sum(sums + column, strides.y, h, y, blur_size), area);
        }
      }
    }
  }
}

void perturb_with(Isa isa, ConstImageView image, const float* masks, std::int64_t num_masks,
                  const PerturbationParams& params, const float* blurred, void* out,
                  DType out_type) {
  if (num_masks == 0) return;
  const Index c = image.c, h = image.h, w = image.w, grid = params.grid_size;
  const bool nhwc = image.layout == Layout::nhwc;
  const Index cell_stride = params.per_channel ? c : Index{1};

  Walk walk{};
  walk.h = h;
  walk.planes = nhwc ? Index{1} : c;
  walk.length = nhwc ? w * c : w;
  walk.rows = num_masks * walk.planes * h;
  walk.grid = grid;
  walk.cells = mask_cells(params, c);
  walk.cell_stride = cell_stride;
  walk.plane_is_channel_of_mask = !nhwc && params.per_channel;
  walk.image = image.data;
  walk.fill = params.kind == Perturbation::blurring ? blurred : nullptr;
  walk.masks = masks;
  walk.baseline = params.baseline;
  walk.sigma = params.sigma;
  walk.out = out;
#if defined(__SSE2__)
  walk.stream = static_cast<std::size_t>(num_masks * image.image_size()) * dtype_size(out_type) >=
                kPerturbStreamingBytes;
#else
  walk.stream = false;
#endif

  // The taps depend on one coordinate each: tabulate them once per call, the
  // columns' per row element (with the channel's cell offset in NHWC).
  std::vector<detail::MaskAxisTap<Index>> row_taps(static_cast<std::size_t>(h));
  for (Index y = 0; y < h; ++y) {
    row_taps[y] = detail::mask_axis_tap(params.interpolation, y, grid, h);
  }
  const auto length = static_cast<std::size_t>(walk.length);
  std::vector<Index> left(length), right(length);
  std::vector<float> tx(length);
  for (Index x = 0; x < w; ++x) {
    const auto tap = detail::mask_axis_tap(params.interpolation, x, grid, w);
    for (Index ch = 0; ch < (nhwc ? c : Index{1}); ++ch) {
      const Index k = nhwc ? x * c + ch : x;
      const Index offset = nhwc && params.per_channel ? ch : Index{0};
      left[k] = tap.i0 * cell_stride + offset;
      right[k] = tap.i1 * cell_stride + offset;
      tx[k] = tap.t;
    }
  }
  walk.row_taps = row_taps.data();
  walk.left = left.data();
  walk.right = right.data();
  walk.tx = tx.data();

  const auto rows_of = isa == Isa::avx2_fma ? perturb_rows_avx2_fma : perturb_rows_generic;
  // Contiguous spans of rows, a static block of them per thread.
  const Index spans = std::min<Index>(walk.rows, 256);
#pragma omp parallel
  {
    RowMixes cache(walk);
#pragma omp for schedule(static)
    for (Index span = 0; span < spans; ++span) {
      rows_of(params, out_type, walk, cache, walk.rows * span / spans,
              walk.rows * (span + 1) / spans);
    }
  }
}

void perturb(const Context&, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type) {
  perturb_with(best_isa(), image, masks, num_masks, params, blurred, out, out_type);
}

}  // namespace cuxplain::kernels::cpu
