#pragma once
// Quasi-Monte Carlo and random point sets for designs.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Dimensions available to Sampler::sobol and Sampler::sobol_owen (Joe-Kuo
/// new-joe-kuo-6.21201 direction numbers).
constexpr std::int64_t kSobolMaxDimensions = 21201;

/// Dimensions available to Sampler::halton (bases: the first 21201 primes).
constexpr std::int64_t kHaltonMaxDimensions = 21201;

/// Writes points [skip, skip + n) of a `dims`-dimensional point set to `out`
/// (n x dims floats, row-major, on ctx's device), each value in [0, 1).
///
/// - sobol: bit-identical to scipy.stats.qmc.Sobol(dims, scramble=False) for
///   n + skip <= 2^24 (point 0 is the origin; skip = 1 matches
///   tf.math.sobol_sample). Values carry the top 24 bits of 32-bit fractions
///   (exact below 2^24 points, truncated beyond). n + skip <= 2^32.
/// - sobol_owen: the same points, each dimension nested-uniform scrambled by a
///   hash of (seed, dimension) (Laine-Karras style); every dimension keeps the
///   (0,m,1)-net property: for skip = 0 (or a multiple of n) and n = 2^m <= 2^24,
///   each interval [k/n, (k+1)/n) holds exactly one point.
/// - halton: scipy.stats.qmc.Halton(dims, scramble=False) to float rounding
///   (the radical inverse rounded once; at most one float ulp from scipy's
///   float64 values), dims <= kHaltonMaxDimensions, n + skip <= 2^32.
/// - lhs: Latin hypercube, seeded: in each dimension exactly one point in each
///   stratum [k/n, (k+1)/n), n <= 2^24. skip is ignored (a Latin hypercube has
///   no sequence to skip into).
/// - monte_carlo: independent 24-bit uniforms, point `skip + i` of a
///   counter-based (splitmix64) stream per dimension, seeded.
/// `seed` is unused by sobol and halton. Deterministic: the same arguments give
/// bit-identical points on both backends. Throws cuxplain::Error naming the
/// argument when n < 1, dims < 1 or above the sampler's limit, skip < 0, out is
/// null (or on the wrong device), n * dims overflows, or n + skip leaves the
/// sampler's index range.
void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip = 0, std::uint64_t seed = 0);

}  // namespace cuxplain
