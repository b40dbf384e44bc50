#pragma once
// Counter-based random numbers for the random masks of the metrics and the
// baselines (RISE, MuFidelity, KernelSHAP, stability noise): Philox4x32-10
// (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
// read as cuRAND's CURAND_RNG_PSEUDO_PHILOX4_32_10 generator lays it out.
//
// Why written here rather than called from cuRAND: the host backend must
// build and run without the CUDA toolkit (libcurand is part of it), and a
// counter-based generator written once as CUXPLAIN_HD code gives both
// backends the same numbers with random access (element i of the stream is
// a pure function of (seed, i): no generator state, any batch order).
// tests/curand/test_curand_philox.cpp checks, where the toolkit is present,
// that these are cuRAND's numbers bit for bit: the host generator
// (curandCreateGeneratorHost) for every ordering and offset, the device
// API's curand_init / curand, and its uniform floats; the gpu tests compare
// with the device generator (curandCreateGenerator).
#include <cstdint>

#include "hd.hpp"

namespace cuxplain::detail {

struct Philox4x32 {
  std::uint32_t x, y, z, w;
};

CUXPLAIN_HD std::uint32_t philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t* hi) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  *hi = static_cast<std::uint32_t>(product >> 32);
  return static_cast<std::uint32_t>(product);
}

/// One Philox round (the multipliers and the output permutation of the
/// Random123 reference and cuRAND).
CUXPLAIN_HD Philox4x32 philox_round(Philox4x32 c, std::uint32_t k0, std::uint32_t k1) {
  std::uint32_t hi0, hi1;
  const std::uint32_t lo0 = philox_mulhilo(0xD2511F53u, c.x, &hi0);
  const std::uint32_t lo1 = philox_mulhilo(0xCD9E8D57u, c.z, &hi1);
  return {hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
}

/// Philox4x32-10 of a 128-bit counter under a 64-bit key (the Weyl key
/// schedule 0x9E3779B9, 0xBB67AE85).
CUXPLAIN_HD Philox4x32 philox4x32_10(Philox4x32 counter, std::uint64_t key) {
  std::uint32_t k0 = static_cast<std::uint32_t>(key);
  std::uint32_t k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 9; ++round) {
    counter = philox_round(counter, k0, k1);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return philox_round(counter, k0, k1);
}

/// Subsequences cuRAND's Philox generator interleaves, four outputs each.
constexpr std::uint64_t kCurandPhiloxSubsequences = 65536;

/// Output `index` of cuRAND's Philox4_32_10 generator seeded with `seed`
/// (curandSetPseudoRandomGeneratorSeed(seed), curandSetGeneratorOffset(index),
/// then curandGenerate of one value). The generator interleaves 65536
/// subsequences four outputs at a time: index i reads word i % 4 of block
/// b = i / 4, which is counter b / 65536 of subsequence b % 65536, i.e.
/// the device API's curand_init(seed, b % 65536, 4 * (b / 65536) + i % 4).
CUXPLAIN_HD std::uint32_t curand_philox_bits(std::uint64_t seed, std::uint64_t index) {
  const std::uint64_t block = index >> 2;
  const std::uint64_t counter = block / kCurandPhiloxSubsequences;
  const std::uint64_t subsequence = block % kCurandPhiloxSubsequences;
  const Philox4x32 out = philox4x32_10({static_cast<std::uint32_t>(counter),
                                        static_cast<std::uint32_t>(counter >> 32),
                                        static_cast<std::uint32_t>(subsequence), 0u},
                                       seed);
  switch (index & 3) {
    case 0: return out.x;
    case 1: return out.y;
    case 2: return out.z;
    default: return out.w;
  }
}

/// cuRAND's uniform float of 32 random bits, in (0, 1]:
/// bits * 2^-32 + 2^-33. The product is exact (a power-of-two scaling of a
/// 24-bit float), so fused or not the sum rounds once, to the same float on
/// both backends.
CUXPLAIN_HD float curand_uniform_of(std::uint32_t bits) {
  constexpr float kTwoPowMinus32 = 2.3283064365386963e-10f;
  return static_cast<float>(bits) * kTwoPowMinus32 + kTwoPowMinus32 / 2.0f;
}

/// curandGenerateUniform's value at stream position `index`.
CUXPLAIN_HD float curand_philox_uniform(std::uint64_t seed, std::uint64_t index) {
  return curand_uniform_of(curand_philox_bits(seed, index));
}

/// An integer in [0, range) from 32 random bits (floor(bits * range / 2^32),
/// exact in 64-bit integers; range <= 2^32).
CUXPLAIN_HD std::uint64_t uniform_below(std::uint32_t bits, std::uint64_t range) {
  return (static_cast<std::uint64_t>(bits) * range) >> 32;
}

/// Where each purpose reads the stream of one seed: regions 2^56 outputs
/// apart, so that masks, shifts and subset sizes never share numbers.
constexpr std::uint64_t kRandomRegion = std::uint64_t{1} << 56;
constexpr std::uint64_t kRegionMasks = 0;
constexpr std::uint64_t kRegionShifts = 1 * kRandomRegion;
constexpr std::uint64_t kRegionSubsetSizes = 2 * kRandomRegion;
constexpr std::uint64_t kRegionNoise = 3 * kRandomRegion;

}  // namespace cuxplain::detail
