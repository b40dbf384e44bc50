#pragma once
// Per-point math of the samplers (cuxplain::generate_samples): Sobol direction
// vectors and points, hash-based Owen scrambling, Halton radical inverses,
// Latin hypercube strata and counter-based uniforms. Integer arithmetic and
// correctly rounded IEEE operations only, so that both backends produce
// bit-identical values.
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

/// Bits of a Sobol direction vector: points are 32-bit fractions.
constexpr int kSobolBits = 32;

/// Largest float below 1 (0x3f7fffff).
constexpr float kBelowOne = 0.999999940395355224609375f;

// ---------------------------------------------------------------------------
// Walking the output

/// Position in a row-major block with `cols` columns, advanced by a fixed
/// stride (a CUDA grid-stride loop) without a 64-bit division per step.
struct RowMajorCursor {
  std::int64_t index, row, col;
  std::int64_t stride, stride_rows, stride_cols, cols;

  CUXPLAIN_HD RowMajorCursor(std::int64_t start, std::int64_t step, std::int64_t columns)
      : index(start), row(start / columns), col(start % columns), stride(step),
        stride_rows(step / columns), stride_cols(step % columns), cols(columns) {}

  CUXPLAIN_HD void advance() {
    index += stride;
    row += stride_rows;
    col += stride_cols;
    if (col >= cols) {  // col < 2 * cols: one carry at most
      col -= cols;
      ++row;
    }
  }
};

// ---------------------------------------------------------------------------
// Bit manipulation and float conversion

CUXPLAIN_HD std::uint32_t reverse_bits(std::uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __brev(x);
#else
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_bswap32(x);
#else
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
#endif
#endif
}

/// The 32-bit fraction x / 2^32 truncated to its top 24 bits: exactly
/// representable, and always < 1 (rounding to nearest could give 1.0f).
CUXPLAIN_HD float fraction_to_float(std::uint32_t x) {
  return static_cast<float>(x >> 8) * 5.9604644775390625e-08f;  // 2^-24
}

CUXPLAIN_HD std::uint32_t float_to_bits(float value) {
  union {
    float f;
    std::uint32_t u;
  } bits{value};
  return bits.u;
}

CUXPLAIN_HD float bits_to_float(std::uint32_t value) {
  union {
    std::uint32_t u;
    float f;
  } bits{value};
  return bits.f;
}

// ---------------------------------------------------------------------------
// Counter-based random streams (splitmix64)

constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;

/// Salts that keep the streams of different samplers and purposes apart for
/// the same user seed.
constexpr std::uint64_t kOwenSalt = 0x6a09e667f3bcc908ull;
constexpr std::uint64_t kLhsPermutationSalt = 0xbb67ae8584caa73bull;
constexpr std::uint64_t kLhsJitterSalt = 0x3c6ef372fe94f82bull;
constexpr std::uint64_t kMonteCarloSalt = 0xa54ff53a5f1d36f1ull;

/// splitmix64's output function (Stafford's mix13): a bijective 64-bit mixer.
CUXPLAIN_HD std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// State of the random stream of one dimension, for one purpose (salt) of one seed.
CUXPLAIN_HD std::uint64_t stream_key(std::uint64_t seed, std::uint64_t salt, std::uint64_t dim) {
  return mix64(mix64(seed ^ salt) ^ (dim * kGoldenGamma));
}

/// Element `index` of the splitmix64 sequence that starts at state `key`:
/// random access into a well-tested generator.
CUXPLAIN_HD std::uint64_t stream_bits(std::uint64_t key, std::uint64_t index) {
  return mix64(key + (index + 1) * kGoldenGamma);
}

/// 24-bit uniform in [0, 1) from the high bits of a 64-bit hash.
CUXPLAIN_HD float bits_to_unit_float(std::uint64_t bits) {
  return fraction_to_float(static_cast<std::uint32_t>(bits >> 32));
}

// ---------------------------------------------------------------------------
// Sobol

/// The first `count` (<= 32) direction vectors V[b] = m_(b+1) * 2^(31-b) of
/// Sobol dimension `dim`, from the Joe-Kuo table in
/// kernels/sobol_joe_kuo_table.inc (layout written there and in
/// tools/make_sobol_table.py). m_k for k > s follows Bratley and Fox's
/// recurrence, as scipy's _initialize_v:
///   m_k = 2 a_1 m_(k-1) ^ 4 a_2 m_(k-2) ^ ... ^ 2^(s-1) a_(s-1) m_(k-s+1)
///         ^ 2^s m_(k-s) ^ m_(k-s).
/// scipy keeps 30 bits (its V30[b] = V[b] >> 2 for b < 30); the two extra
/// vectors extend the sequence to 2^32 points. Points below 2^c need only
/// the first c vectors. V[b] is written to v[b * stride]; the recurrence
/// reads its earlier entries back from there (a local array indexed by k - t
/// would live in a CUDA thread's local memory).
CUXPLAIN_HD void sobol_direction_vectors(const std::uint32_t* table, std::int64_t dim, int count,
                                         std::uint32_t* out, std::int64_t stride = 1) {
  const auto v = [out, stride](std::uint32_t k) -> std::uint32_t& { return out[k * stride]; };
  if (dim == 0) {  // van der Corput: every m_k = 1
    for (int b = 0; b < count; ++b) v(static_cast<std::uint32_t>(b)) = 1u << (kSobolBits - 1 - b);
    return;
  }
  // Header: table[0] = G degree groups, then (first dimension, first word) per
  // degree 1..G+1. Records of one degree have the same length s + 2.
  const std::uint32_t groups = table[0];
  std::uint32_t s = 1;
  while (s < groups && static_cast<std::uint32_t>(dim) >= table[1 + 2 * s]) ++s;
  const std::uint32_t first_dim = table[1 + 2 * (s - 1)];
  const std::uint32_t first_word = table[2 + 2 * (s - 1)];
  const std::uint32_t* record =
      table + first_word + (static_cast<std::uint32_t>(dim) - first_dim) * (s + 2);
  const std::uint32_t a = record[1];  // record[0] is s
  const auto bits = static_cast<std::uint32_t>(count);
  for (std::uint32_t k = 0; k < s && k < bits; ++k) v(k) = record[2 + k];
  // m_k < 2^k, so every term fits 32 bits up to k = 32.
  for (std::uint32_t k = s; k < bits; ++k) {
    std::uint32_t m = v(k - s) ^ (v(k - s) << s);
    for (std::uint32_t t = 1; t < s; ++t) {
      if ((a >> (s - 1 - t)) & 1u) m ^= v(k - t) << t;
    }
    v(k) = m;
  }
  for (int b = 0; b < count; ++b) v(static_cast<std::uint32_t>(b)) <<= (kSobolBits - 1 - b);
}

/// Direction vectors that points [0, end) use: the bit length of end - 1
/// (at least 1). end <= 2^32.
CUXPLAIN_HD int sobol_bits_needed(std::int64_t end) {
  int bits = 1;
  while (bits < kSobolBits && (std::int64_t{1} << bits) < end) ++bits;
  return bits;
}

/// Point j of a Sobol dimension as a 32-bit fraction: the XOR of the direction
/// vectors selected by the bits of j's Gray code (j ^ (j >> 1)), the order in
/// which scipy and Joe-Kuo enumerate points. `directions` is bit-major:
/// directions[b * dims + d] holds V[b] of dimension d, for every b below the
/// bit length of j.
CUXPLAIN_HD std::uint32_t sobol_fraction(const std::uint32_t* directions, std::int64_t dims,
                                         std::int64_t d, std::uint32_t j) {
  std::uint32_t gray = j ^ (j >> 1);
  std::uint32_t x = 0;
  for (std::int64_t b = 0; gray != 0; ++b, gray >>= 1) {
    if (gray & 1u) x ^= directions[b * dims + d];
  }
  return x;
}

/// Index of the direction vector that turns point j-1 into point j (j >= 1):
/// Gray codes of consecutive integers differ in bit ctz(j).
CUXPLAIN_HD int sobol_step_bit(std::uint32_t j) {
#if defined(__CUDA_ARCH__)
  return __ffs(static_cast<int>(j)) - 1;
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_ctz(j);
#else
  int b = 0;
  while (((j >> b) & 1u) == 0) ++b;
  return b;
#endif
}

/// Laine and Karras' permutation with the constants of Vegard's "Building a
/// better LK hash" (2021). Each step (xor with an even multiple, add, multiply
/// by an odd number) changes bit k by a function of the bits below k only, so
/// in the bit-reversed domain it is a nested uniform (Owen) scramble.
CUXPLAIN_HD std::uint32_t laine_karras_permutation(std::uint32_t x, std::uint32_t seed) {
  x ^= x * 0x3d20adeau;
  x += seed;
  x *= (seed >> 16) | 1u;
  x ^= x * 0x05526c56u;
  x ^= x * 0x53a22864u;
  return x;
}

/// Owen scrambling of a 32-bit fraction: every bit is flipped by a hash of the
/// bits above it, which keeps each dimension a (0,m,1)-net.
CUXPLAIN_HD std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t seed) {
  return reverse_bits(laine_karras_permutation(reverse_bits(x), seed));
}

/// Per-dimension scrambling seed of Sampler::sobol_owen.
CUXPLAIN_HD std::uint32_t owen_dimension_seed(std::uint64_t seed, std::int64_t dim) {
  return static_cast<std::uint32_t>(
      stream_key(seed, kOwenSalt, static_cast<std::uint64_t>(dim)) >> 32);
}

// ---------------------------------------------------------------------------
// Halton

/// Radical inverse of `index` in `base` (point `index` of scipy's unscrambled
/// Halton dimension with that base). Computed exactly as R / base^K (R the
/// digit-reversed integer, K the digit count; base^K <= base * index < 2^50 for
/// 32-bit indices and bases below 2^18, exact in double), then rounded once to
/// double and once to float; capped below 1 where float rounding would reach it.
CUXPLAIN_HD float halton_value(std::uint32_t index, std::uint32_t base) {
  std::uint64_t reversed = 0;
  std::uint64_t scale = 1;
  for (std::uint32_t q = index; q != 0;) {
    const std::uint32_t next = q / base;
    reversed = reversed * base + (q - next * base);
    scale *= base;
    q = next;
  }
  const float value =
      static_cast<float>(static_cast<double>(reversed) / static_cast<double>(scale));
  return value < kBelowOne ? value : kBelowOne;
}

// ---------------------------------------------------------------------------
// Latin hypercube

/// Element i of a pseudo-random permutation of [0, l), selected by p: Kensler's
/// hash from "Correlated Multi-Jittered Sampling" (2013), a bijection on the
/// smallest power-of-two range covering l, with cycle walking back into [0, l)
/// (expected < 2 rounds). The final rotation adds in 64 bits: the original
/// 32-bit sum wraps for large p and then is no longer a permutation.
CUXPLAIN_HD std::uint32_t kensler_permute(std::uint32_t i, std::uint32_t l, std::uint32_t p) {
  std::uint32_t w = l - 1;
  w |= w >> 1;
  w |= w >> 2;
  w |= w >> 4;
  w |= w >> 8;
  w |= w >> 16;
  do {
    i ^= p;
    i *= 0xe170893du;
    i ^= p >> 16;
    i ^= (i & w) >> 4;
    i ^= p >> 8;
    i *= 0x0929eb3fu;
    i ^= p >> 23;
    i ^= (i & w) >> 1;
    i *= 1u | p >> 27;
    i *= 0x6935fa69u;
    i ^= (i & w) >> 11;
    i *= 0x74dcb303u;
    i ^= (i & w) >> 2;
    i *= 0x9e501cc3u;
    i ^= (i & w) >> 2;
    i *= 0xc860a3dfu;
    i &= w;
    i ^= i >> 5;
  } while (i >= l);
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(i) + p) % l);
}

/// Largest n for Sampler::lhs: a float in [0, 1) must fall in every stratum
/// [k/n, (k+1)/n), which needs strata at least 2^-24 wide.
constexpr std::int64_t kLhsMaxPoints = std::int64_t{1} << 24;

/// Selects the permutation of strata of dimension dim.
CUXPLAIN_HD std::uint32_t lhs_permutation_seed(std::uint64_t seed, std::int64_t dim) {
  return static_cast<std::uint32_t>(
      stream_key(seed, kLhsPermutationSalt, static_cast<std::uint64_t>(dim)) >> 32);
}

/// Stream of the positions inside the strata of dimension dim.
CUXPLAIN_HD std::uint64_t lhs_jitter_key(std::uint64_t seed, std::int64_t dim) {
  return stream_key(seed, kLhsJitterSalt, static_cast<std::uint64_t>(dim));
}

/// Coordinate of point i of an n-point Latin hypercube (n <= kLhsMaxPoints) in
/// the dimension with these permutation seed and jitter key: (stratum + u) / n
/// with u a 24-bit uniform, rounded to float and nudged by one ulp where
/// rounding left the stratum. For n <= 2^24, f * n is exact in double and a
/// stratum is at least one float ulp wide, so one step suffices.
CUXPLAIN_HD float lhs_value(std::uint32_t permutation_seed, std::uint64_t jitter_key,
                            std::int64_t i, std::int64_t n) {
  const std::uint32_t stratum = kensler_permute(static_cast<std::uint32_t>(i),
                                                static_cast<std::uint32_t>(n), permutation_seed);
  const double jitter =
      static_cast<double>(stream_bits(jitter_key, static_cast<std::uint64_t>(i)) >> 40) *
      5.9604644775390625e-08;  // 24 bits, 2^-24
  const double count = static_cast<double>(n);
  float value = static_cast<float>((static_cast<double>(stratum) + jitter) / count);
  if (static_cast<double>(value) * count >= static_cast<double>(stratum) + 1.0) {
    value = bits_to_float(float_to_bits(value) - 1u);  // value > 0 here
  } else if (static_cast<double>(value) * count < static_cast<double>(stratum)) {
    value = bits_to_float(float_to_bits(value) + 1u);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Monte Carlo

/// Stream of dimension dim of Sampler::monte_carlo.
CUXPLAIN_HD std::uint64_t monte_carlo_key(std::uint64_t seed, std::int64_t dim) {
  return stream_key(seed, kMonteCarloSalt, static_cast<std::uint64_t>(dim));
}

/// Coordinate of point `index` of Sampler::monte_carlo in the dimension with this key.
CUXPLAIN_HD float monte_carlo_value(std::uint64_t key, std::uint64_t index) {
  return bits_to_unit_float(stream_bits(key, index));
}

}  // namespace cuxplain::detail
