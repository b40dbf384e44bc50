// CRAFT on the CUDA backend against the host backend: crops, the concept
// fit, concept importance, coefficients and maps, top crops and the
// recursion, with the synthetic layer of tests/common/craft_fixtures.hpp run
// on the host inside the callbacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/craft.hpp>
#include <cuxplain/onnx.hpp>

#include "common/craft_fixtures.hpp"
#include "common/cuda_stream.hpp"
#include "common/fashion_mnist_fixture.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::CraftImages;
using test::QuadrantLayer;
using test::TestStream;

std::vector<std::int64_t> iota_ids(std::int64_t count) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

class CraftCropsCudaVsHost : public ::testing::TestWithParam<test::CropCase> {};

TEST_P(CraftCropsCudaVsHost, SameCrops) {
  CUXPLAIN_REQUIRE_CUDA();
  const test::CropCase p = GetParam();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const CraftImages images = test::random_craft_images(p.n, p.c, p.h, p.w, p.layout, 3);
  const std::int64_t size = p.c * p.h * p.w;
  std::vector<float> host_crops(static_cast<std::size_t>(p.count * size), test::poison());
  craft::extract_crops(host, images.view(), p.patch, p.first, p.count, host_crops.data(), p.resize);

  const Buffer<float> pixels = test::upload(cuda, images.pixels);
  Buffer<float> crops = test::poisoned(cuda, (p.count + 1) * size);
  craft::extract_crops(cuda, {pixels.data(), p.n, p.c, p.h, p.w, p.layout}, p.patch, p.first,
                       p.count, crops.data(), p.resize);
  std::vector<float> cuda_crops = test::download(cuda, crops);
  for (std::int64_t e = p.count * size; e < (p.count + 1) * size; ++e) {
    ASSERT_TRUE(std::isnan(cuda_crops[static_cast<std::size_t>(e)])) << "written past the range at " << e;
  }
  cuda_crops.resize(static_cast<std::size_t>(p.count * size));
  // Every product and sum of the resize is rounded on its own on both
  // backends (detail/upsample.hpp): the same bits.
  for (std::size_t e = 0; e < host_crops.size(); ++e) {
    ASSERT_EQ(cuda_crops[e], host_crops[e]) << "element " << e;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, CraftCropsCudaVsHost,
                         ::testing::ValuesIn(test::with_both_resizes(
                             {test::CropCase{Layout::nchw, 2, 3, 28, 28, 10, 3, 12},
                              test::CropCase{Layout::nhwc, 3, 1, 20, 36, 12, 1, 7},
                              test::CropCase{Layout::nhwc, 2, 3, 24, 17, 7, 0, 24},
                              test::CropCase{Layout::nchw, 2, 1, 16, 16, 16, 0, 2}})),
                         test::crop_case_param_name);

struct Scene {
  TestStream stream;
  Context host = Context::host();
  Context cuda = Context::cuda(stream.get());
  CraftImages images = test::random_craft_images(4, 3, 28, 28, Layout::nchw, 17);
  QuadrantLayer layer{6, 3, 28, 28, true, 19};
  craft::SplitModel host_model = test::quadrant_model(host, layer, test::MixingHead{});
  craft::SplitModel cuda_model = test::quadrant_model(cuda, layer, test::MixingHead{});
  Buffer<float> pixels = test::upload(cuda, images.pixels);
  ConstImageView cuda_view() const { return {pixels.data(), images.n, images.c, images.h, images.w, images.layout}; }
};

TEST(CraftCudaVsHost, Fit) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  craft::CraftOptions options = test::small_craft_options(3);
  options.nmf.tol = 0.0;
  options.nmf.max_iter = 100;
  const craft::Concepts host = craft::fit(s.host, s.host_model, s.images.view(), options);
  const craft::Concepts cuda = craft::fit(s.cuda, s.cuda_model, s.cuda_view(), options);
  EXPECT_EQ(cuda.crops, host.crops);
  EXPECT_EQ(cuda.rank, 3);
  EXPECT_EQ(cuda.features, 6);
  EXPECT_EQ(cuda.grid.stride, host.grid.stride);
  EXPECT_EQ(cuda.nmf.iterations, host.nmf.iterations);
  const std::vector<float> w = test::download(s.cuda, cuda.W), u = test::download(s.cuda, cuda.U);
  test::expect_close(w, test::download(s.host, host.W), 1e-3, "W");
  test::expect_close(u, test::download(s.host, host.U), 1e-3, "U");
  EXPECT_NEAR(cuda.nmf.relative_error, host.nmf.relative_error, 1e-4);
  // The reported error is that of the CUDA factors against A recomputed in double.
  const std::vector<double> a = s.layer.reference_a(s.images, 10, iota_ids(cuda.crops));
  EXPECT_NEAR(cuda.nmf.relative_error, test::relative_residual(a, u, w, cuda.crops, 6, 3), 1e-4);
}

TEST(CraftCudaVsHost, ConceptImportance) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  craft::CraftOptions options = test::small_craft_options(3);
  const craft::Concepts host_concepts = craft::fit(s.host, s.host_model, s.images.view(), options);
  const std::vector<float> bank = test::download(s.host, host_concepts.W);
  const Buffer<float> cuda_bank = test::upload(s.cuda, bank);
  options.batch_size = 24;
  const std::vector<int> targets = {0, 2, 1, 0};

  std::vector<float> host_importances(3, test::poison()), host_per_image(4 * 3, test::poison());
  craft::concept_importance(s.host, s.host_model, bank.data(), 3, s.images.view(), targets,
                            host_importances.data(), options, host_per_image.data());
  Buffer<float> importances = test::poisoned(s.cuda, 3), per_image = test::poisoned(s.cuda, 4 * 3);
  craft::concept_importance(s.cuda, s.cuda_model, cuda_bank.data(), 3, s.cuda_view(), targets,
                            importances.data(), options, per_image.data());
  const std::vector<float> cuda_importances = test::download(s.cuda, importances);
  const std::vector<float> cuda_per_image = test::download(s.cuda, per_image);
  EXPECT_GT(test::l2_norm(cuda_importances), 0.0);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(cuda_importances[k], host_importances[k], 1e-3) << k;
  for (std::size_t e = 0; e < cuda_per_image.size(); ++e) EXPECT_NEAR(cuda_per_image[e], host_per_image[e], 1e-3) << e;
}

TEST(CraftCudaVsHost, UnreadConceptsScoreExactlyZero) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  const craft::SplitModel model = test::quadrant_model(s.cuda, s.layer, test::TwoReadHeads{});
  const Buffer<float> identity = test::upload(s.cuda, test::identity_bank(6));
  craft::CraftOptions options = test::small_craft_options(6);
  Buffer<float> importances = test::poisoned(s.cuda, 6);
  craft::concept_importance(s.cuda, model, identity.data(), 6, s.cuda_view(), {0, 0, 0, 0},
                            importances.data(), options);
  const std::vector<float> st = test::download(s.cuda, importances);
  for (std::size_t k = 0; k < 6; ++k) {
    if (k == 2 || k == 4) {
      EXPECT_GT(st[k], 0.05f) << k;
    } else {
      EXPECT_EQ(st[k], 0.0f) << k;
    }
  }
}

TEST(CraftCudaVsHost, CoefficientsAndMaps) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  craft::CraftOptions options = test::small_craft_options(3);
  const craft::Concepts host_concepts = craft::fit(s.host, s.host_model, s.images.view(), options);
  const std::vector<float> bank = test::download(s.host, host_concepts.W);
  const Buffer<float> cuda_bank = test::upload(s.cuda, bank);
  options.batch_size = 3;  // two batches of images
  options.nmf.tol = 0.0;
  options.nmf.max_iter = 50;

  std::vector<float> host_coefficients(4 * 3 * 4, test::poison());
  craft::concept_coefficients(s.host, s.host_model, bank.data(), 3, s.images.view(),
                              host_coefficients.data(), options);
  Buffer<float> coefficients = test::poisoned(s.cuda, 4 * 3 * 4);
  craft::concept_coefficients(s.cuda, s.cuda_model, cuda_bank.data(), 3, s.cuda_view(),
                              coefficients.data(), options);
  test::expect_close(test::download(s.cuda, coefficients), host_coefficients, 1e-4, "coefficients");

  for (const Interpolation method : {Interpolation::bicubic, Interpolation::nearest}) {
    options.map_interpolation = method;
    std::vector<float> host_maps(4 * 3 * 28 * 28, test::poison());
    craft::concept_maps(s.host, s.host_model, bank.data(), 3, s.images.view(), host_maps.data(),
                        options);
    Buffer<float> maps = test::poisoned(s.cuda, 4 * 3 * 28 * 28);
    craft::concept_maps(s.cuda, s.cuda_model, cuda_bank.data(), 3, s.cuda_view(), maps.data(),
                        options);
    test::expect_close(test::download(s.cuda, maps), host_maps, 1e-4, to_string(method));
  }
}

TEST(CraftCudaVsHost, TopCropsAndSubconcepts) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  // Ties go to the lower crop id on the device's U as on the host's.
  const std::vector<float> column = {0.5f, 0.9f, 0.5f, 0.1f, 0.9f, 0.0f, 0.5f};
  craft::Concepts tied;
  tied.rank = 1;
  tied.features = 2;
  tied.crops = 7;
  tied.grid = craft::crop_grid(28, 28, 10);
  tied.U = test::upload(s.cuda, column);
  tied.W = test::upload(s.cuda, std::vector<float>{1.0f, 1.0f});
  EXPECT_EQ(craft::top_crops(s.cuda, tied, 0, 5), (std::vector<std::int64_t>{1, 4, 0, 2, 6}));

  craft::CraftOptions options = test::small_craft_options(3);
  const craft::Concepts parent = craft::fit(s.cuda, s.cuda_model, s.cuda_view(), options);
  const QuadrantLayer early(5, 3, 28, 28, true, 23);
  const craft::SplitModel early_model = test::quadrant_model(s.cuda, early, test::MixingHead{});
  options.nmf.rank = 2;
  const craft::SubConcepts sub =
      craft::fit_subconcepts(s.cuda, early_model, s.cuda_view(), parent, 1, 15, options);
  EXPECT_EQ(sub.crop_ids, craft::top_crops(s.cuda, parent, 1, 15));
  EXPECT_EQ(sub.concepts.crops, 15);
  const std::vector<double> a = early.reference_a(s.images, 10, sub.crop_ids);
  EXPECT_NEAR(sub.concepts.nmf.relative_error,
              test::relative_residual(a, test::download(s.cuda, sub.concepts.U),
                                      test::download(s.cuda, sub.concepts.W), 15, 5, 2),
              1e-4);
}

TEST(CraftCudaVsHost, HostMemoryOnACudaContextIsRejected) {
  CUXPLAIN_REQUIRE_CUDA();
  Scene s;
  test::expect_error([&] { craft::fit(s.cuda, s.cuda_model, s.images.view(), test::small_craft_options(3)); },
                     "images.data");
  const std::vector<float> bank = test::identity_bank(6);
  Buffer<float> maps = test::poisoned(s.cuda, 4 * 6 * 28 * 28);
  test::expect_error([&] { craft::concept_maps(s.cuda, s.cuda_model, bank.data(), 6, s.cuda_view(), maps.data(), test::small_craft_options(6)); },
                     "W");
  // Still usable.
  const craft::Concepts concepts = craft::fit(s.cuda, s.cuda_model, s.cuda_view(), test::small_craft_options(3));
  EXPECT_GT(test::l2_norm(test::download(s.cuda, concepts.W)), 0.0);
}

TEST(CraftCudaVsHost, EmbeddedModelEndToEnd) {
  // The whole pipeline on the embedded model cut after its second pool, with
  // g and h run by the nn backends of each Context: concepts, importances
  // and maps agree with the host run. The iterations are fixed (tol 0) so
  // both factorizations run the same number of updates.
  CUXPLAIN_REQUIRE_CUDA();
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const std::string model_path = std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx";
  const std::string cut = "/features/features.7/MaxPool_output_0";
  const test::Fixture fixture = test::read_fixture();
  ASSERT_EQ(fixture.count, 64);
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const nn::SplitNetwork host_parts = nn::load_onnx_split(host, model_path, cut);
  const nn::SplitNetwork cuda_parts = nn::load_onnx_split(cuda, model_path, cut);
  const craft::SplitModel host_model = craft::split_model(host, host_parts.g, host_parts.h);
  const craft::SplitModel cuda_model = craft::split_model(cuda, cuda_parts.g, cuda_parts.h);
  const ConstImageView host_images{fixture.pixels.data(), 64, 1, 28, 28, Layout::nchw};
  const Buffer<float> pixels = test::upload(cuda, fixture.pixels);
  const ConstImageView cuda_images{pixels.data(), 64, 1, 28, 28, Layout::nchw};

  craft::CraftOptions options;
  options.patch_size = 10;
  options.nmf.rank = 6;
  options.nmf.tol = 0.0;
  options.nmf.max_iter = 60;
  const craft::Concepts host_concepts = craft::fit(host, host_model, host_images, options);
  const craft::Concepts cuda_concepts = craft::fit(cuda, cuda_model, cuda_images, options);
  EXPECT_EQ(cuda_concepts.crops, 64 * 9);
  test::expect_close(test::download(cuda, cuda_concepts.W), test::download(host, host_concepts.W), 1e-3,
               "W");
  EXPECT_NEAR(cuda_concepts.nmf.relative_error, host_concepts.nmf.relative_error, 1e-4);

  // Importance and maps from the same bank on both backends.
  const std::vector<float> bank = test::download(host, host_concepts.W);
  const Buffer<float> cuda_bank = test::upload(cuda, bank);
  const std::vector<int> targets(fixture.labels.begin(), fixture.labels.begin() + 16);
  const ConstImageView host_first{fixture.pixels.data(), 16, 1, 28, 28, Layout::nchw};
  const ConstImageView cuda_first{pixels.data(), 16, 1, 28, 28, Layout::nchw};
  std::vector<float> host_importances(6, test::poison());
  craft::concept_importance(host, host_model, bank.data(), 6, host_first, targets,
                            host_importances.data(), options);
  Buffer<float> importances = test::poisoned(cuda, 6);
  craft::concept_importance(cuda, cuda_model, cuda_bank.data(), 6, cuda_first, targets,
                            importances.data(), options);
  const std::vector<float> cuda_importances = test::download(cuda, importances);
  EXPECT_GT(test::l2_norm(host_importances), 0.0);
  for (std::size_t k = 0; k < 6; ++k) {
    EXPECT_NEAR(cuda_importances[k], host_importances[k], 1e-3) << "concept " << k;
  }
  std::vector<float> host_maps(16 * 6 * 28 * 28, test::poison());
  craft::concept_maps(host, host_model, bank.data(), 6, host_first, host_maps.data(), options);
  Buffer<float> maps = test::poisoned(cuda, 16 * 6 * 28 * 28);
  craft::concept_maps(cuda, cuda_model, cuda_bank.data(), 6, cuda_first, maps.data(), options);
  test::expect_close(test::download(cuda, maps), host_maps, 1e-3, "maps");
}

}  // namespace
}  // namespace cuxplain
