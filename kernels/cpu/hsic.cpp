// The CPU backend of kernels/hsic.inl, and its continuous scores.
//
// score_i = (1 / N) sum_jl k(x_ji, x_li) Lc_jl. k and Lc are symmetric in
// (j, l), so the pairs j < l are summed once with the weight Lc_jl + Lc_lj
// and the diagonal with Lc_jj: half the kernel evaluations. The masks are
// transposed (one cell's N values contiguous, zero padded to a multiple of
// 8) and the upper triangle is cut into tiles of kTileRows rows j by up to
// kTileCols columns l. A tile's weights are gathered once and reused for
// every cell, from L1; for one cell, each column keeps a float sum over the
// tile's rows (the loop over columns vectorizes, exp included: glibc's
// libmvec), and the column sums are added into the cell's double total.
// Each block of rows sums its own tiles, in column order, and the blocks'
// totals are added in block order, so the scores do not depend on the
// number of threads. The loops are compiled for the baseline target and for
// AVX2 + FMA (isa.hpp).
#include "backend.hpp"

#include "../hsic.inl"

#include <algorithm>
#include <cmath>
#include <vector>

#include "isa.hpp"

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__i386__))
// glibc's libmvec has vector variants of expf (SSE4, AVX2, AVX-512), which
// <math.h> declares only under -ffast-math. Declared here, they let GCC
// vectorize the RBF input kernel (detail::hsic_input_kernel, as it is); this
// file is compiled with -fno-math-errno, which the vectorizer needs as well
// (cmake/cuxplainSources.cmake). libm.so's linker script links libmvec.
extern "C" __attribute__((simd("notinbranch"))) float expf(float) noexcept;
#endif

namespace cuxplain::kernels::cpu {
namespace {

using Index = std::int64_t;

/// Rows j of a tile: each column's float sum runs over at most this many
/// terms before it is added in double (CUDA's tiles sum 32 columns in float).
constexpr Index kTileRows = 32;
/// Columns l of a tile: its weights (32 KiB) stay in L1 for every cell.
constexpr Index kTileCols = 256;

Index padded(Index n) { return (n + 7) / 8 * 8; }

/// The pair weights of the tile at rows [j0, j0 + rows), columns [l0, l0 +
/// cols): Lc_jl + Lc_lj above the diagonal, Lc_jj on it, 0 below it and past
/// column N.
void tile_weights(const float* centered_gram, Index n, Index j0, Index rows, Index l0, Index cols,
                  float* weights) {
  for (Index r = 0; r < rows; ++r) {
    const Index j = j0 + r;
    for (Index c = 0; c < cols; ++c) {
      const Index l = l0 + c;
      weights[r * kTileCols + c] = l < n && l >= j ? centered_gram[j * n + l] : 0.0f;
    }
  }
  // The transposed half, read along rows of Lc: row l, columns [j0, j0 + rows).
  for (Index c = 0; c < cols; ++c) {
    const Index l = l0 + c;
    if (l >= n) break;
    for (Index r = 0; r < rows; ++r) {
      if (l > j0 + r) weights[r * kTileCols + c] += centered_gram[l * n + j0 + r];
    }
  }
}

/// acc[i] += sum over the tile of k(x_ji, x_li) w_jl, for every cell i.
/// `cols` is a multiple of 8.
template <HsicKernel Kernel>
inline void tile_scores(const float* __restrict masks_t, Index stride, Index d,
                        const float* __restrict weights, Index j0, Index rows, Index l0,
                        Index cols, double* __restrict acc) {
  alignas(64) float column_sums[kTileCols];
  for (Index i = 0; i < d; ++i) {
    const float* xi = masks_t + i * stride;
    const float* xl = xi + l0;
    std::fill(column_sums, column_sums + cols, 0.0f);
    for (Index r = 0; r < rows; ++r) {
      const float xj = xi[j0 + r];
      const float* w = weights + r * kTileCols;
      for (Index c = 0; c < cols; ++c) {
        column_sums[c] += detail::hsic_input_kernel(Kernel, xj, xl[c]) * w[c];
      }
    }
    double sum = 0.0;
    for (Index c = 0; c < cols; ++c) sum += column_sums[c];
    acc[i] += sum;
  }
}

inline void tile_scores_any(HsicKernel kernel, const float* masks_t, Index stride, Index d,
                            const float* weights, Index j0, Index rows, Index l0, Index cols,
                            double* acc) {
  switch (kernel) {
    case HsicKernel::binary:
      return tile_scores<HsicKernel::binary>(masks_t, stride, d, weights, j0, rows, l0, cols, acc);
    case HsicKernel::rbf:
      return tile_scores<HsicKernel::rbf>(masks_t, stride, d, weights, j0, rows, l0, cols, acc);
    case HsicKernel::sobolev:
      return tile_scores<HsicKernel::sobolev>(masks_t, stride, d, weights, j0, rows, l0, cols,
                                              acc);
  }
}

CUXPLAIN_TARGET_GENERIC void tile_scores_generic(HsicKernel kernel, const float* masks_t,
                                                 Index stride, Index d, const float* weights,
                                                 Index j0, Index rows, Index l0, Index cols,
                                                 double* acc) {
  tile_scores_any(kernel, masks_t, stride, d, weights, j0, rows, l0, cols, acc);
}

CUXPLAIN_TARGET_AVX2_FMA void tile_scores_avx2_fma(HsicKernel kernel, const float* masks_t,
                                                   Index stride, Index d, const float* weights,
                                                   Index j0, Index rows, Index l0, Index cols,
                                                   double* acc) {
  tile_scores_any(kernel, masks_t, stride, d, weights, j0, rows, l0, cols, acc);
}

}  // namespace

void hsic_scores_continuous_with(Isa isa, const float* masks, std::int64_t nb_design,
                                 std::int64_t d, HsicKernel kernel, const float* centered_gram,
                                 float* scores) {
  const Index n = nb_design;
  const Index stride = padded(n);
  // masks_t[i][j] = x_ji, zero past N.
  std::vector<float> masks_t(static_cast<std::size_t>(d * stride), 0.0f);
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < d; ++i) masks_t[i * stride + j] = masks[j * d + i];
  }
  const auto tiles_of = isa == Isa::avx2_fma ? tile_scores_avx2_fma : tile_scores_generic;
  const Index blocks = (n + kTileRows - 1) / kTileRows;
  std::vector<double> partial(static_cast<std::size_t>(blocks * d), 0.0);
#pragma omp parallel
  {
    std::vector<float> weights(static_cast<std::size_t>(kTileRows * kTileCols));
    // Blocks near the top have the most tiles: dynamic, in order.
#pragma omp for schedule(dynamic)
    for (Index block = 0; block < blocks; ++block) {
      const Index j0 = block * kTileRows;
      const Index rows = std::min(kTileRows, n - j0);
      for (Index l0 = j0; l0 < stride; l0 += kTileCols) {
        const Index cols = std::min(kTileCols, stride - l0);
        tile_weights(centered_gram, n, j0, rows, l0, cols, weights.data());
        tiles_of(kernel, masks_t.data(), stride, d, weights.data(), j0, rows, l0, cols,
                 partial.data() + block * d);
      }
    }
  }
  for (Index i = 0; i < d; ++i) {
    double sum = 0.0;
    for (Index block = 0; block < blocks; ++block) sum += partial[block * d + i];
    scores[i] = static_cast<float>(sum / static_cast<double>(n));
  }
}

void hsic_scores_continuous(const Context&, const float* masks, std::int64_t nb_design,
                            std::int64_t d, HsicKernel kernel, const float* centered_gram,
                            float* scores) {
  hsic_scores_continuous_with(best_isa(), masks, nb_design, d, kernel, centered_gram, scores);
}

}  // namespace cuxplain::kernels::cpu
