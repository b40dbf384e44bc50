// EVA on CUDA against the host backend.
#include <gtest/gtest.h>

#include <cmath>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

nn::Network small_cnn(const Context& ctx) {
  nn::NetworkBuilder b;
  auto x = b.input({1, 16, 16});
  nn::ConvParams conv;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  x = b.conv(x, 6, 3, 3, test::random_uniform(54, 1, -0.4f, 0.4f), test::random_uniform(6, 2, -0.1f, 0.1f), conv);
  x = b.relu(x);
  nn::PoolParams pool;
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  x = b.avg_pool(x, pool);
  x = b.flatten(x);
  x = b.dense(x, 4, test::random_uniform(4 * 6 * 64, 3, -0.1f, 0.1f), test::random_uniform(4, 4, -0.1f, 0.1f));
  return b.build(ctx, x);
}

TEST(EvaCuda, MatchesHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::vector<float> images = test::random_uniform(3 * 256, 5, 0.0f, 1.0f);
  for (bool sound : {false, true}) {
    EvaOptions options;
    options.grid_size = 8;
    options.epsilon = 0.03f;
    options.batch_size = 20;
    options.sound = sound;
    std::vector<float> expected(3 * 64);
    eva_attribution(host, small_cnn(host), {images.data(), 3, 1, 16, 16, Layout::nchw}, {0, 1, 3},
                    expected.data(), options);
    const Buffer<float> device_images = test::upload(cuda, images);
    Buffer<float> scores = test::poisoned(cuda, 3 * 64);
    eva_attribution(cuda, small_cnn(cuda), {device_images.data(), 3, 1, 16, 16, Layout::nchw},
                    {0, 1, 3}, scores.data(), options);
    const std::vector<float> actual = test::download(cuda, scores);
    EXPECT_GT(test::l2_norm(actual), 0.0);
    double scale = 0.0;
    for (float v : expected) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    for (std::size_t i = 0; i < actual.size(); ++i) {
      // Plain mode differs by cuBLAS vs BLAS summation order; sound mode is
      // designed to give the same bits, which the nn tests check more closely.
      EXPECT_NEAR(actual[i], expected[i], (sound ? 1e-5 : 1e-4) * scale + 1e-6) << i;
    }
  }
}

}  // namespace
}  // namespace cuxplain
