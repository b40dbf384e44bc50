// Sobol index estimators on the CUDA backend against the host backend: every
// estimator on both sides of the warp/block threshold (N = 1024) and of the
// chunk size (N = 8192), bitwise repeatability, the variance clamp, a known
// answer and a host pointer handed to a CUDA context.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cuda_stream.hpp"
#include "common/estimator_cases.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::EstimatorCase;
using test::host_first_order;
using test::host_total_order;
using test::kEstimators;
using test::make_outputs;
using test::Outputs;
using test::TestStream;

/// The outputs on the device and the two estimators run there.
struct DeviceOutputs {
  DeviceOutputs(const Context& ctx, const Outputs& y)
      : ctx(ctx), a(test::upload(ctx, y.a)), b(test::upload(ctx, y.b)), c(test::upload(ctx, y.c)) {}
  std::vector<float> total_order(Estimator estimator, std::int64_t nb_design,
                                 std::int64_t d) const {
    Buffer<float> st = test::poisoned(ctx, d);
    sobol_total_order(ctx, estimator, a.data(), c.data(), nb_design, d, st.data());
    return test::download(ctx, st);
  }
  std::vector<float> first_order(std::int64_t nb_design, std::int64_t d) const {
    Buffer<float> s1 = test::poisoned(ctx, d);
    sobol_first_order(ctx, a.data(), b.data(), c.data(), nb_design, d, s1.data());
    return test::download(ctx, s1);
  }
  Context ctx;
  Buffer<float> a, b, c;
};

/// Both backends sum in double, in different orders: they agree to float rounding.
void expect_close(const std::vector<float>& cuda, const std::vector<float>& host,
                  const std::string& what) {
  ASSERT_EQ(cuda.size(), host.size());
  for (std::size_t i = 0; i < cuda.size(); ++i) {
    EXPECT_NEAR(cuda[i], host[i], 1e-5 * std::max(1.0f, std::fabs(host[i])))
        << what << ", cell " << i;
  }
}

class EstimatorCudaCases : public ::testing::TestWithParam<EstimatorCase> {};

TEST_P(EstimatorCudaCases, TotalAndFirstOrderMatchHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const auto [nb_design, d, offset] = GetParam();
  const TestStream stream;
  const Outputs y = make_outputs(nb_design, d, offset, 17);
  const DeviceOutputs device(Context::cuda(stream.get()), y);
  double norm = 0.0;
  for (Estimator estimator : kEstimators) {
    const std::vector<float> st = device.total_order(estimator, nb_design, d);
    expect_close(st, host_total_order(estimator, y, nb_design, d), to_string(estimator));
    norm += test::l2_norm(st);
  }
  EXPECT_GT(norm, 0.0);
  const std::vector<float> s1 = device.first_order(nb_design, d);
  expect_close(s1, host_first_order(y, nb_design, d), "first order");
  EXPECT_GT(test::l2_norm(s1), 0.0);
}

TEST_P(EstimatorCudaCases, RepeatableBitForBit) {
  CUXPLAIN_REQUIRE_CUDA();
  const auto [nb_design, d, offset] = GetParam();
  const TestStream stream;
  const DeviceOutputs device(Context::cuda(stream.get()), make_outputs(nb_design, d, offset, 18));
  for (Estimator estimator : kEstimators) {
    const std::vector<float> first = device.total_order(estimator, nb_design, d);
    const std::vector<float> second = device.total_order(estimator, nb_design, d);
    EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)), 0)
        << to_string(estimator);
  }
  const std::vector<float> first = device.first_order(nb_design, d);
  const std::vector<float> second = device.first_order(nb_design, d);
  EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Estimators, EstimatorCudaCases,
    ::testing::Values(EstimatorCase{2, 1, 0.0f}, EstimatorCase{5, 3, 0.0f},
                      EstimatorCase{32, 64, 100.0f}, EstimatorCase{32, 4096, 0.0f},
                      EstimatorCase{33, 7, 20.0f}, EstimatorCase{1024, 9, 0.0f},
                      EstimatorCase{1025, 4, -30.0f}, EstimatorCase{8192, 2, 0.0f},
                      EstimatorCase{8193, 3, 0.0f}, EstimatorCase{1 << 14, 3, 0.0f},
                      EstimatorCase{20000, 2, 1000.0f}, EstimatorCase{1 << 18, 5, 0.0f}));

TEST(Estimators, CudaConstantOutputsGiveFiniteIndices) {
  CUXPLAIN_REQUIRE_CUDA();
  constexpr std::int64_t nb_design = 32, d = 4;
  const TestStream stream;
  const Outputs y = test::constant_outputs(nb_design, d, 0.7f);
  const DeviceOutputs device(Context::cuda(stream.get()), y);
  for (Estimator estimator : kEstimators) {
    const std::vector<float> st = device.total_order(estimator, nb_design, d);
    EXPECT_EQ(st, host_total_order(estimator, y, nb_design, d)) << to_string(estimator);
    for (float v : st) EXPECT_TRUE(std::isfinite(v)) << to_string(estimator);
  }
  for (float v : device.first_order(nb_design, d)) EXPECT_TRUE(std::isfinite(v));
}

/// y = x_0: Jansen and the first-order index are exactly 0 for cells 1.. .
TEST(Estimators, CudaUnusedInputsScoreExactlyZero) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  for (std::int64_t nb_design : {std::int64_t{256}, std::int64_t{20000}}) {
    constexpr std::int64_t d = 4;
    const DeviceOutputs device(Context::cuda(stream.get()),
                               test::first_input_outputs(nb_design, d));
    const std::vector<float> jansen = device.total_order(Estimator::jansen, nb_design, d);
    const std::vector<float> s1 = device.first_order(nb_design, d);
    EXPECT_NEAR(jansen[0], 1.0, 0.2);
    EXPECT_NEAR(s1[0], 1.0, 0.2);
    for (std::int64_t i = 1; i < d; ++i) {
      EXPECT_EQ(jansen[i], 0.0f) << "N " << nb_design << ", cell " << i;
      EXPECT_EQ(s1[i], 0.0f) << "N " << nb_design << ", cell " << i;
    }
  }
}

TEST(Estimators, CudaRejectsHostPointers) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context ctx = Context::cuda(stream.get());
  const std::vector<float> a(8, 1.0f), c(16, 2.0f);
  Buffer<float> st = test::poisoned(ctx, 2);
  test::expect_error(
      [&] { sobol_total_order(ctx, Estimator::jansen, a.data(), c.data(), 8, 2, st.data()); },
      "y_a points to host memory");
}

}  // namespace
}  // namespace cuxplain
