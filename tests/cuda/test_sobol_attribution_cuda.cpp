// Sobol attribution on the CUDA backend against the host backend.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/design_packing.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::CellReader;

struct Case {
  Layout layout;
  Perturbation perturbation;
  Interpolation interpolation;
  Sampler sampler;
  Estimator estimator;
  bool per_channel;
  bool first_order;
};

class SobolCudaVsHost : public ::testing::TestWithParam<Case> {};

TEST_P(SobolCudaVsHost, SameScores) {
  CUXPLAIN_REQUIRE_CUDA();
  const Case param = GetParam();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::int64_t n = 2, c = 3, h = 24, w = 40;
  const std::vector<float> pixels =
      test::random_uniform(static_cast<std::size_t>(n * c * h * w), 21, 0.1f, 1.0f);
  const CellReader reader{4, {1, 6, 11}, 3};
  SobolOptions options;
  options.grid_size = 4;
  options.nb_design = 32;
  options.batch_size = 50;
  options.perturbation = param.perturbation;
  options.mask_interpolation = param.interpolation;
  options.sampler = param.sampler;
  options.seed = 5;
  options.estimator = param.estimator;
  options.per_channel = param.per_channel;
  options.first_order = param.first_order;
  const std::int64_t cells = 16 * (param.per_channel ? c : 1);

  std::vector<float> host_scores(n * cells, test::poison()), host_first(n * cells, test::poison());
  sobol_attribution(host, reader.as_model(host), {pixels.data(), n, c, h, w, param.layout},
                    {0, 2}, host_scores.data(), options, host_first.data());

  const Buffer<float> images = test::upload(cuda, pixels);
  Buffer<float> scores = test::poisoned(cuda, n * cells);
  Buffer<float> first = test::poisoned(cuda, n * cells);
  sobol_attribution(cuda, reader.as_model(cuda), {images.data(), n, c, h, w, param.layout},
                    {0, 2}, scores.data(), options, first.data());
  const std::vector<float> cuda_scores = test::download(cuda, scores);
  EXPECT_GT(test::l2_norm(cuda_scores), 0.0);
  // Masks, perturbed images and model outputs are bit-identical across
  // backends; only the estimator's reduction order differs.
  for (std::int64_t i = 0; i < n * cells; ++i) {
    EXPECT_NEAR(cuda_scores[i], host_scores[i], 1e-5 + 1e-5 * std::fabs(host_scores[i])) << i;
  }
  if (param.first_order) {
    const std::vector<float> cuda_first = test::download(cuda, first);
    for (std::int64_t i = 0; i < n * cells; ++i) {
      EXPECT_NEAR(cuda_first[i], host_first[i], 1e-5 + 1e-5 * std::fabs(host_first[i])) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, SobolCudaVsHost,
    ::testing::Values(
        Case{Layout::nchw, Perturbation::inpainting, Interpolation::nearest_exact, Sampler::sobol,
             Estimator::jansen, false, false},
        Case{Layout::nhwc, Perturbation::blurring, Interpolation::bilinear, Sampler::sobol_owen,
             Estimator::homma, false, true},
        Case{Layout::nchw, Perturbation::amplitude, Interpolation::nearest, Sampler::halton,
             Estimator::janon, true, false},
        Case{Layout::nhwc, Perturbation::inpainting, Interpolation::nearest_exact, Sampler::lhs,
             Estimator::glen, false, false},
        Case{Layout::nchw, Perturbation::blurring, Interpolation::nearest,
             Sampler::monte_carlo, Estimator::saltelli, true, true}));

TEST(SobolCuda, PackedDesignsMatchOneImagePerCallBitwiseAndTheHost) {
  // Three designs of 8 x (16 + 2) = 144 rows: batches that split every
  // design (1, 7, 100), that hold the end of one and the start of the next
  // (145, 200, 300) and that hold them all (432).
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host();
  const Context cuda = Context::cuda();
  const std::int64_t n = 3, c = 2, h = 16, w = 16;
  const std::vector<float> pixels =
      test::random_uniform(static_cast<std::size_t>(n * c * h * w), 17, 0.1f, 1.0f);
  const Buffer<float> images = test::upload(cuda, pixels);
  const CellReader reader{4, {2, 5, 13}, 3};
  SobolOptions options;
  options.grid_size = 4;
  options.nb_design = 8;
  options.first_order = true;
  options.perturbation = Perturbation::blurring;
  options.blur_size = 3;
  options.mask_interpolation = Interpolation::bilinear;
  test::expect_packing_matches_one_image_per_call(
      cuda, reader, {images.data(), n, c, h, w, Layout::nhwc}, {0, 2, 1}, 8 * (16 + 2),
      {1, 7, 100, 145, 200, 300, 432}, test::sobol_outputs(cuda, options, 16));
  const std::vector<float> on_host = test::sobol_outputs(host, options, 16)(
      reader.as_model(host), {pixels.data(), n, c, h, w, Layout::nhwc}, {0, 2, 1}, 100);
  const std::vector<float> on_cuda = test::sobol_outputs(cuda, options, 16)(
      reader.as_model(cuda), {images.data(), n, c, h, w, Layout::nhwc}, {0, 2, 1}, 100);
  ASSERT_EQ(on_cuda.size(), on_host.size());
  for (std::size_t i = 0; i < on_host.size(); ++i) {
    EXPECT_NEAR(on_cuda[i], on_host[i], 1e-5 + 1e-5 * std::fabs(on_host[i])) << i;
  }
}

TEST(SobolCuda, BatchSizeIndependentAndRepeatable) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  const std::vector<float> pixels = test::random_uniform(3 * 32 * 32, 4, 0.1f, 1.0f);
  const Buffer<float> images = test::upload(cuda, pixels);
  const CellReader reader{8, {3, 40}, 2};
  std::vector<float> reference;
  for (std::int64_t batch : {1, 33, 256, 256}) {
    SobolOptions options;
    options.batch_size = batch;
    Buffer<float> scores = test::poisoned(cuda, 64);
    sobol_attribution(cuda, reader.as_model(cuda), {images.data(), 1, 3, 32, 32, Layout::nchw},
                      {1}, scores.data(), options);
    const std::vector<float> result = test::download(cuda, scores);
    for (std::int64_t k = 0; k < 64; ++k) {
      if (k != 3 && k != 40) EXPECT_EQ(result[k], 0.0f) << k;
    }
    if (reference.empty()) reference = result;
    EXPECT_EQ(result, reference) << "batch_size " << batch;
  }
}

TEST(SobolCuda, ErrorsLeaveTheContextUsable) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  const std::vector<float> pixels = test::random_uniform(16 * 16, 4, 0.1f, 1.0f);
  const Buffer<float> images = test::upload(cuda, pixels);
  const ConstImageView view{images.data(), 1, 1, 16, 16, Layout::nchw};
  SobolOptions options;
  options.grid_size = 4;
  Buffer<float> scores = test::poisoned(cuda, 16);

  const Model nan_model{2, [&](ConstImageView batch, float* out) {
    fill(cuda, out, batch.n * 2, std::numeric_limits<float>::quiet_NaN());
  }};
  EXPECT_THROW(sobol_attribution(cuda, nan_model, view, {1}, scores.data(), options), Error);
  const Model throwing{2, [](ConstImageView, float*) { throw std::runtime_error("boom"); }};
  EXPECT_THROW(sobol_attribution(cuda, throwing, view, {1}, scores.data(), options), Error);
  // Host memory handed to a CUDA context is refused with a clear message.
  test::expect_error(
      [&] {
        sobol_attribution(cuda, CellReader{4, {2}, 2}.as_model(cuda),
                          {pixels.data(), 1, 1, 16, 16, Layout::nchw}, {1}, scores.data(), options);
      },
      "images.data points to host memory");

  const CellReader reader{4, {2}, 2};
  sobol_attribution(cuda, reader.as_model(cuda), view, {1}, scores.data(), options);
  const std::vector<float> result = test::download(cuda, scores);
  EXPECT_GT(result[2], 0.0f);
  EXPECT_EQ(result[3], 0.0f);
}

}  // namespace
}  // namespace cuxplain
