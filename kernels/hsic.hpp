#pragma once
// HSIC estimator ops, one declaration per backend (see include/cuxplain/hsic.hpp).
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

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
  void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,      \
                         std::int64_t d, HsicKernel kernel, const float* centered_gram,       \
                         float* interactions);

namespace cuxplain::kernels::cpu {
CUXPLAIN_DECLARE_HSIC_OPS
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
CUXPLAIN_DECLARE_HSIC_OPS
}  // namespace cuxplain::kernels::cuda

#undef CUXPLAIN_DECLARE_HSIC_OPS
