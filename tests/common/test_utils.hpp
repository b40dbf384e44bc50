#pragma once
// Helpers shared by the test programs: seeded random data, poisoned outputs,
// device round trips, error-message checks and the visible skip of CUDA tests
// without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>

namespace cuxplain::test {

/// Filled into outputs before a call so that an element the op forgot to write
/// fails every comparison.
inline float poison() { return std::numeric_limits<float>::quiet_NaN(); }

inline std::vector<float> random_uniform(std::size_t count, std::uint32_t seed, float lo = 0.0f,
                                         float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> out(count);
  for (auto& v : out) v = dist(gen);
  return out;
}

/// L2 norm in double, to assert results are not trivially zero.
inline double l2_norm(const std::vector<float>& v) {
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

/// A copy of `values` on ctx's device.
template <class T>
Buffer<T> upload(const Context& ctx, const std::vector<T>& values) {
  Buffer<T> buffer(ctx, static_cast<std::int64_t>(values.size()));
  copy_to_device(ctx, buffer.data(), values.data(), values.size() * sizeof(T));
  return buffer;
}

/// A device buffer of `count` floats filled with poison().
inline Buffer<float> poisoned(const Context& ctx, std::int64_t count) {
  Buffer<float> buffer(ctx, count);
  fill(ctx, buffer.data(), count, poison());
  return buffer;
}

template <class T>
std::vector<T> download(const Context& ctx, const Buffer<T>& buffer) {
  std::vector<T> out(static_cast<std::size_t>(buffer.size()));
  copy_to_host(ctx, out.data(), buffer.data(), buffer.bytes());
  return out;
}

/// what() of the cuxplain::Error that `call` throws; a test failure (and an
/// empty message) when it throws none.
inline std::string error_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected cuxplain::Error";
  return {};
}

/// `message` contains `part` (an argument's name, its value, a phrase).
inline void expect_mentions(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos)
      << "\"" << message << "\" lacks \"" << part << "\"";
}

/// `call` throws a cuxplain::Error whose message contains `part`.
inline void expect_error(const std::function<void()>& call, const std::string& part) {
  expect_mentions(error_message(call), part);
}

/// Every entry of `cuda` within relative * max|host| of the host's (and
/// the host's result not all zero, so that the comparison means something).
inline void expect_close(const std::vector<float>& cuda, const std::vector<float>& host,
                         double relative, const std::string& what) {
  ASSERT_EQ(cuda.size(), host.size()) << what;
  double scale = 0.0;
  for (float v : host) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  ASSERT_GT(scale, 0.0) << what;
  for (std::size_t e = 0; e < cuda.size(); ++e) {
    ASSERT_NEAR(cuda[e], host[e], relative * scale) << what << " entry " << e;
  }
}

}  // namespace cuxplain::test

/// First statement of every CUDA test: skips it, visibly, without a GPU.
#define CUXPLAIN_REQUIRE_CUDA()                                                  \
  do {                                                                           \
    if (!::cuxplain::Context::cuda_available()) {                                \
      GTEST_SKIP() << "no CUDA device on this machine: CUDA test not run";      \
    }                                                                            \
  } while (0)
