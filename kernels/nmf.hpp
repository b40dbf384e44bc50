#pragma once
// NMF building blocks, one declaration per backend: the elementwise ops are
// written once in kernels/nmf.inl, the reductions per backend (see include/cuxplain/nmf.hpp;
// host/nmf/nmf.cpp and host/nmf/init.cpp drive them). All pointers are on ctx's
// device; GEMMs are the contract's (kernels/backend.hpp). `partials` is scratch of kNmfTerms * kNmfReduceBlocks doubles.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/detail/nmf.hpp>

#define CUXPLAIN_DECLARE_NMF_OPS                                                                \
  /* Sum, sum of squares and first invalid index of x (count entries) into *scan. */            \
  void nmf_scan(const Context& ctx, const float* x, std::int64_t count, double* partials,        \
                detail::NmfScan* scan);                                                          \
  /* x[i] = nmf_random_value(key, i, scale, absolute). */                                        \
  void nmf_fill_random(const Context& ctx, float* x, std::int64_t count, std::uint64_t key,      \
                       float scale, bool absolute);                                              \
  /* x = nmf_update_value(x, numerator, denominator, l1, l2) elementwise. */                      \
  void nmf_update(const Context& ctx, float* x, const float* numerator, const float* denominator, \
                  std::int64_t count, float l1, float l2);                                        \
  /* The same update, and terms = the kNmfTerms sums of the new x against numerator. */          \
  void nmf_update_terms(const Context& ctx, float* x, const float* numerator,                     \
                        const float* denominator, std::int64_t count, float l1, float l2,         \
                        double* partials, double* terms);                                         \
  /* One coordinate-descent sweep over `rows` independent rows: row i is nmf_cd_row of         \
     x + i * row_stride and cross + i * row_stride (entries at stride stride), with the r x r    \
     gram. partials[b] = the violation of block/chunk b of detail::nmf_cd_blocks(rows). Skipped \
     (partials 0, x unchanged) once state->stopped_at != 0. */                                   \
  void nmf_cd_sweep(const Context& ctx, float* x, std::int64_t rows, std::int64_t r,           \
                    std::int64_t row_stride, std::int64_t stride, const float* cross,           \
                    const float* gram, float l1, float l2, const detail::NmfCdState* state,     \
                    double* partials);                                                           \
  /* nmf_cd_record(state, sum of partials_a + sum of partials_b, iteration, tol); partials_b    \
     may be null (transform: U's sweep alone). */                                                \
  void nmf_cd_stop(const Context& ctx, const double* partials_a, std::int64_t count_a,          \
                   const double* partials_b, std::int64_t count_b, std::int64_t iteration,     \
                   double tol, detail::NmfCdState* state);                                       \
  /* terms = the kNmfTerms sums of x against other (other null: term 0 is 0). */                 \
  void nmf_terms(const Context& ctx, const float* x, const float* other, std::int64_t count,     \
                 double* partials, double* terms);                                               \
  /* out[0..1] = nmf_objective(norm_a2, ..., <gram_a, gram_b>) for r x r Grams. */               \
  void nmf_objective(const Context& ctx, double norm_a2, const double* cross_terms,              \
                     const double* u_terms, const double* w_terms, const float* gram_a,          \
                     const float* gram_b, std::int64_t r, detail::NmfPenalties penalties,        \
                     double* out);                                                               \
  /* norms[2j], norms[2j+1] = squared norms of the positive and negative parts of column j      \
     of x (rows x cols, row-major). */                                                           \
  void nmf_column_part_norms(const Context& ctx, const float* x, std::int64_t rows,              \
                             std::int64_t cols, double* norms);                                  \
  /* out = nndsvd_value(x, components[j], fill) elementwise, j the column of x (rows x cols)    \
     or its row when components_are_rows. */                                                     \
  void nmf_nndsvd_apply(const Context& ctx, const float* x, std::int64_t rows, std::int64_t cols, \
                        bool components_are_rows, const detail::NndsvdComponent* components,     \
                        float fill, float* out);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_NMF_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_NMF_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_NMF_OPS
