#pragma once
// The explain layer's internal ops: what a public entry calls once it has
// validated its arguments, and what the explainers call inside their loops
// (which validate once, before the loop). Ops that are a single backend call
// are dispatched directly (kernels/dispatch.hpp); these are the ones with
// more than one step.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

namespace cuxplain::detail {

/// hsic_output_width without its checks (y is read back to the host).
float hsic_output_width(const Context& ctx, const float* y, std::int64_t nb_design,
                        Bandwidth bandwidth);

/// hsic_scores without its checks.
void hsic_scores(const Context& ctx, const float* masks, std::int64_t nb_design, std::int64_t d,
                 HsicKernel kernel, bool binary_masks, const float* centered_gram, float* scores);

/// hsic_interactions without its checks: chunks of pair rows through the
/// contract's GEMM, accumulated in double.
void hsic_interactions(const Context& ctx, const float* masks, std::int64_t nb_design,
                       std::int64_t d, HsicKernel kernel, const float* centered_gram,
                       float* interactions);

}  // namespace cuxplain::detail
