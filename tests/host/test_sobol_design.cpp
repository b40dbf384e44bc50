// Rows of the stacked Sobol design on the host backend against the literal
// stacking of A, B and C_1..C_d (tests/reference/sobol_design.hpp), bit for bit,
// for arbitrary row ranges with and without B; plus argument errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/sobol_design_cases.hpp"
#include "common/test_utils.hpp"
#include "reference/sobol_design.hpp"

namespace cuxplain {
namespace {

using test::DesignCase;
using test::error_message;
using test::expect_mentions;

/// Ranges [begin, begin + rows) that cover the whole design, single rows at
/// every block boundary, ranges straddling them and batches of 7 rows.
std::vector<std::pair<std::int64_t, std::int64_t>> row_ranges(std::int64_t nb_design,
                                                              std::int64_t total) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges = {{0, total}, {0, 1}, {total - 1, 1}};
  for (std::int64_t boundary = nb_design; boundary < total; boundary += nb_design) {
    ranges.push_back({boundary - 1, 2});
    ranges.push_back({boundary, 1});
  }
  for (std::int64_t begin = 0; begin < total; begin += 7) {
    ranges.push_back({begin, std::min<std::int64_t>(7, total - begin)});
  }
  ranges.push_back({total / 3, total - total / 3});
  return ranges;
}

class DesignCases : public ::testing::TestWithParam<DesignCase> {};

TEST_P(DesignCases, RowsEqualTheStackedMatricesBitForBit) {
  const auto [nb_design, d, with_b] = GetParam();
  const std::vector<float> sequence = test::random_uniform(nb_design * 2 * d, 31);
  const reference::Matrix want = reference::sobol_design(sequence, nb_design, d, with_b);
  const std::int64_t total = sobol_design_rows(nb_design, d, with_b);
  ASSERT_EQ(static_cast<std::int64_t>(want.size()), total);

  for (const auto& [begin, rows] : row_ranges(nb_design, total)) {
    std::vector<float> masks(static_cast<std::size_t>(rows * d), test::poison());
    sobol_design_masks(Context::host(), sequence.data(), nb_design, d, with_b, begin, rows,
                       masks.data());
    for (std::int64_t r = 0; r < rows; ++r) {
      EXPECT_EQ(std::memcmp(masks.data() + r * d, want[begin + r].data(), d * sizeof(float)), 0)
          << "design row " << begin + r << " (range " << begin << " + " << rows << ")";
    }
    EXPECT_GT(test::l2_norm(masks), 0.0);
  }
}

INSTANTIATE_TEST_SUITE_P(SobolDesign, DesignCases,
                         ::testing::ValuesIn(test::design_cases({1, 3, 64})));

TEST(SobolDesign, RowCount) {
  EXPECT_EQ(sobol_design_rows(32, 64, false), 32 * 65);
  EXPECT_EQ(sobol_design_rows(32, 64, true), 32 * 66);
  static_assert(sobol_design_rows(2, 1, true) == 6, "usable in constant expressions");
}

TEST(SobolDesign, BadArgumentsThrowNamingTheArgument) {
  const Context ctx = Context::host();
  const std::vector<float> sequence(8 * 2 * 3, 0.5f);
  std::vector<float> masks(8 * 5 * 3);
  const auto call = [&](const float* seq, std::int64_t n, std::int64_t d, bool with_b,
                        std::int64_t begin, std::int64_t rows, float* out) {
    return error_message([&] { sobol_design_masks(ctx, seq, n, d, with_b, begin, rows, out); });
  };
  expect_mentions(call(nullptr, 8, 3, false, 0, 1, masks.data()), "sequence is null");
  expect_mentions(call(sequence.data(), 8, 3, false, 0, 1, nullptr), "masks is null");
  expect_mentions(call(sequence.data(), 1, 3, false, 0, 1, masks.data()),
                  "nb_design must be >= 2, got 1");
  expect_mentions(call(sequence.data(), 8, 0, false, 0, 1, masks.data()), "d must be >= 1, got 0");
  expect_mentions(call(sequence.data(), 8, 3, false, -1, 1, masks.data()),
                  "row_begin must be in [0, 32], got -1");
  expect_mentions(call(sequence.data(), 8, 3, false, 30, 3, masks.data()),
                  "rows 3 from row_begin 30 runs past the design's 32 rows");
  expect_mentions(call(sequence.data(), 8, 3, false, 0, -2, masks.data()), "rows -2");
  // With B the design has 8 more rows, so the same range is fine.
  sobol_design_masks(ctx, sequence.data(), 8, 3, true, 30, 3, masks.data());
}

}  // namespace
}  // namespace cuxplain
