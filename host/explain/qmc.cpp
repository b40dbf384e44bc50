// Public entry of the samplers: argument checks, then the backend.
#include <cuxplain/core/error.hpp>
#include <cuxplain/detail/qmc.hpp>
#include <cuxplain/qmc.hpp>

#include <limits>

#include "../../kernels/qmc.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/validate.hpp"

namespace cuxplain {
namespace {

// Sobol and Halton points are indexed by 32-bit integers.
constexpr std::int64_t kIndexedPoints = std::int64_t{1} << 32;

std::int64_t max_dimensions(Sampler sampler) {
  switch (sampler) {
    case Sampler::sobol:
    case Sampler::sobol_owen: return kSobolMaxDimensions;
    case Sampler::halton: return kHaltonMaxDimensions;
    case Sampler::lhs:
    case Sampler::monte_carlo: return std::numeric_limits<std::int64_t>::max();
  }
  CUXPLAIN_FAIL("generate_samples: unknown sampler ", static_cast<int>(sampler));
}

}  // namespace

void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip, std::uint64_t seed) {
  const std::int64_t dims_limit = max_dimensions(sampler);
  const char* name = to_string(sampler);
  CUXPLAIN_EXPECTS(n >= 1, "generate_samples: n must be >= 1, got ", n);
  CUXPLAIN_EXPECTS(dims >= 1, "generate_samples: dims must be >= 1, got ", dims);
  CUXPLAIN_EXPECTS(dims <= dims_limit, "generate_samples: dims = ", dims, " exceeds the ",
                   dims_limit, " dimensions of Sampler::", name);
  CUXPLAIN_EXPECTS(skip >= 0, "generate_samples: skip must be >= 0, got ", skip);
  constexpr std::int64_t max_values =
      std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(sizeof(float));
  CUXPLAIN_EXPECTS(n <= max_values / dims, "generate_samples: n * dims overflows (n = ", n,
                   ", dims = ", dims, ")");
  switch (sampler) {
    case Sampler::sobol:
    case Sampler::sobol_owen:
    case Sampler::halton:
      CUXPLAIN_EXPECTS(skip <= kIndexedPoints - n, "generate_samples: n + skip = ", n, " + ",
                       skip, " points exceed the 2^32 points of Sampler::", name);
      break;
    case Sampler::lhs:
      CUXPLAIN_EXPECTS(n <= detail::kLhsMaxPoints, "generate_samples: n = ", n,
                       " exceeds the 2^24 strata that float values can separate (Sampler::lhs)");
      break;
    case Sampler::monte_carlo:
      CUXPLAIN_EXPECTS(skip <= std::numeric_limits<std::int64_t>::max() - n,
                       "generate_samples: n + skip = ", n, " + ", skip, " overflows int64");
      break;
  }
  detail::expect_on_device(ctx, out, "generate_samples: out");
  CUXPLAIN_DISPATCH(ctx, generate_samples, sampler, n, dims, out, skip, seed);
}

}  // namespace cuxplain
