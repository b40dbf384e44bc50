// Heatmap upsampling on the CUDA backend against the host backend: nearest
// bit-identical, bicubic to float rounding (the device may fuse multiply-adds);
// bicubic_tensorflow bit-identical to tf.image.resize's fixtures, as on the
// host (its math rounds every step explicitly, detail/upsample.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cuda_stream.hpp"
#include "common/test_utils.hpp"
#include "common/tf_resize_cases.hpp"
#include "common/upsample_cases.hpp"

namespace cuxplain {
namespace {

using test::TestStream;
using test::UpsampleShape;

const UpsampleShape kShapes[] = {
    {1, 8, 8, 224, 224, 1}, {4, 8, 8, 64, 64, 3}, {3, 7, 5, 23, 31, 1}, {1, 4, 6, 9, 13, 3},
    {2, 1, 1, 5, 7, 1},     {1, 1, 3, 4, 9, 3},   {1, 9, 7, 4, 3, 1},   {2, 3, 3, 3, 3, 3},
};

class UpsampleCudaShapes : public ::testing::TestWithParam<UpsampleShape> {};

TEST_P(UpsampleCudaShapes, MatchesHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const UpsampleShape s = GetParam();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const std::vector<float> cells = test::random_uniform(s.cell_count(), 51, -1.0f, 1.0f);
  const Buffer<float> device_cells = test::upload(cuda, cells);
  for (Interpolation method : {Interpolation::bicubic, Interpolation::nearest}) {
    std::vector<float> host(static_cast<std::size_t>(s.out_count()), test::poison());
    upsample(Context::host(), cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, host.data(), method,
             s.channels);
    Buffer<float> out = test::poisoned(cuda, s.out_count());
    upsample(cuda, device_cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, out.data(), method,
             s.channels);
    const std::vector<float> got = test::download(cuda, out);
    if (method == Interpolation::nearest) {
      EXPECT_EQ(got, host) << s;
    } else {
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], host[i], 2e-6f * std::max(1.0f, std::fabs(host[i])))
            << s << ", element " << i;
      }
    }
    EXPECT_GT(test::l2_norm(got), 0.0) << s;
  }
}

TEST_P(UpsampleCudaShapes, ConstantGridStaysConstant) {
  CUXPLAIN_REQUIRE_CUDA();
  const UpsampleShape s = GetParam();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const Buffer<float> cells =
      test::upload(cuda, std::vector<float>(static_cast<std::size_t>(s.cell_count()), 0.37f));
  for (Interpolation method : {Interpolation::bicubic, Interpolation::nearest}) {
    Buffer<float> out = test::poisoned(cuda, s.out_count());
    upsample(cuda, cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, out.data(), method, s.channels);
    for (float v : test::download(cuda, out)) ASSERT_NEAR(v, 0.37f, 1e-6) << s;
  }
}

TEST_P(UpsampleCudaShapes, BicubicTensorflowMatchesHostBitwise) {
  CUXPLAIN_REQUIRE_CUDA();
  const UpsampleShape s = GetParam();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const std::vector<float> cells = test::random_uniform(s.cell_count(), 52, -1.0f, 1.0f);
  std::vector<float> host(static_cast<std::size_t>(s.out_count()), test::poison());
  upsample(Context::host(), cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, host.data(),
           Interpolation::bicubic_tensorflow, s.channels);
  const Buffer<float> device_cells = test::upload(cuda, cells);
  Buffer<float> out = test::poisoned(cuda, s.out_count());
  upsample(cuda, device_cells.data(), s.n, s.grid_h, s.grid_w, s.h, s.w, out.data(),
           Interpolation::bicubic_tensorflow, s.channels);
  EXPECT_EQ(test::download(cuda, out), host) << s;
  EXPECT_GT(test::l2_norm(host), 0.0) << s;
}

INSTANTIATE_TEST_SUITE_P(Upsample, UpsampleCudaShapes, ::testing::ValuesIn(kShapes));

TEST(UpsampleCuda, BicubicTensorflowGivesTfImageResizesBits) {
  CUXPLAIN_REQUIRE_CUDA();
  std::string error;
  const std::vector<test::TfResizeCase> cases = test::read_tf_resize_cases(
      std::string(CUXPLAIN_TEST_DATA_DIR) + "/tf_resize_bicubic.txt", error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(cases.size(), 10u);
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  for (const test::TfResizeCase& c : cases) {
    const Buffer<float> cells = test::upload(cuda, c.input);
    Buffer<float> out = test::poisoned(cuda, c.out_h * c.out_w * c.channels);
    upsample(cuda, cells.data(), 1, c.in_h, c.in_w, c.out_h, c.out_w, out.data(),
             Interpolation::bicubic_tensorflow, c.channels);
    EXPECT_EQ(test::download(cuda, out), c.output) << c.name;
  }
}

}  // namespace
}  // namespace cuxplain
