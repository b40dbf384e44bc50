// Heatmap upsampling on the host backend against the textbook double
// reference (tests/reference/upsample.hpp), against cv2.resize outputs
// (tests/data/upsample_cv2.txt) and, for bicubic_tensorflow, against
// tf.image.resize outputs bit for bit (tests/data/tf_resize_bicubic.txt);
// constant and same-size invariants; argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/test_utils.hpp"
#include "common/tf_resize_cases.hpp"
#include "common/upsample_cases.hpp"
#include "reference/upsample.hpp"

namespace cuxplain {
namespace {

using test::error_message;
using test::expect_mentions;
using test::UpsampleShape;

std::vector<float> run_upsample(const std::vector<float>& cells, const UpsampleShape& s,
                                Interpolation method) {
  std::vector<float> out(static_cast<std::size_t>(s.out_count()), test::poison());
  upsample(Context::host(), cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, out.data(), method,
           s.channels);
  return out;
}

/// Square and not, integer and non-integer scales, 1 and 3 channels, a
/// single cell, a downscale and the same size.
const UpsampleShape kShapes[] = {
    {1, 8, 8, 224, 224, 1}, {2, 8, 8, 64, 64, 3}, {3, 7, 5, 23, 31, 1}, {1, 4, 6, 9, 13, 3},
    {2, 1, 1, 5, 7, 1},     {1, 1, 3, 4, 9, 3},   {1, 9, 7, 4, 3, 1},   {2, 3, 3, 3, 3, 3},
};

class UpsampleShapes : public ::testing::TestWithParam<UpsampleShape> {};

TEST_P(UpsampleShapes, BicubicMatchesReference) {
  const UpsampleShape s = GetParam();
  const std::vector<float> cells = test::random_uniform(s.cell_count(), 41, -1.0f, 1.0f);
  const std::vector<float> out = run_upsample(cells, s, Interpolation::bicubic);
  const std::vector<double> want =
      reference::resize(cells, s.n, s.grid_h, s.grid_w, s.h, s.w, s.channels, true);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_NEAR(out[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i])))
        << s << ", element " << i;
  }
  EXPECT_GT(test::l2_norm(out), 0.0);
}

TEST_P(UpsampleShapes, NearestMatchesReferenceExactly) {
  const UpsampleShape s = GetParam();
  const std::vector<float> cells = test::random_uniform(s.cell_count(), 42, -1.0f, 1.0f);
  const std::vector<float> out = run_upsample(cells, s, Interpolation::nearest);
  const std::vector<double> want =
      reference::resize(cells, s.n, s.grid_h, s.grid_w, s.h, s.w, s.channels, false);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], static_cast<float>(want[i])) << s << ", element " << i;
  }
  EXPECT_GT(test::l2_norm(out), 0.0);
}

TEST_P(UpsampleShapes, ConstantGridStaysConstant) {
  const UpsampleShape s = GetParam();
  const std::vector<float> cells(static_cast<std::size_t>(s.cell_count()), 0.37f);
  for (float v : run_upsample(cells, s, Interpolation::bicubic)) ASSERT_NEAR(v, 0.37f, 1e-6) << s;
  for (float v : run_upsample(cells, s, Interpolation::nearest)) ASSERT_EQ(v, 0.37f) << s;
}

INSTANTIATE_TEST_SUITE_P(Upsample, UpsampleShapes, ::testing::ValuesIn(kShapes));

TEST(Upsample, SameSizeBicubicIsAnExactCopy) {
  const UpsampleShape s{2, 6, 5, 6, 5, 3};
  const std::vector<float> cells = test::random_uniform(s.cell_count(), 43, -1.0f, 1.0f);
  EXPECT_EQ(run_upsample(cells, s, Interpolation::bicubic), cells);
  EXPECT_EQ(run_upsample(cells, s, Interpolation::nearest), cells);
}

std::vector<float> read_floats(std::istream& in, std::int64_t count) {
  std::vector<float> values(static_cast<std::size_t>(count));
  for (float& v : values) in >> v;
  return values;
}

/// Every case of tests/data/upsample_cv2.txt (written by make_upsample_fixtures.py).
TEST(Upsample, MatchesOpenCvResize) {
  std::ifstream file(std::string(CUXPLAIN_TEST_DATA_DIR) + "/upsample_cv2.txt");
  ASSERT_TRUE(file) << "missing tests/data/upsample_cv2.txt";
  std::string line;
  int cases = 0;
  while (std::getline(file, line)) {
    if (line.rfind("case ", 0) != 0) continue;
    std::istringstream header(line.substr(5));
    std::string method;
    UpsampleShape s{1, 0, 0, 0, 0, 0};
    header >> method >> s.grid_h >> s.grid_w >> s.h >> s.w >> s.channels;
    const std::vector<float> cells = read_floats(file, s.cell_count());
    const std::vector<float> want = read_floats(file, s.out_count());
    ASSERT_TRUE(file) << "truncated fixture at " << line;
    const bool bicubic = method == "bicubic";
    const std::vector<float> out =
        run_upsample(cells, s, bicubic ? Interpolation::bicubic : Interpolation::nearest);
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (bicubic) {
        ASSERT_NEAR(out[i], want[i], 1e-5) << line << ", element " << i;
      } else {
        ASSERT_EQ(out[i], want[i]) << line << ", element " << i;
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 10);
}

/// Every case of tests/data/tf_resize_bicubic.txt: upscales, a downscale, the
/// same size, a single pixel, two rows, 1 to 3 channels; all images of a
/// case at once (n = 2, the second image the first negated) so that the
/// image stride is exercised too.
TEST(Upsample, BicubicTensorflowGivesTfImageResizesBits) {
  std::string error;
  const std::vector<test::TfResizeCase> cases = test::read_tf_resize_cases(
      std::string(CUXPLAIN_TEST_DATA_DIR) + "/tf_resize_bicubic.txt", error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(cases.size(), 10u);
  for (const test::TfResizeCase& c : cases) {
    const UpsampleShape s{2, c.in_h, c.in_w, c.out_h, c.out_w, c.channels};
    std::vector<float> cells = c.input;
    for (float v : c.input) cells.push_back(-v);
    const std::vector<float> out = run_upsample(cells, s, Interpolation::bicubic_tensorflow);
    const std::size_t per_image = c.output.size();
    for (std::size_t i = 0; i < out.size(); ++i) {
      // TensorFlow's weights are symmetric in the sign of the input: the
      // negated image resizes to the negated output, bit for bit.
      const float want = i < per_image ? c.output[i] : -c.output[i - per_image];
      ASSERT_EQ(out[i], want) << c.name << ", element " << i;
    }
  }
}

TEST(Upsample, BicubicTensorflowKeepsAConstantGridAndTheSameSize) {
  for (const UpsampleShape& s : kShapes) {
    const std::vector<float> constant(static_cast<std::size_t>(s.cell_count()), 0.37f);
    for (float v : run_upsample(constant, s, Interpolation::bicubic_tensorflow)) {
      ASSERT_NEAR(v, 0.37f, 1e-6) << s;
    }
  }
  const UpsampleShape same{2, 6, 5, 6, 5, 3};
  const std::vector<float> cells = test::random_uniform(same.cell_count(), 44, -1.0f, 1.0f);
  EXPECT_EQ(run_upsample(cells, same, Interpolation::bicubic_tensorflow), cells);
}

TEST(Upsample, BadArgumentsThrowNamingTheArgument) {
  const Context ctx = Context::host();
  const std::vector<float> cells(64, 1.0f);
  std::vector<float> out(16 * 16);
  const auto call = [&](const float* in, std::int64_t n, std::int64_t gh, std::int64_t gw,
                        std::int64_t h, std::int64_t w, float* o, Interpolation method,
                        std::int64_t channels) {
    return error_message([&] { upsample(ctx, in, n, gh, gw, h, w, o, method, channels); });
  };
  const auto bicubic = Interpolation::bicubic;
  expect_mentions(call(nullptr, 1, 8, 8, 16, 16, out.data(), bicubic, 1), "cells is null");
  expect_mentions(call(cells.data(), 1, 8, 8, 16, 16, nullptr, bicubic, 1), "out is null");
  expect_mentions(call(cells.data(), 0, 8, 8, 16, 16, out.data(), bicubic, 1),
                  "n must be >= 1, got 0");
  expect_mentions(call(cells.data(), 1, 0, 8, 16, 16, out.data(), bicubic, 1),
                  "grid_h must be >= 1, got 0");
  expect_mentions(call(cells.data(), 1, 8, -3, 16, 16, out.data(), bicubic, 1),
                  "grid_w must be >= 1, got -3");
  expect_mentions(call(cells.data(), 1, 8, 8, 0, 16, out.data(), bicubic, 1),
                  "h must be >= 1, got 0");
  expect_mentions(call(cells.data(), 1, 8, 8, 16, 0, out.data(), bicubic, 1),
                  "w must be >= 1, got 0");
  expect_mentions(call(cells.data(), 1, 8, 8, 16, 16, out.data(), bicubic, 0),
                  "channels must be >= 1, got 0");
  expect_mentions(call(cells.data(), 1, 8, 8, 16, 16, out.data(), Interpolation::nearest_exact, 1),
                  "method must be bicubic, bicubic_tensorflow or nearest, got nearest_exact");
  expect_mentions(call(cells.data(), 1, 8, 8, 16, 16, out.data(), Interpolation::bilinear, 1),
                  "got bilinear");
}

}  // namespace
}  // namespace cuxplain
