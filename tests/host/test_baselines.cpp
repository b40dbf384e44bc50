// The baseline explainers on the host backend: Occlusion on a linear model
// (weights times the occluded values), RISE against its reference and its
// known limit, KernelSHAP against its reference and the exact Shapley values
// of an additive model; errors and memory bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/counting_allocator.hpp"
#include "common/host_model.hpp"
#include "common/test_utils.hpp"
#include "reference/metrics_reference.hpp"

namespace cuxplain {
namespace {

using reference::Images;

Images random_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                     Layout layout, std::uint32_t seed, float lo = 0.1f, float hi = 1.0f) {
  Images images;
  images.data = test::random_uniform(static_cast<std::size_t>(n * c * h * w), seed, lo, hi);
  images.n = n;
  images.c = c;
  images.h = h;
  images.w = w;
  images.layout = layout;
  return images;
}

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want, double tol,
                     const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 0.0) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * scale) << what << " entry " << i;
  }
}

// ---------------------------------------------------------------- occlusion

TEST(Occlusion, PatchCountsAreXpliques) {
  OcclusionOptions options;  // 3 x 3 every 3 pixels
  EXPECT_EQ(occlusion_patches(28, 28, options), 9 * 9);  // ceil(26 / 3) = 9 per axis
  options.patch_h = 5;
  options.stride_h = 2;
  EXPECT_EQ(occlusion_patches(10, 28, options), 3 * 9);  // ceil(6 / 2) = 3
  options.patch_h = 10;
  EXPECT_EQ(occlusion_patches(10, 28, options), 1 * 9);
}

TEST(Occlusion, OnALinearModelEqualsTheWeightsTimesTheOccludedChange) {
  // g(x) = sum_e w_e x_e: one pixel patches give w_p (x_p - v) summed over
  // channels; wider, overlapping patches the sum over the covering patches.
  const Context ctx = Context::host();
  const std::int64_t n = 2, c = 2, h = 7, w = 6;
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    const Images images = random_images(n, c, h, w, layout, 3);
    const std::vector<float> weights = test::random_uniform(c * h * w, 4, -1.0f, 1.0f);
    const Model linear = test::host_model(ctx, 2, test::linear_forward(weights, {0.5f, -1.0f}));
    OcclusionOptions options;
    options.patch_h = options.patch_w = 1;
    options.stride_h = options.stride_w = 1;
    options.occlusion_value = 0.3f;
    std::vector<float> maps(n * h * w, test::poison());
    occlusion(ctx, linear, images.view(), {0, 1}, maps.data(), options);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
          double want = 0.0;
          for (std::int64_t ch = 0; ch < c; ++ch) {
            const std::int64_t e = reference::element_offset(c, h, w, layout, ch, y, x);
            want += (i + 1.0) * weights[e] * (images.at(i, ch, y, x) - 0.3);
          }
          EXPECT_NEAR(maps[(i * h + y) * w + x], want, 2e-6) << i << " " << y << " " << x;
        }
    }
    options.patch_h = 3;
    options.patch_w = 2;
    options.stride_h = 2;
    options.stride_w = 1;
    options.batch_size = 7;
    occlusion(ctx, linear, images.view(), {0, 1}, maps.data(), options);
    expect_near_all(maps, reference::occlusion(linear, images, {0, 1}, options), 1e-6,
                    "overlapping patches");
  }
}

TEST(Occlusion, RejectsPatchesLargerThanTheImage) {
  const Context ctx = Context::host();
  const Images images = random_images(1, 1, 4, 4, Layout::nchw, 1);
  const test::CellReader reader{2, {1}, 2};
  std::vector<float> maps(16);
  OcclusionOptions options;
  options.patch_w = 5;
  test::expect_error([&] { occlusion(ctx, reader.as_model(ctx), images.view(), {0}, maps.data(),
                                     options); },
                     "options.patch_w must be in [1, w = 4], got 5");
  options.patch_w = 2;
  options.stride_h = 0;
  test::expect_error([&] { occlusion(ctx, reader.as_model(ctx), images.view(), {0}, maps.data(),
                                     options); },
                     "options.stride_h must be >= 1, got 0");
}

// --------------------------------------------------------------------- RISE

struct RiseCase {
  Layout layout;
  Convention convention;
  std::int64_t grid;
  std::int64_t batch_size;
};

class RiseAgainstReference : public ::testing::TestWithParam<RiseCase> {};

TEST_P(RiseAgainstReference, Maps) {
  const RiseCase param = GetParam();
  const Context ctx = Context::host();
  const Images images = random_images(2, 3, 13, 11, param.layout, 11);
  const test::CellReader reader{3, {1, 5}, 3};
  RiseOptions options;
  options.nb_samples = 45;
  options.grid_size = param.grid;
  options.preservation_probability = 0.4f;
  options.mask_value = 0.2f;
  options.seed = 9;
  options.convention = param.convention;
  options.batch_size = param.batch_size;
  std::vector<float> maps(2 * 13 * 11, test::poison());
  rise(ctx, reader.as_model(ctx), images.view(), {2, 0}, maps.data(), options);
  expect_near_all(maps, reference::rise(reader.as_model(ctx), images, {2, 0}, options), 1e-5,
                  "maps");
}

INSTANTIATE_TEST_SUITE_P(Cases, RiseAgainstReference,
                         ::testing::Values(RiseCase{Layout::nchw, Convention::paper, 4, 32},
                                           RiseCase{Layout::nhwc, Convention::paper, 3, 7},
                                           RiseCase{Layout::nchw, Convention::xplique, 4, 10},
                                           RiseCase{Layout::nhwc, Convention::xplique, 5, 64}));

TEST(Rise, PaperConventionIsIndependentOfBatchSize) {
  const Context ctx = Context::host();
  const Images images = random_images(2, 1, 12, 12, Layout::nchw, 13);
  const test::CellReader reader{4, {5}, 2};
  std::vector<float> first;
  for (std::int64_t batch : {1, 17, 32, 1000}) {
    RiseOptions options;
    options.nb_samples = 60;
    options.grid_size = 4;
    options.batch_size = batch;
    std::vector<float> maps(2 * 144, test::poison());
    rise(ctx, reader.as_model(ctx), images.view(), {0, 1}, maps.data(), options);
    if (first.empty()) first = maps;
    EXPECT_EQ(maps, first) << batch;
  }
  EXPECT_GT(test::l2_norm(first), 0.0);
}

/// E[g(x o M) M(p)] / p exactly, for g = the mean of the masked image over a
/// region R of an all-ones image (mask value 0): the mean over R of
/// E[M(q) M(p)], with M(p) = sum_a w_a(p) z_a (bilinear weights of the
/// shifted canvas, z_a Bernoulli(prob) independent): E[z_a z_b] = prob^2 +
/// [a = b] prob (1 - prob), averaged over the uniform shifts.
std::vector<double> rise_limit(std::int64_t side, std::int64_t grid, double prob,
                               const std::vector<std::int64_t>& region) {
  const std::int64_t cell = (side + grid - 1) / grid, canvas = (grid + 1) * cell;
  const std::int64_t cells = grid * grid, pixels = side * side;
  std::vector<double> limit(static_cast<std::size_t>(pixels), 0.0);
  for (std::int64_t dy = 0; dy < cell; ++dy)
    for (std::int64_t dx = 0; dx < cell; ++dx) {
      // weights[p][a]: each cell's weight in pixel p for this shift
      std::vector<double> weights(static_cast<std::size_t>(pixels * cells), 0.0);
      for (std::int64_t a = 0; a < cells; ++a) {
        std::vector<float> one(static_cast<std::size_t>(cells), 0.0f);
        one[static_cast<std::size_t>(a)] = 1.0f;
        const std::vector<double> up =
            reference::upsample_mask(one.data(), grid, 1, canvas, canvas, Interpolation::bilinear);
        for (std::int64_t p = 0; p < pixels; ++p) {
          weights[p * cells + a] = up[(p / side + dy) * canvas + p % side + dx];
        }
      }
      for (std::int64_t p = 0; p < pixels; ++p) {
        double sum = 0.0;
        for (std::int64_t q : region) {
          double mean_wp = 0.0, mean_wq = 0.0, overlap = 0.0;
          for (std::int64_t a = 0; a < cells; ++a) {
            mean_wp += weights[p * cells + a];
            mean_wq += weights[q * cells + a];
            overlap += weights[p * cells + a] * weights[q * cells + a];
          }
          sum += prob * prob * mean_wp * mean_wq + prob * (1 - prob) * overlap;
        }
        limit[p] += sum / static_cast<double>(region.size()) / (cell * cell) / prob;
      }
    }
  return limit;
}

TEST(Rise, ConvergesToTheKnownSaliencyAsMasksGrow) {
  const Context ctx = Context::host();
  const std::int64_t side = 12, grid = 3, pixels = side * side;
  std::vector<float> ones(pixels, 1.0f);
  std::vector<std::int64_t> region;
  for (std::int64_t y = 2; y < 6; ++y)
    for (std::int64_t x = 7; x < 11; ++x) region.push_back(y * side + x);
  const Model reads_region = test::host_model(ctx, 1, [&](ConstImageView b, float* out) {
    for (std::int64_t i = 0; i < b.n; ++i) {
      double s = 0.0;
      for (std::int64_t q : region) s += b.data[i * pixels + q];
      out[i] = static_cast<float>(s / region.size());
    }
  });
  const std::vector<double> limit = rise_limit(side, grid, 0.5, region);
  double previous = 1e9;
  for (const std::int64_t masks : {250, 4000, 64000}) {
    RiseOptions options;
    options.nb_samples = masks;
    options.grid_size = grid;
    options.batch_size = 512;
    std::vector<float> maps(pixels, test::poison());
    rise(ctx, reads_region, {ones.data(), 1, 1, side, side, Layout::nchw}, {0}, maps.data(),
         options);
    double worst = 0.0;
    for (std::int64_t p = 0; p < pixels; ++p) worst = std::max(worst, std::fabs(maps[p] - limit[p]));
    // The Monte Carlo error of a pixel is about 1 / sqrt(N) here (g m / p
    // has a standard deviation below 1): the worst of 144 within 4.5 of it.
    EXPECT_LT(worst, 4.5 / std::sqrt(static_cast<double>(masks))) << masks << " masks";
    EXPECT_LT(worst, previous) << masks << " masks";
    previous = worst;
  }
  // The region reads brighter than the far corner in the limit.
  EXPECT_GT(limit[3 * side + 8], limit[11 * side] + 0.1);
}

// --------------------------------------------------------------- KernelSHAP

TEST(KernelShap, MatchesTheReference) {
  if (!kernel_shap_available()) GTEST_SKIP() << "built without LAPACK: kernel_shap not run";
  const Context ctx = Context::host();
  for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
    const Images images = random_images(2, 3, 9, 10, layout, 21);
    const test::CellReader reader{3, {0, 4, 8}, 3};
    KernelShapOptions options;
    options.grid_size = 3;
    options.nb_samples = 120;
    options.batch_size = 50;
    options.seed = 4;
    std::vector<float> scores(2 * 9, test::poison());
    kernel_shap(ctx, reader.as_model(ctx), images.view(), {1, 2}, scores.data(), options);
    expect_near_all(scores, reference::kernel_shap(reader.as_model(ctx), images, {1, 2}, options),
                    1e-4, "scores");
  }
}

TEST(KernelShap, RecoversTheShapleyValuesOfAnAdditiveModel) {
  // g(x) = sum_k a_k mean(cell k): every coalition z gives
  // g = sum_k a_k (z_k m_k + (1 - z_k) b), linear in z, so the fit returns
  // the Shapley values a_k (m_k - b) exactly (up to rounding).
  if (!kernel_shap_available()) GTEST_SKIP() << "built without LAPACK: kernel_shap not run";
  const Context ctx = Context::host();
  const std::int64_t side = 12, grid = 4, cells = 16;
  const Images images = random_images(2, 3, side, side, Layout::nchw, 31);
  const std::vector<float> a = test::random_uniform(cells, 32, -2.0f, 2.0f);
  const auto cell_mean = [&](const float* x, std::int64_t k) {
    double s = 0.0;
    for (std::int64_t ch = 0; ch < 3; ++ch)
      for (std::int64_t y = (k / grid) * 3; y < (k / grid) * 3 + 3; ++y)
        for (std::int64_t xx = (k % grid) * 3; xx < (k % grid) * 3 + 3; ++xx)
          s += x[(ch * side + y) * side + xx];
    return s / 27.0;
  };
  const Model additive = test::host_model(ctx, 1, [&](ConstImageView b, float* out) {
    for (std::int64_t i = 0; i < b.n; ++i) {
      double s = 0.0;
      for (std::int64_t k = 0; k < cells; ++k) s += a[k] * cell_mean(b.data + i * b.image_size(), k);
      out[i] = static_cast<float>(s);
    }
  });
  KernelShapOptions options;
  options.grid_size = grid;
  options.nb_samples = 200;
  std::vector<float> scores(2 * cells, test::poison());
  kernel_shap(ctx, additive, images.view(), {0, 0}, scores.data(), options);
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::int64_t k = 0; k < cells; ++k) {
      // 3 channels: xplique's default baseline is 0.5 (a grey pixel).
      const double want = a[k] * (cell_mean(images.data.data() + i * 3 * side * side, k) - 0.5);
      EXPECT_NEAR(scores[i * cells + k], want, 1e-5) << i << " " << k;
    }
  }
}

TEST(KernelShap, RejectsBadOptions) {
  const Context ctx = Context::host();
  const Images images = random_images(1, 1, 8, 8, Layout::nchw, 1);
  const test::CellReader reader{2, {1}, 2};
  std::vector<float> scores(64);
  KernelShapOptions options;
  options.nb_samples = 1;
  test::expect_error([&] { kernel_shap(ctx, reader.as_model(ctx), images.view(), {0},
                                       scores.data(), options); },
                     "options.nb_samples must be >= 2, got 1");
  options.nb_samples = 10;
  options.grid_size = 1;
  test::expect_error([&] { kernel_shap(ctx, reader.as_model(ctx), images.view(), {0},
                                       scores.data(), options); },
                     "options.grid_size must be >= 2");
  options.grid_size = 2;
  options.mask_interpolation = Interpolation::bilinear;
  test::expect_error([&] { kernel_shap(ctx, reader.as_model(ctx), images.view(), {0},
                                       scores.data(), options); },
                     "options.mask_interpolation must be nearest or nearest_exact, got bilinear");
}

// ------------------------------------------------------------------ memory

template <class Call>
std::int64_t peak_bytes(Call call) {
  Context ctx = Context::host();
  auto counter = std::make_shared<test::CountingAllocator>();
  ctx.set_allocator(counter);
  call(ctx);
  EXPECT_EQ(counter->live(), 0);
  return counter->peak();
}

TEST(BaselineMemory, BoundedByBatchSizeNotBySamplesOrPatches) {
  const std::int64_t side = 24, image_bytes = side * side * 4;
  const Images images = random_images(2, 1, side, side, Layout::nchw, 41);
  const test::CellReader reader{4, {3, 9}, 10};
  const auto rise_peak = [&](std::int64_t samples, std::int64_t batch) {
    return peak_bytes([&](const Context& ctx) {
      RiseOptions options;
      options.nb_samples = samples;
      options.batch_size = batch;
      std::vector<float> maps(2 * side * side);
      rise(ctx, reader.as_model(ctx), images.view(), {0, 1}, maps.data(), options);
    });
  };
  // RISE keeps no per-mask state beyond the batch.
  EXPECT_EQ(rise_peak(2000, 16), rise_peak(200, 16));
  EXPECT_GE(rise_peak(200, 32) - rise_peak(200, 16), 16 * image_bytes);

  const auto occlusion_peak = [&](std::int64_t stride, std::int64_t batch) {
    return peak_bytes([&](const Context& ctx) {
      OcclusionOptions options;
      options.stride_h = options.stride_w = stride;
      options.batch_size = batch;
      std::vector<float> maps(2 * side * side);
      occlusion(ctx, reader.as_model(ctx), images.view(), {0, 1}, maps.data(), options);
    });
  };
  // stride 3 -> 1: 64 -> 484 patches, one score (4 bytes) each per image.
  EXPECT_LE(occlusion_peak(1, 16) - occlusion_peak(3, 16), 2 * (484 - 64) * 4);
  EXPECT_GE(occlusion_peak(3, 32) - occlusion_peak(3, 16), 16 * image_bytes);

  if (kernel_shap_available()) {
    const auto shap_peak = [&](std::int64_t samples) {
      return peak_bytes([&](const Context& ctx) {
        KernelShapOptions options;
        options.nb_samples = samples;
        options.batch_size = 16;
        std::vector<float> scores(2 * 64);
        kernel_shap(ctx, reader.as_model(ctx), images.view(), {0, 1}, scores.data(), options);
      });
    };
    EXPECT_EQ(shap_peak(2000), shap_peak(100));
  }
}

}  // namespace
}  // namespace cuxplain
