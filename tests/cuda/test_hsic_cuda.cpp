// HSIC estimator and attribution on CUDA against the host backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/design_packing.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                  double relative, const char* what) {
  ASSERT_EQ(actual.size(), expected.size());
  double scale = 0.0;
  for (float v : expected) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], relative * scale + 1e-7) << what << " " << i;
  }
}

struct Case {
  HsicKernel kernel;
  bool binary;
  std::int64_t n;
  std::int64_t d;
};

class HsicCudaVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(HsicCudaVsHost, GramScoresAndInteractions) {
  CUXPLAIN_REQUIRE_CUDA();
  const Case param = GetParam();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  std::vector<float> masks = test::random_uniform(static_cast<std::size_t>(param.n * param.d), 4);
  if (param.binary)
    for (float& m : masks) m = m > 0.5f ? 1.0f : 0.0f;
  std::vector<float> y(static_cast<std::size_t>(param.n));
  for (std::int64_t j = 0; j < param.n; ++j)
    y[j] = 2.0f * masks[j * param.d] + std::cos(3.0f * masks[j * param.d + param.d - 1]);

  const float host_width = hsic_output_width(host, y.data(), param.n, Bandwidth::median_distance);
  const Buffer<float> y_dev = test::upload(cuda, y);
  EXPECT_EQ(hsic_output_width(cuda, y_dev.data(), param.n, Bandwidth::median_distance), host_width);

  std::vector<float> lc(static_cast<std::size_t>(param.n * param.n));
  hsic_centered_gram(host, y.data(), param.n, host_width, lc.data());
  Buffer<float> lc_dev = test::poisoned(cuda, param.n * param.n);
  hsic_centered_gram(cuda, y_dev.data(), param.n, host_width, lc_dev.data());
  expect_close(test::download(cuda, lc_dev), lc, 1e-5, "Lc");

  std::vector<float> scores(static_cast<std::size_t>(param.d));
  hsic_scores(host, masks.data(), param.n, param.d, param.kernel, param.binary, lc.data(), scores.data());
  const Buffer<float> masks_dev = test::upload(cuda, masks);
  Buffer<float> scores_dev = test::poisoned(cuda, param.d);
  hsic_scores(cuda, masks_dev.data(), param.n, param.d, param.kernel, param.binary,
              lc_dev.data(), scores_dev.data());
  const std::vector<float> cuda_scores = test::download(cuda, scores_dev);
  EXPECT_GT(test::l2_norm(cuda_scores), 0.0);
  expect_close(cuda_scores, scores, 1e-4, "scores");

  std::vector<float> inter(static_cast<std::size_t>(param.d * param.d));
  hsic_interactions(host, masks.data(), param.n, param.d, param.kernel, lc.data(), inter.data());
  Buffer<float> inter_dev = test::poisoned(cuda, param.d * param.d);
  hsic_interactions(cuda, masks_dev.data(), param.n, param.d, param.kernel, lc_dev.data(),
                    inter_dev.data());
  expect_close(test::download(cuda, inter_dev), inter, 1e-4, "interactions");
}

INSTANTIATE_TEST_SUITE_P(
    KernelsAndSizes, HsicCudaVsHost,
    ::testing::Values(Case{HsicKernel::binary, true, 37, 6}, Case{HsicKernel::rbf, true, 500, 64},
                      Case{HsicKernel::sobolev, true, 129, 9}, Case{HsicKernel::binary, false, 45, 6},
                      Case{HsicKernel::rbf, false, 1000, 49}, Case{HsicKernel::sobolev, false, 33, 17}));

TEST(HsicCuda, AttributionMatchesHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::vector<float> pixels = test::random_uniform(2 * 3 * 28 * 28, 4, 0.2f, 1.0f);
  const test::CellReader reader{7, {8, 30}, 3};
  HsicOptions options;
  options.grid_size = 7;
  options.nb_design = 256;
  options.interactions = true;
  std::vector<float> scores(2 * 49), inter(2 * 49 * 49);
  hsic_attribution(host, reader.as_model(host), {pixels.data(), 2, 3, 28, 28, Layout::nhwc},
                   {0, 2}, scores.data(), options, inter.data());
  const Buffer<float> images = test::upload(cuda, pixels);
  Buffer<float> scores_dev = test::poisoned(cuda, 2 * 49);
  Buffer<float> inter_dev = test::poisoned(cuda, 2 * 49 * 49);
  hsic_attribution(cuda, reader.as_model(cuda), {images.data(), 2, 3, 28, 28, Layout::nhwc},
                   {0, 2}, scores_dev.data(), options, inter_dev.data());
  expect_close(test::download(cuda, scores_dev), scores, 1e-4, "scores");
  expect_close(test::download(cuda, inter_dev), inter, 1e-4, "interactions");
}

TEST(HsicCuda, PackedDesignsMatchOneImagePerCallBitwiseAndTheHost) {
  // Three designs of 40 rows: batches that split every design (13), that
  // hold the end of one and the start of the next (60) and all of them (120).
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::vector<float> pixels = test::random_uniform(3 * 3 * 16 * 16, 19, 0.2f, 1.0f);
  const Buffer<float> images = test::upload(cuda, pixels);
  const test::CellReader reader{4, {1, 5, 10}, 2};
  HsicOptions options;
  options.grid_size = 4;
  options.nb_design = 40;
  options.interactions = true;
  test::expect_packing_matches_one_image_per_call(
      cuda, reader, {images.data(), 3, 3, 16, 16, Layout::nchw}, {1, 0, 1}, 40, {13, 60, 120},
      test::hsic_outputs(cuda, options, 16));
  expect_close(test::hsic_outputs(cuda, options, 16)(
                   reader.as_model(cuda), {images.data(), 3, 3, 16, 16, Layout::nchw}, {1, 0, 1}, 60),
               test::hsic_outputs(host, options, 16)(
                   reader.as_model(host), {pixels.data(), 3, 3, 16, 16, Layout::nchw}, {1, 0, 1}, 60),
               1e-4, "packed scores and interactions");
}

TEST(HsicCuda, ExtremeOutputsGiveTheHostsFiniteScores) {
  // Negative outputs near -1e19: the width is |median| and the Gram is
  // evaluated in double on both backends, so the scores are finite and equal.
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::vector<float> pixels = test::random_uniform(28 * 28, 6, 0.2f, 1.0f);
  const test::CellReader reader{7, {3, 40}, 2};
  const auto scaled = [&](const Context& ctx) {
    return Model{reader.num_outputs, [&reader, &ctx](ConstImageView batch, float* outputs) {
      std::vector<float> images(static_cast<std::size_t>(batch.size()));
      copy_to_host(ctx, images.data(), batch.data, images.size() * sizeof(float));
      ConstImageView host_batch = batch;
      host_batch.data = images.data();
      std::vector<float> out(static_cast<std::size_t>(batch.n * reader.num_outputs));
      reader.forward_host(host_batch, out.data());
      for (float& v : out) v *= -1e19f;
      copy_to_device(ctx, outputs, out.data(), out.size() * sizeof(float));
    }};
  };
  HsicOptions options;
  options.grid_size = 7;
  options.nb_design = 300;
  std::vector<float> scores(49, test::poison());
  hsic_attribution(host, scaled(host), {pixels.data(), 1, 1, 28, 28, Layout::nchw}, {1},
                   scores.data(), options);
  for (float v : scores) ASSERT_TRUE(std::isfinite(v));
  EXPECT_GT(test::l2_norm(scores), 0.0);
  const Buffer<float> images = test::upload(cuda, pixels);
  Buffer<float> scores_dev = test::poisoned(cuda, 49);
  hsic_attribution(cuda, scaled(cuda), {images.data(), 1, 1, 28, 28, Layout::nchw}, {1},
                   scores_dev.data(), options);
  expect_close(test::download(cuda, scores_dev), scores, 1e-4, "scores");
}

}  // namespace
}  // namespace cuxplain
