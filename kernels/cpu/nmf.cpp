// The CPU backend of kernels/nmf.inl, and NMF's reductions on the CPU: the
// same math as kernels/cuda/nmf.cu (include/cuxplain/detail/nmf.hpp), summed
// in fixed chunks (detail::nmf_reduce_blocks) so that the sums do not depend
// on the number of threads.
#include "backend.hpp"

#include "../nmf.inl"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cuxplain::kernels::cpu {
namespace {

/// Index range of chunk `c` of `chunks` over count entries.
struct Chunk {
  std::int64_t begin, end;
};

Chunk chunk_of(std::int64_t c, std::int64_t chunks, std::int64_t count) {
  const std::int64_t size = (count + chunks - 1) / chunks;
  return {std::min(count, c * size), std::min(count, (c + 1) * size)};
}

/// Sums the per-chunk partials (kNmfTerms each) in chunk order.
void sum_partials(const double* partials, std::int64_t chunks, double* terms) {
  for (int t = 0; t < detail::kNmfTerms; ++t) terms[t] = 0.0;
  for (std::int64_t c = 0; c < chunks; ++c)
    for (int t = 0; t < detail::kNmfTerms; ++t) terms[t] += partials[c * detail::kNmfTerms + t];
}

}  // namespace

void nmf_scan(const Context&, const float* x, std::int64_t count, double* partials,
              detail::NmfScan* scan) {
  const std::int64_t chunks = detail::nmf_reduce_blocks(count);
  std::vector<std::int64_t> first(static_cast<std::size_t>(chunks), -1);
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const Chunk range = chunk_of(c, chunks, count);
    double sum = 0.0, squares = 0.0;
    for (std::int64_t i = range.begin; i < range.end; ++i) {
      const float v = x[i];
      if (!detail::nmf_valid_entry(v)) {
        first[c] = i;
        break;
      }
      sum += v;
      squares += static_cast<double>(v) * v;
    }
    partials[c * 2] = sum;
    partials[c * 2 + 1] = squares;
  }
  detail::NmfScan result;
  for (std::int64_t c = 0; c < chunks; ++c) {
    if (first[c] >= 0) {
      result.first_invalid = first[c];
      break;
    }
    result.sum += partials[c * 2];
    result.sum_squares += partials[c * 2 + 1];
  }
  *scan = result;
}

// The fused update runs on one thread, as the elementwise one (nmf.inl).
void nmf_update_terms(const Context&, float* x, const float* numerator, const float* denominator,
                      std::int64_t count, float l1, float l2, double* partials, double* terms) {
  const std::int64_t chunks = detail::nmf_reduce_blocks(count);
  for (std::int64_t c = 0; c < chunks; ++c) {
    const Chunk range = chunk_of(c, chunks, count);
    double cross = 0.0, sum = 0.0, squares = 0.0;
    for (std::int64_t i = range.begin; i < range.end; ++i) {
      const float v = detail::nmf_update_value(x[i], numerator[i], denominator[i], l1, l2);
      x[i] = v;
      cross += static_cast<double>(numerator[i]) * v;
      sum += v;
      squares += static_cast<double>(v) * v;
    }
    partials[c * detail::kNmfTerms] = cross;
    partials[c * detail::kNmfTerms + 1] = sum;
    partials[c * detail::kNmfTerms + 2] = squares;
  }
  sum_partials(partials, chunks, terms);
}

// Rows go through the sweep in blocks of kCdBlock, gathered component-major
// so that the innermost loops run across rows: each row sees the same float
// operations in the same order as in detail::nmf_cd_row (what CUDA runs),
// while the compiler vectorizes across rows. Row by row, the dependent sum
// of g made both sweeps cost about half of an iteration's GEMMs at CRAFT's
// size (4.5 ms against 9 ms on 2 cores); blocked, 1.2 ms. One thread, like
// the passes above.
void nmf_cd_sweep(const Context&, float* x, std::int64_t rows, std::int64_t r,
                  std::int64_t row_stride, std::int64_t stride, const float* cross,
                  const float* gram, float l1, float l2, const detail::NmfCdState* state,
                  double* partials) {
  constexpr std::int64_t kCdBlock = 64;
  const std::int64_t chunks = detail::nmf_cd_blocks(rows);
  if (state->stopped_at != 0) {
    std::fill(partials, partials + chunks, 0.0);
    return;
  }
  std::vector<float> xs(static_cast<std::size_t>(r * kCdBlock)), cs(xs.size());
  float grad[kCdBlock];
  double violation[kCdBlock];
  for (std::int64_t c = 0; c < chunks; ++c) {
    const Chunk range = chunk_of(c, chunks, rows);
    double chunk_violation = 0.0;
    for (std::int64_t i0 = range.begin; i0 < range.end; i0 += kCdBlock) {
      const std::int64_t m = std::min(kCdBlock, range.end - i0);
      for (std::int64_t q = 0; q < r; ++q) {
        for (std::int64_t b = 0; b < m; ++b) {
          xs[q * kCdBlock + b] = x[(i0 + b) * row_stride + q * stride];
          cs[q * kCdBlock + b] = cross[(i0 + b) * row_stride + q * stride];
        }
      }
      std::fill(violation, violation + m, 0.0);
      for (std::int64_t t = 0; t < r; ++t) {
        const float* ct = &cs[t * kCdBlock];
        for (std::int64_t b = 0; b < m; ++b) grad[b] = detail::nmf_cd_gradient_start(ct[b], l1);
        for (std::int64_t q = 0; q < r; ++q) {
          const float g = detail::nmf_cd_gram(gram, r, t, q, l2);
          const float* xq = &xs[q * kCdBlock];
          for (std::int64_t b = 0; b < m; ++b) grad[b] = detail::nmf_mul_add(grad[b], g, xq[b]);
        }
        const float hessian = detail::nmf_cd_gram(gram, r, t, t, l2);
        float* xt = &xs[t * kCdBlock];
        for (std::int64_t b = 0; b < m; ++b) {
          violation[b] += detail::nmf_cd_violation(xt[b], grad[b]);
          xt[b] = detail::nmf_cd_step(xt[b], grad[b], hessian);
        }
      }
      for (std::int64_t q = 0; q < r; ++q) {
        for (std::int64_t b = 0; b < m; ++b) x[(i0 + b) * row_stride + q * stride] = xs[q * kCdBlock + b];
      }
      for (std::int64_t b = 0; b < m; ++b) chunk_violation += violation[b];  // row order
    }
    partials[c] = chunk_violation;
  }
}

void nmf_cd_stop(const Context&, const double* partials_a, std::int64_t count_a,
                 const double* partials_b, std::int64_t count_b, std::int64_t iteration,
                 double tol, detail::NmfCdState* state) {
  double a = 0.0, b = 0.0;
  for (std::int64_t c = 0; c < count_a; ++c) a += partials_a[c];
  for (std::int64_t c = 0; partials_b != nullptr && c < count_b; ++c) b += partials_b[c];
  detail::nmf_cd_record(state, a + b, iteration, tol);
}

void nmf_terms(const Context&, const float* x, const float* other, std::int64_t count,
               double* partials, double* terms) {
  const std::int64_t chunks = detail::nmf_reduce_blocks(count);
  for (std::int64_t c = 0; c < chunks; ++c) {
    const Chunk range = chunk_of(c, chunks, count);
    double cross = 0.0, sum = 0.0, squares = 0.0;
    for (std::int64_t i = range.begin; i < range.end; ++i) {
      const float v = x[i];
      if (other != nullptr) cross += static_cast<double>(other[i]) * v;
      sum += v;
      squares += static_cast<double>(v) * v;
    }
    partials[c * detail::kNmfTerms] = cross;
    partials[c * detail::kNmfTerms + 1] = sum;
    partials[c * detail::kNmfTerms + 2] = squares;
  }
  sum_partials(partials, chunks, terms);
}

void nmf_objective(const Context&, double norm_a2, const double* cross_terms,
                   const double* u_terms, const double* w_terms, const float* gram_a,
                   const float* gram_b, std::int64_t r, detail::NmfPenalties penalties,
                   double* out) {
  double dot = 0.0;
  for (std::int64_t e = 0; e < r * r; ++e) dot += static_cast<double>(gram_a[e]) * gram_b[e];
  detail::nmf_objective(norm_a2, cross_terms, u_terms, w_terms, dot, penalties, out);
}

void nmf_column_part_norms(const Context&, const float* x, std::int64_t rows, std::int64_t cols,
                           double* norms) {
#pragma omp parallel for schedule(static)
  for (std::int64_t j = 0; j < cols; ++j) {
    double positive = 0.0, negative = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const double v = x[i * cols + j];
      if (v > 0.0) positive += v * v;
      if (v < 0.0) negative += v * v;
    }
    norms[2 * j] = positive;
    norms[2 * j + 1] = negative;
  }
}

}  // namespace cuxplain::kernels::cpu
