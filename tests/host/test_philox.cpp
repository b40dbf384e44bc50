// Philox4x32-10 against Random123's published known-answer vectors, and the
// layout of cuRAND's Philox stream as detail/philox.hpp reads it (the
// comparison with cuRAND itself is tests/curand/, built with the toolkit).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include <cuxplain/detail/philox.hpp>

namespace cuxplain {
namespace {

using detail::Philox4x32;

void expect_equal(Philox4x32 got, Philox4x32 want) {
  EXPECT_EQ(got.x, want.x);
  EXPECT_EQ(got.y, want.y);
  EXPECT_EQ(got.z, want.z);
  EXPECT_EQ(got.w, want.w);
}

TEST(Philox, Random123KnownAnswers) {
  // kat_vectors of Random123 1.09, philox4x32 with 10 rounds.
  expect_equal(detail::philox4x32_10({0, 0, 0, 0}, 0),
               {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  expect_equal(detail::philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                     0xffffffffffffffffull),
               {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  expect_equal(detail::philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                                     0x299f31d0a4093822ull),
               {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST(Philox, StreamInterleavesSubsequencesFourOutputsAtATime) {
  const std::uint64_t seed = 1234567890123ull;
  // Outputs 0..3: counter 0 of subsequence 0; 4..7: counter 0 of
  // subsequence 1; 4 * 65536: counter 1 of subsequence 0.
  const Philox4x32 first = detail::philox4x32_10({0, 0, 0, 0}, seed);
  EXPECT_EQ(detail::curand_philox_bits(seed, 0), first.x);
  EXPECT_EQ(detail::curand_philox_bits(seed, 3), first.w);
  const Philox4x32 second_subsequence = detail::philox4x32_10({0, 0, 1, 0}, seed);
  EXPECT_EQ(detail::curand_philox_bits(seed, 4), second_subsequence.x);
  EXPECT_EQ(detail::curand_philox_bits(seed, 6), second_subsequence.z);
  const Philox4x32 next_counter = detail::philox4x32_10({1, 0, 0, 0}, seed);
  EXPECT_EQ(detail::curand_philox_bits(seed, 4 * 65536 + 1), next_counter.y);
  // The counter's high word is used past 2^32 counters.
  const std::uint64_t far = (std::uint64_t{1} << 32) * 4 * 65536 + 4 * 7 + 2;
  EXPECT_EQ(detail::curand_philox_bits(seed, far), detail::philox4x32_10({0, 1, 7, 0}, seed).z);
}

TEST(Philox, UniformsLieInZeroOneAndCoverIt) {
  EXPECT_EQ(detail::curand_uniform_of(0u), 1.1641532182693481e-10f);  // 2^-33
  EXPECT_EQ(detail::curand_uniform_of(0xffffffffu), 1.0f);            // rounds up to 1
  double sum = 0.0;
  const int count = 100000;
  for (int i = 0; i < count; ++i) {
    const float u = detail::curand_philox_uniform(7, static_cast<std::uint64_t>(i));
    ASSERT_GT(u, 0.0f);
    ASSERT_LE(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / count, 0.5, 0.005);  // 5 standard errors (1/sqrt(12 n) = 0.0009)
}

TEST(Philox, UniformBelowIsExactAndCoversTheRange) {
  EXPECT_EQ(detail::uniform_below(0u, 5), 0u);
  EXPECT_EQ(detail::uniform_below(0xffffffffu, 5), 4u);
  EXPECT_EQ(detail::uniform_below(0x80000000u, 4), 2u);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v =
        detail::uniform_below(detail::curand_philox_bits(3, static_cast<std::uint64_t>(i)), 5);
    ASSERT_LT(v, 5u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
}  // namespace cuxplain
