// Samplers on the host: rows of points in parallel chunks. Sobol rows follow
// the Gray-code recurrence (one XOR per value) from a directly computed first
// row per chunk; XOR is exact, so the values equal the CUDA backend's direct
// evaluation bit for bit.
#include "../qmc.hpp"

#include <algorithm>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/detail/qmc.hpp>

namespace cuxplain::kernels::cpu {
namespace {

const std::uint32_t kSobolTable[] = {
#include "../sobol_joe_kuo_table.inc"
};

const std::uint32_t kHaltonPrimes[] = {
#include "../halton_primes.inc"
};

// Below this many values starting threads costs more than the work.
constexpr std::int64_t kParallelMinValues = std::int64_t{1} << 14;

// Rows per Sobol chunk: the first row costs up to 32 XORs per value, the rest one.
constexpr std::int64_t kSobolChunkRows = 256;

void sobol(const Context& ctx, std::int64_t n, std::int64_t dims, float* out, std::int64_t skip,
           bool scrambled, std::uint64_t seed) {
  // Bit-major direction vectors, directions[b * dims + d], as many as the
  // largest point index uses.
  const int bits = detail::sobol_bits_needed(skip + n);
  Buffer<std::uint32_t> directions(ctx, bits * dims);
  std::uint32_t* v = directions.data();
#pragma omp parallel for schedule(static) if (dims >= 256)
  for (std::int64_t d = 0; d < dims; ++d) {
    detail::sobol_direction_vectors(kSobolTable, d, bits, v + d, dims);
  }
  Buffer<std::uint32_t> owen_seeds(ctx, scrambled ? dims : 0);
  for (std::int64_t d = 0; d < owen_seeds.size(); ++d) {
    owen_seeds.data()[d] = detail::owen_dimension_seed(seed, d);
  }
  const std::uint32_t* seeds = owen_seeds.data();

  const std::int64_t chunks = (n + kSobolChunkRows - 1) / kSobolChunkRows;
#pragma omp parallel if (n * dims >= kParallelMinValues)
  {
    std::vector<std::uint32_t> row(static_cast<std::size_t>(dims));
#pragma omp for schedule(static)
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t first = chunk * kSobolChunkRows;
      const std::int64_t last = std::min(n, first + kSobolChunkRows);
      for (std::int64_t i = first; i < last; ++i) {
        // skip + n <= 2^32 (validated): j is the point index.
        const auto j = static_cast<std::uint32_t>(skip + i);
        if (i == first) {
          for (std::int64_t d = 0; d < dims; ++d) row[d] = detail::sobol_fraction(v, dims, d, j);
        } else {
          const std::uint32_t* step = v + detail::sobol_step_bit(j) * dims;
          for (std::int64_t d = 0; d < dims; ++d) row[d] ^= step[d];
        }
        float* out_row = out + i * dims;
        if (scrambled) {
          for (std::int64_t d = 0; d < dims; ++d) {
            out_row[d] = detail::fraction_to_float(detail::owen_scramble(row[d], seeds[d]));
          }
        } else {
          for (std::int64_t d = 0; d < dims; ++d) out_row[d] = detail::fraction_to_float(row[d]);
        }
      }
    }
  }
}

void halton(std::int64_t n, std::int64_t dims, float* out, std::int64_t skip) {
#pragma omp parallel for schedule(static) if (n * dims >= kParallelMinValues)
  for (std::int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<std::uint32_t>(skip + i);
    for (std::int64_t d = 0; d < dims; ++d) {
      out[i * dims + d] = detail::halton_value(index, kHaltonPrimes[d]);
    }
  }
}

void lhs(std::int64_t n, std::int64_t dims, float* out, std::uint64_t seed) {
  std::vector<std::uint32_t> permutation_seeds(static_cast<std::size_t>(dims));
  std::vector<std::uint64_t> jitter_keys(static_cast<std::size_t>(dims));
  for (std::int64_t d = 0; d < dims; ++d) {
    permutation_seeds[d] = detail::lhs_permutation_seed(seed, d);
    jitter_keys[d] = detail::lhs_jitter_key(seed, d);
  }
#pragma omp parallel for schedule(static) if (n * dims >= kParallelMinValues)
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t d = 0; d < dims; ++d) {
      out[i * dims + d] = detail::lhs_value(permutation_seeds[d], jitter_keys[d], i, n);
    }
  }
}

void monte_carlo(std::int64_t n, std::int64_t dims, float* out, std::int64_t skip,
                 std::uint64_t seed) {
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(dims));
  for (std::int64_t d = 0; d < dims; ++d) keys[d] = detail::monte_carlo_key(seed, d);
#pragma omp parallel for schedule(static) if (n * dims >= kParallelMinValues)
  for (std::int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<std::uint64_t>(skip + i);
    for (std::int64_t d = 0; d < dims; ++d) {
      out[i * dims + d] = detail::monte_carlo_value(keys[d], index);
    }
  }
}

}  // namespace

void generate_samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                      float* out, std::int64_t skip, std::uint64_t seed) {
  switch (sampler) {
    case Sampler::sobol: return sobol(ctx, n, dims, out, skip, false, seed);
    case Sampler::sobol_owen: return sobol(ctx, n, dims, out, skip, true, seed);
    case Sampler::halton: return halton(n, dims, out, skip);
    case Sampler::lhs: return lhs(n, dims, out, seed);
    case Sampler::monte_carlo: return monte_carlo(n, dims, out, skip, seed);
  }
}

}  // namespace cuxplain::kernels::cpu
