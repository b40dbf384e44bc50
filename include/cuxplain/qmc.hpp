#pragma once
// Quasi-Monte Carlo and random point sets for designs.
#include <cstdint>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain {

/// Dimensions available to Sampler::sobol and Sampler::sobol_owen (Joe-Kuo
/// new-joe-kuo-6.21201 direction numbers).
constexpr std::int64_t kSobolMaxDimensions = 21201;

/// Writes points [skip, skip + n) of a `dims`-dimensional point set to `out`
/// (n x dims floats, row-major, on ctx's device), each value in [0, 1).
///
/// - sobol: bit-identical to scipy.stats.qmc.Sobol(dims, scramble=False) for
///   n + skip <= 2^24 (point 0 is the origin; skip = 1 matches
///   tf.math.sobol_sample). Values carry 24 bits (exact below 2^24 points).
/// - sobol_owen: the same points, each dimension nested-uniform scrambled by a
///   hash of (seed, dimension); every dimension keeps the (0,m,1)-net property.
/// - halton: scipy.stats.qmc.Halton(dims, scramble=False), dims <= 21201.
/// - lhs: Latin hypercube over n strata per dimension (skip is ignored: a Latin
///   hypercube has no sequence to skip into), seeded.
/// - monte_carlo: independent uniforms, point `skip + i` of a counter-based
///   stream, seeded.
/// Deterministic: the same arguments give bit-identical points on both backends.
void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip = 0, std::uint64_t seed = 0);

}  // namespace cuxplain
