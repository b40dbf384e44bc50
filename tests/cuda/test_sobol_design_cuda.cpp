// Rows of the stacked Sobol design on the CUDA backend: bit-identical to the
// host backend for arbitrary row ranges, with and without B.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cuda_stream.hpp"
#include "common/sobol_design_cases.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::DesignCase;
using test::TestStream;

class DesignCudaCases : public ::testing::TestWithParam<DesignCase> {};

TEST_P(DesignCudaCases, RowsEqualHostBitForBit) {
  CUXPLAIN_REQUIRE_CUDA();
  const auto [nb_design, d, with_b] = GetParam();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const std::vector<float> sequence = test::random_uniform(nb_design * 2 * d, 33);
  const Buffer<float> device_sequence = test::upload(cuda, sequence);
  const std::int64_t total = sobol_design_rows(nb_design, d, with_b);

  std::vector<std::pair<std::int64_t, std::int64_t>> ranges = {
      {0, total}, {0, 1}, {total - 1, 1}, {nb_design - 1, 2}, {total / 3, total - total / 3}};
  for (std::int64_t begin = 0; begin < total; begin += 256) {
    ranges.push_back({begin, std::min<std::int64_t>(256, total - begin)});
  }
  for (const auto& [begin, rows] : ranges) {
    std::vector<float> host(static_cast<std::size_t>(rows * d), test::poison());
    sobol_design_masks(Context::host(), sequence.data(), nb_design, d, with_b, begin, rows,
                       host.data());
    Buffer<float> masks = test::poisoned(cuda, rows * d);
    sobol_design_masks(cuda, device_sequence.data(), nb_design, d, with_b, begin, rows,
                       masks.data());
    // Plain copies of floats: equal bit patterns (no NaN survives the poison check).
    EXPECT_EQ(test::download(cuda, masks), host) << "range " << begin << " + " << rows;
  }
}

INSTANTIATE_TEST_SUITE_P(SobolDesign, DesignCudaCases,
                         ::testing::ValuesIn(test::design_cases({1, 3, 64, 192})));

}  // namespace
}  // namespace cuxplain
