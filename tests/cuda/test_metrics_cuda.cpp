// The metrics and the baselines on the CUDA backend against the host
// backend, and cuRAND's device generator against detail/philox.hpp. The
// models copy each batch to the host and compute there, so both backends
// see the same outputs for the same perturbed images: where the perturbed
// images are bit-identical (every mask and perturbation here), so are the
// curves and correlations.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>
#include <curand.h>

#include <cmath>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/detail/philox.hpp>

#include "common/cell_model.hpp"
#include "common/cuda_stream.hpp"
#include "common/host_model.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

struct Data {
  std::vector<float> images, explanations;
  std::int64_t n = 3, c = 3, h = 14, w = 12;
  Layout layout = Layout::nhwc;
  ConstImageView host_images() const { return {images.data(), n, c, h, w, layout}; }
  ConstImageView host_explanations() const {
    return {explanations.data(), n, 1, h, w, Layout::nchw};
  }
};

Data make_data() {
  Data d;
  d.images = test::random_uniform(static_cast<std::size_t>(d.n * d.c * d.h * d.w), 3, 0.1f, 1.0f);
  d.explanations = test::random_uniform(static_cast<std::size_t>(d.n * d.h * d.w), 4, -1.0f, 1.0f);
  for (float& v : d.explanations) v = std::round(v * 4.0f) / 4.0f;  // ties
  return d;
}

struct OnDevice {
  Buffer<float> images, explanations;
  ConstImageView images_view, explanations_view;
};

OnDevice upload(const Context& cuda, const Data& d) {
  OnDevice out;
  out.images = test::upload(cuda, d.images);
  out.explanations = test::upload(cuda, d.explanations);
  out.images_view = {out.images.data(), d.n, d.c, d.h, d.w, d.layout};
  out.explanations_view = {out.explanations.data(), d.n, 1, d.h, d.w, Layout::nchw};
  return out;
}

const test::CellReader kReader{3, {0, 4, 8}, 4};
const std::vector<int> kTargets = {1, 3, 0};

TEST(MetricsCuda, DeletionAndInsertionMatchTheHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const test::TestStream stream;
  const Context host = Context::host(), cuda = Context::cuda(stream.get());
  const Data d = make_data();
  const OnDevice dev = upload(cuda, d);
  for (const Convention convention : {Convention::paper, Convention::xplique}) {
    for (const bool is_deletion : {true, false}) {
      CausalOptions options;
      options.steps = 7;
      options.convention = convention;
      options.activation = OutputActivation::softmax;
      options.batch_size = 5;
      const auto run = is_deletion ? deletion : insertion;
      std::vector<float> curves(d.n * 8, test::poison()), aucs(d.n, test::poison());
      run(host, kReader.as_model(host), d.host_images(), kTargets, d.host_explanations(),
          curves.data(), aucs.data(), options);
      Buffer<float> dc = test::poisoned(cuda, d.n * 8), da = test::poisoned(cuda, d.n);
      run(cuda, kReader.as_model(cuda), dev.images_view, kTargets, dev.explanations_view,
          dc.data(), da.data(), options);
      // Same perturbed images; the softmax's expf may differ in an ulp.
      test::expect_close(test::download(cuda, dc), curves, 1e-6, "curves");
      test::expect_close(test::download(cuda, da), aucs, 1e-6, "aucs");
    }
  }
}

TEST(MetricsCuda, MuFidelityMatchesTheHostExactly) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host(), cuda = Context::cuda();
  const Data d = make_data();
  const OnDevice dev = upload(cuda, d);
  for (const Convention convention : {Convention::paper, Convention::xplique}) {
    MuFidelityOptions options;
    options.grid_size = 5;
    options.nb_samples = 40;
    options.convention = convention;
    options.batch_size = 90;
    std::vector<float> rho(d.n, test::poison());
    mu_fidelity(host, kReader.as_model(host), d.host_images(), kTargets, d.host_explanations(),
                rho.data(), options);
    Buffer<float> dr = test::poisoned(cuda, d.n);
    mu_fidelity(cuda, kReader.as_model(cuda), dev.images_view, kTargets, dev.explanations_view,
                dr.data(), options);
    EXPECT_GT(test::l2_norm(rho), 0.0);
    EXPECT_EQ(test::download(cuda, dr), rho) << to_string(convention);
  }
}

TEST(MetricsCuda, AverageScoresComplexityAndStabilityMatchTheHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host(), cuda = Context::cuda();
  const Data d = make_data();
  const OnDevice dev = upload(cuda, d);
  AverageScoreOptions options;
  options.activation = OutputActivation::sigmoid;
  std::vector<float> drop(d.n), increase(d.n), gain(d.n);
  average_drop_increase_gain(host, kReader.as_model(host), d.host_images(), kTargets,
                             d.host_explanations(), drop.data(), increase.data(), gain.data(),
                             options);
  Buffer<float> dd = test::poisoned(cuda, d.n), di = test::poisoned(cuda, d.n),
                dg = test::poisoned(cuda, d.n);
  average_drop_increase_gain(cuda, kReader.as_model(cuda), dev.images_view, kTargets,
                             dev.explanations_view, dd.data(), di.data(), dg.data(), options);
  test::expect_close(test::download(cuda, dd), drop, 1e-5, "drop");
  EXPECT_EQ(test::download(cuda, di), increase);

  std::vector<float> entropy(d.n), gini(d.n);
  complexity(host, d.host_explanations(), entropy.data());
  sparseness(host, d.host_explanations(), gini.data());
  Buffer<float> de = test::poisoned(cuda, d.n), dgi = test::poisoned(cuda, d.n);
  complexity(cuda, dev.explanations_view, de.data());
  sparseness(cuda, dev.explanations_view, dgi.data());
  test::expect_close(test::download(cuda, de), entropy, 1e-6, "entropy");
  test::expect_close(test::download(cuda, dgi), gini, 1e-6, "gini");

  // An explainer on either backend: the pixel sums of the image, squared.
  const auto explainer_on = [&](const Context& ctx) {
    return Explainer([&d, ctx](ConstImageView x, HostSpan<const int>, float* out) {
      std::vector<float> pixels(static_cast<std::size_t>(x.size()));
      copy_to_host(ctx, pixels.data(), x.data, pixels.size() * sizeof(float));
      std::vector<float> result(static_cast<std::size_t>(x.n * d.h * d.w));
      for (std::int64_t i = 0; i < x.n; ++i)
        for (std::int64_t p = 0; p < d.h * d.w; ++p) {
          float s = 0.0f;
          for (std::int64_t ch = 0; ch < d.c; ++ch) s += pixels[(i * d.h * d.w + p) * d.c + ch];
          result[i * d.h * d.w + p] = s * s;
        }
      copy_to_device(ctx, out, result.data(), result.size() * sizeof(float));
    });
  };
  StabilityOptions stability;
  stability.nb_samples = 9;
  stability.batch_size = 4;
  std::vector<float> distances(d.n);
  average_stability(host, explainer_on(host), d.h * d.w, d.host_images(), kTargets, nullptr,
                    distances.data(), stability);
  Buffer<float> ds = test::poisoned(cuda, d.n);
  average_stability(cuda, explainer_on(cuda), d.h * d.w, dev.images_view, kTargets, nullptr,
                    ds.data(), stability);
  test::expect_close(test::download(cuda, ds), distances, 1e-6, "stability");
}

TEST(BaselinesCuda, OcclusionRiseAndKernelShapMatchTheHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context host = Context::host(), cuda = Context::cuda();
  const Data d = make_data();
  const OnDevice dev = upload(cuda, d);
  const std::int64_t pixels = d.h * d.w;

  OcclusionOptions occlusion_options;
  occlusion_options.patch_h = 4;
  occlusion_options.stride_w = 2;
  std::vector<float> maps(d.n * pixels);
  occlusion(host, kReader.as_model(host), d.host_images(), kTargets, maps.data(),
            occlusion_options);
  Buffer<float> dm = test::poisoned(cuda, d.n * pixels);
  occlusion(cuda, kReader.as_model(cuda), dev.images_view, kTargets, dm.data(),
            occlusion_options);
  EXPECT_EQ(test::download(cuda, dm), maps);

  for (const Convention convention : {Convention::paper, Convention::xplique}) {
    RiseOptions rise_options;
    rise_options.nb_samples = 300;
    rise_options.grid_size = 5;
    rise_options.convention = convention;
    rise(host, kReader.as_model(host), d.host_images(), kTargets, maps.data(), rise_options);
    rise(cuda, kReader.as_model(cuda), dev.images_view, kTargets, dm.data(), rise_options);
    EXPECT_GT(test::l2_norm(maps), 0.0);
    EXPECT_EQ(test::download(cuda, dm), maps) << to_string(convention);
  }

  if (kernel_shap_available()) {
    KernelShapOptions shap;
    shap.grid_size = 4;
    shap.nb_samples = 150;
    std::vector<float> scores(d.n * 16);
    kernel_shap(host, kReader.as_model(host), d.host_images(), kTargets, scores.data(), shap);
    Buffer<float> dsc = test::poisoned(cuda, d.n * 16);
    kernel_shap(cuda, kReader.as_model(cuda), dev.images_view, kTargets, dsc.data(), shap);
    EXPECT_EQ(test::download(cuda, dsc), scores);
  }
}

TEST(BaselinesCuda, ErrorsLeaveTheContextUsable) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  const Data d = make_data();
  const OnDevice dev = upload(cuda, d);
  Buffer<float> maps = test::poisoned(cuda, d.n * d.h * d.w);
  const Model throwing{4, [](ConstImageView, float*) { throw std::runtime_error("boom"); }};
  EXPECT_THROW(rise(cuda, throwing, dev.images_view, kTargets, maps.data()), Error);
  test::expect_error(
      [&] { occlusion(cuda, kReader.as_model(cuda), d.host_images(), kTargets, maps.data()); },
      "images.data points to host memory");
  OcclusionOptions options;
  occlusion(cuda, kReader.as_model(cuda), dev.images_view, kTargets, maps.data(), options);
  EXPECT_GT(test::l2_norm(test::download(cuda, maps)), 0.0);
}

TEST(CurandPhiloxCuda, DeviceGeneratorGivesTheSameBits) {
  CUXPLAIN_REQUIRE_CUDA();
  curandGenerator_t generator = nullptr;
  ASSERT_EQ(curandCreateGenerator(&generator, CURAND_RNG_PSEUDO_PHILOX4_32_10),
            CURAND_STATUS_SUCCESS);
  const std::size_t count = 1 << 20;
  unsigned int* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, count * sizeof(unsigned int)), cudaSuccess);
  for (const std::uint64_t seed : {0ull, 99ull}) {
    for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{5}, detail::kRegionShifts}) {
      ASSERT_EQ(curandSetPseudoRandomGeneratorSeed(generator, seed), CURAND_STATUS_SUCCESS);
      ASSERT_EQ(curandSetGeneratorOffset(generator, offset), CURAND_STATUS_SUCCESS);
      ASSERT_EQ(curandGenerate(generator, device, count), CURAND_STATUS_SUCCESS);
      std::vector<unsigned int> bits(count);
      ASSERT_EQ(cudaMemcpy(bits.data(), device, count * sizeof(unsigned int),
                           cudaMemcpyDeviceToHost),
                cudaSuccess);
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(bits[i], detail::curand_philox_bits(seed, offset + i))
            << seed << " " << offset << " " << i;
      }
    }
  }
  cudaFree(device);
  curandDestroyGenerator(generator);
}

}  // namespace
}  // namespace cuxplain
