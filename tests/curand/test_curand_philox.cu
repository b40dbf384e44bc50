// detail/philox.hpp against cuRAND itself, on the host (no GPU needed; built
// with the CUDA toolkit): the host generator curandCreateGeneratorHost for
// every ordering, seed and offset, its uniform floats, and the device API's
// curand_init / curand compiled for the host. The device generator
// (curandCreateGenerator) is compared in tests/cuda/test_metrics_cuda.cpp.
#include <gtest/gtest.h>

#include <curand.h>

// The device API's Philox functions are __device__ only; compiled as
// __host__ __device__ they run here, through their host code paths.
#define QUALIFIERS static inline __host__ __device__
#include <curand_kernel.h>

#include <cstdint>
#include <vector>

#include <cuxplain/detail/philox.hpp>

namespace cuxplain {
namespace {

class HostGenerator {
 public:
  explicit HostGenerator(curandOrdering_t ordering) {
    EXPECT_EQ(curandCreateGeneratorHost(&generator_, CURAND_RNG_PSEUDO_PHILOX4_32_10),
              CURAND_STATUS_SUCCESS);
    EXPECT_EQ(curandSetGeneratorOrdering(generator_, ordering), CURAND_STATUS_SUCCESS);
  }
  ~HostGenerator() { curandDestroyGenerator(generator_); }
  std::vector<unsigned int> bits(std::uint64_t seed, std::uint64_t offset, std::size_t count) {
    std::vector<unsigned int> out(count);
    EXPECT_EQ(curandSetPseudoRandomGeneratorSeed(generator_, seed), CURAND_STATUS_SUCCESS);
    EXPECT_EQ(curandSetGeneratorOffset(generator_, offset), CURAND_STATUS_SUCCESS);
    EXPECT_EQ(curandGenerate(generator_, out.data(), count), CURAND_STATUS_SUCCESS);
    return out;
  }
  std::vector<float> uniforms(std::uint64_t seed, std::uint64_t offset, std::size_t count) {
    std::vector<float> out(count);
    EXPECT_EQ(curandSetPseudoRandomGeneratorSeed(generator_, seed), CURAND_STATUS_SUCCESS);
    EXPECT_EQ(curandSetGeneratorOffset(generator_, offset), CURAND_STATUS_SUCCESS);
    EXPECT_EQ(curandGenerateUniform(generator_, out.data(), count), CURAND_STATUS_SUCCESS);
    return out;
  }

 private:
  curandGenerator_t generator_ = nullptr;
};

TEST(CurandPhilox, HostGeneratorGivesTheSameBitsForEveryOrderingSeedAndOffset) {
  for (const curandOrdering_t ordering :
       {CURAND_ORDERING_PSEUDO_DEFAULT, CURAND_ORDERING_PSEUDO_LEGACY,
        CURAND_ORDERING_PSEUDO_BEST}) {
    HostGenerator generator(ordering);
    for (const std::uint64_t seed : {0ull, 42ull, 0xfedcba9876543210ull}) {
      for (const std::uint64_t offset :
           {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{3}, std::uint64_t{12345},
            detail::kRegionShifts + 7, (std::uint64_t{1} << 40) + 5}) {
        // Past 4 * 65536 outputs the counter moves on; 300000 covers it.
        const std::size_t count = offset == 0 ? 300000 : 1000;
        const std::vector<unsigned int> want = generator.bits(seed, offset, count);
        for (std::size_t i = 0; i < count; ++i) {
          ASSERT_EQ(detail::curand_philox_bits(seed, offset + i), want[i])
              << "ordering " << ordering << " seed " << seed << " offset " << offset << " + " << i;
        }
      }
    }
  }
}

TEST(CurandPhilox, UniformFloatsAreCurandGenerateUniforms) {
  HostGenerator generator(CURAND_ORDERING_PSEUDO_DEFAULT);
  for (const std::uint64_t seed : {0ull, 77ull}) {
    const std::uint64_t offset = detail::kRegionNoise + 11;
    const std::vector<float> want = generator.uniforms(seed, offset, 100000);
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(detail::curand_philox_uniform(seed, offset + i), want[i]) << i;
    }
  }
}

TEST(CurandPhilox, DeviceApiStreamsAreTheGeneratorsSubsequences) {
  // curand_init(seed, subsequence, offset) then curand(): output
  // 4 * (65536 * counter + subsequence) + word of the generator's stream.
  for (const std::uint64_t seed : {3ull, 0x123456789abcdefull}) {
    for (const std::uint64_t subsequence : {0ull, 1ull, 777ull, 65535ull}) {
      for (const std::uint64_t offset : {0ull, 2ull, 4ull, 1001ull}) {
        curandStatePhilox4_32_10_t state;
        curand_init(seed, subsequence, offset, &state);
        for (std::uint64_t j = 0; j < 64; ++j) {
          const std::uint64_t at = offset + j;
          const std::uint64_t index =
              4 * (detail::kCurandPhiloxSubsequences * (at / 4) + subsequence) + at % 4;
          ASSERT_EQ(curand(&state), detail::curand_philox_bits(seed, index))
              << seed << " " << subsequence << " " << offset << " " << j;
        }
      }
    }
  }
  // And the counter function itself.
  const uint4 counter = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
  const uint2 key = {0xa4093822u, 0x299f31d0u};
  const uint4 theirs = curand_Philox4x32_10(counter, key);
  const detail::Philox4x32 ours =
      detail::philox4x32_10({counter.x, counter.y, counter.z, counter.w}, 0x299f31d0a4093822ull);
  EXPECT_EQ(theirs.x, ours.x);
  EXPECT_EQ(theirs.y, ours.y);
  EXPECT_EQ(theirs.z, ours.z);
  EXPECT_EQ(theirs.w, ours.w);
}

}  // namespace
}  // namespace cuxplain
