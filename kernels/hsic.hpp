#pragma once
// HSIC estimator ops (see include/cuxplain/hsic.hpp), declared for both
// backends: written once in kernels/hsic.inl but for the continuous scores,
// which each backend walks its own way. host/explain/hsic_estimator.cpp
// runs the interactions' chunks (panels, the contract's GEMM, accumulation).
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

#include "cpu/isa.hpp"

#define CUXPLAIN_DECLARE_HSIC_OPS                                                              \
  void binarize_masks(const Context& ctx, float* masks, std::int64_t count);                  \
  void hsic_centered_gram(const Context& ctx, const float* y, std::int64_t nb_design,         \
                          float width, float* centered_gram);                                 \
  void hsic_scores_binary(const Context& ctx, const float* masks, std::int64_t nb_design,     \
                          std::int64_t d, HsicKernel kernel, const float* centered_gram,      \
                          float* scores);                                                     \
  void hsic_scores_continuous(const Context& ctx, const float* masks, std::int64_t nb_design, \
                              std::int64_t d, HsicKernel kernel, const float* centered_gram,  \
                              float* scores);                                                 \
  /* Pair rows r = (a, b), a = a0 + r / N, b = r % N: kernel_panel[r][i] = k_i(x_a, x_b)   */ \
  /* and weighted_panel[r][i] = Lc_ab k_i(x_a, x_b).                                        */ \
  void hsic_interaction_panels(const Context& ctx, const float* masks, std::int64_t nb_design, \
                               std::int64_t d, HsicKernel kernel, const float* centered_gram, \
                               std::int64_t a0, std::int64_t rows, float* kernel_panel,       \
                               float* weighted_panel);                                        \
  /* total[e] += chunk[e] for e < count. */                                                   \
  void hsic_accumulate(const Context& ctx, const float* chunk, std::int64_t count,             \
                       double* total);                                                        \
  /* interactions (d x d) from the accumulated T = K^T diag(Lc) K (detail::interaction_entry). */ \
  void hsic_finish_interactions(const Context& ctx, const double* total, std::int64_t d,      \
                                std::int64_t nb_design, float* interactions);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_HSIC_OPS
/// hsic_scores_continuous compiled for `isa`, which the CPU must support
/// (hsic_scores_continuous takes best_isa()).
void hsic_scores_continuous_with(Isa isa, const float* masks, std::int64_t nb_design,
                                 std::int64_t d, HsicKernel kernel, const float* centered_gram,
                                 float* scores);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_HSIC_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_HSIC_OPS
