#pragma once
// NMF for the library's own callers (CRAFT), which check their arguments
// once and then factorize or transform inside their loops.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/nmf.hpp>

namespace cuxplain::detail {

/// Throws cuxplain::Error, naming the caller, x and the first bad entry,
/// unless every entry of x (rows x cols, on ctx's device) is finite and >= 0.
void nmf_check_matrix(const Context& ctx, const float* x, std::int64_t rows, std::int64_t cols,
                      const char* caller, const char* name);

/// nmf::transform without its argument checks and without the pass over W,
/// which the caller has checked (nmf_check_matrix): the pass over A, U's
/// start and the solver. `caller` names the call in errors about A.
nmf::Result nmf_transform(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                          const float* W, const nmf::Options& options, float* U,
                          const char* caller);

}  // namespace cuxplain::detail
