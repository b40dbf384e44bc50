// Samplers on the CUDA backend: bit-identical to the host backend (which the
// host tests hold to scipy and to the net and stratum properties) for the same
// arguments, on the default and on a user stream.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/qmc.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

constexpr std::int64_t kTwoPow30 = std::int64_t{1} << 30;

struct Case {
  const char* name;
  Sampler sampler;
  std::int64_t n;
  std::int64_t dims;
  std::int64_t skip;
  std::uint64_t seed;
};

/// gtest prints parameters in test listings; the name says it all.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<float> host_samples(const Case& c) {
  std::vector<float> out(static_cast<std::size_t>(c.n * c.dims), test::poison());
  generate_samples(Context::host(), c.sampler, c.n, c.dims, out.data(), c.skip, c.seed);
  return out;
}

std::vector<float> cuda_samples(const Context& ctx, const Case& c) {
  Buffer<float> out = test::poisoned(ctx, c.n * c.dims);
  generate_samples(ctx, c.sampler, c.n, c.dims, out.data(), c.skip, c.seed);
  return test::download(ctx, out);
}

/// Bitwise comparison: NaN poison left in either output counts as a mismatch.
void expect_bit_identical(const std::vector<float>& cuda, const std::vector<float>& host,
                          std::int64_t dims, const std::string& what) {
  ASSERT_EQ(cuda.size(), host.size());
  std::int64_t mismatches = 0;
  for (std::size_t k = 0; k < cuda.size(); ++k) {
    const bool same = cuda[k] == host[k];  // false for NaN
    if (!same && ++mismatches <= 5) {
      ADD_FAILURE() << what << ": point " << static_cast<std::int64_t>(k) / dims << " dim "
                    << static_cast<std::int64_t>(k) % dims << ": cuda " << cuda[k] << ", host "
                    << host[k];
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

class QmcCudaVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(QmcCudaVsHost, BitIdentical) {
  CUXPLAIN_REQUIRE_CUDA();
  const Case c = GetParam();
  const Context cuda = Context::cuda();
  const std::vector<float> host = host_samples(c);
  const std::vector<float> device = cuda_samples(cuda, c);
  expect_bit_identical(device, host, c.dims, c.name);
  EXPECT_GT(test::l2_norm(device), 0.0);
}

// The host tests' cases: scipy fixtures, nets, strata, moments.
INSTANTIATE_TEST_SUITE_P(
    Samplers, QmcCudaVsHost,
    ::testing::Values(
        Case{"sobol_d8_n1024", Sampler::sobol, 1024, 8, 0, 0},
        Case{"sobol_d8_n1024_skip1", Sampler::sobol, 1024, 8, 1, 0},
        Case{"sobol_d8_skip1000003", Sampler::sobol, 16, 8, 1000003, 0},
        Case{"sobol_d4_below_2p30", Sampler::sobol, 16, 4, kTwoPow30 - 16, 0},
        Case{"sobol_d8_beyond_2p30", Sampler::sobol, 16, 8, 3 * kTwoPow30 + 12345, 0},
        Case{"sobol_last_points", Sampler::sobol, 16, 3, (std::int64_t{1} << 32) - 16, 0},
        Case{"sobol_d4096_n64", Sampler::sobol, 64, 4096, 0, 0},
        Case{"sobol_d21201_n64", Sampler::sobol, 64, kSobolMaxDimensions, 0, 0},
        Case{"sobol_attribution_design", Sampler::sobol, 32, 128, 1, 0},
        Case{"sobol_d1_n65536", Sampler::sobol, 1 << 16, 1, 0, 0},
        Case{"owen_d21201_n256", Sampler::sobol_owen, 256, kSobolMaxDimensions, 0, 1},
        Case{"owen_d300_n4096_skip", Sampler::sobol_owen, 4096, 300, 5 * 4096, 12345678901234567},
        Case{"owen_d6_n65536", Sampler::sobol_owen, 1 << 16, 6, 0, 0},
        Case{"halton_d8_n256", Sampler::halton, 256, 8, 0, 0},
        Case{"halton_d8_skip3", Sampler::halton, 257, 8, 3, 0},
        Case{"halton_d8_skip1000000007", Sampler::halton, 8, 8, 1000000007, 0},
        Case{"halton_d21201_n16", Sampler::halton, 16, kHaltonMaxDimensions, 0, 0},
        Case{"halton_last_index", Sampler::halton, 1, 2, (std::int64_t{1} << 32) - 1, 0},
        Case{"lhs_n1", Sampler::lhs, 1, 9, 0, 0},
        Case{"lhs_n7", Sampler::lhs, 7, 9, 0, 42},
        Case{"lhs_n4099", Sampler::lhs, 4099, 9, 0, 42},
        Case{"lhs_n2p21p3", Sampler::lhs, (1 << 21) + 3, 1, 0, 3},
        Case{"lhs_n2p24", Sampler::lhs, 1 << 24, 1, 0, 4},
        Case{"mc_n65536", Sampler::monte_carlo, 1 << 16, 4, 0, 2024},
        Case{"mc_skip", Sampler::monte_carlo, 300, 5, 37, 11},
        Case{"mc_far", Sampler::monte_carlo, 100, 3, std::int64_t{1} << 40, 5}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(QmcCuda, OwenScrambledDimensionsAreNets) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  const std::int64_t n = 1024, dims = 2048;
  const std::vector<float> x = cuda_samples(cuda, {"owen", Sampler::sobol_owen, n, dims, 0, 99});
  std::int64_t bad_dims = 0;
  std::vector<int> count(static_cast<std::size_t>(n));
  for (std::int64_t d = 0; d < dims; ++d) {
    std::fill(count.begin(), count.end(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      const double v = x[static_cast<std::size_t>(i * dims + d)];
      const auto k = static_cast<std::int64_t>(std::floor(v * n));
      if (k >= 0 && k < n) ++count[static_cast<std::size_t>(k)];
    }
    for (int c : count) {
      if (c != 1) {
        ++bad_dims;
        break;
      }
    }
  }
  EXPECT_EQ(bad_dims, 0);
}

TEST(QmcCuda, RunsOnTheContextStream) {
  CUXPLAIN_REQUIRE_CUDA();
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  {
    const Context cuda = Context::cuda(stream);
    for (const Sampler sampler : {Sampler::sobol, Sampler::sobol_owen, Sampler::halton,
                                  Sampler::lhs, Sampler::monte_carlo}) {
      const Case c{"stream", sampler, 4096, 2048, 1, 7};
      expect_bit_identical(cuda_samples(cuda, c), host_samples(c), c.dims, to_string(sampler));
    }
  }
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(QmcCuda, BadArgumentsThrowNamingTheArgument) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  Buffer<float> out = test::poisoned(cuda, 64);
  std::vector<float> host_memory(64);
  const auto message = [&](Sampler sampler, std::int64_t n, std::int64_t dims, float* p,
                           std::int64_t skip) {
    return test::error_message([&] { generate_samples(cuda, sampler, n, dims, p, skip, 0); });
  };
  test::expect_mentions(message(Sampler::sobol, 0, 2, out.data(), 0), "n must be >= 1");
  test::expect_mentions(message(Sampler::sobol, 4, kSobolMaxDimensions + 1, out.data(), 0), "dims");
  test::expect_mentions(message(Sampler::halton, 4, 2, out.data(), -1), "skip");
  test::expect_mentions(message(Sampler::lhs, 4, 2, nullptr, 0), "out");
  test::expect_mentions(message(Sampler::monte_carlo, 4, 2, host_memory.data(), 0), "out");
  const std::vector<float> untouched = test::download(cuda, out);
  EXPECT_TRUE(std::isnan(untouched[0]));
}

}  // namespace
}  // namespace cuxplain
