#pragma once
// Backends of cuxplain::generate_samples (include/cuxplain/qmc.hpp). Arguments
// are validated by the public entry (host/explain/qmc.cpp): n >= 1, 1 <= dims <= the
// sampler's limit, skip >= 0, n + skip inside the sampler's index range, out
// holding n * dims floats on ctx's device.
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/options.hpp>

namespace cuxplain::kernels::cpu {
void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip, std::uint64_t seed);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip, std::uint64_t seed);
}  // namespace cuxplain::kernels::cuda
