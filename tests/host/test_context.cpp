// Context, allocator plumbing and the explainers' memory bound, observed
// through a counting allocator plugged into the Context.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/counting_allocator.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::CountingAllocator;

TEST(Context, HostBasics) {
  const Context ctx = Context::host();
  EXPECT_TRUE(ctx.is_host());
  EXPECT_EQ(ctx.stream(), nullptr);
  EXPECT_EQ(ctx.device(), -1);
  ctx.synchronize();  // a no-op, must not throw
}

// Blocks of 4 MiB and more start on a 2 MiB boundary (the huge pages the
// host allocator advises for them), smaller ones on a cache line; both are
// usable to their last byte.
TEST(Context, HostAllocatorAlignsLargeBlocksToHugePages) {
  const Context ctx = Context::host();
  const std::int64_t large = (std::int64_t{4} << 20) / sizeof(float) + 3, small = 1000;
  Buffer<float> a(ctx, large), b(ctx, small);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % (std::uintptr_t{2} << 20), 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64u, 0u);
  std::fill(a.data(), a.data() + large, 1.5f);
  std::fill(b.data(), b.data() + small, 2.5f);
  EXPECT_EQ(a.data()[large - 1], 1.5f);
  EXPECT_EQ(b.data()[small - 1], 2.5f);
}

TEST(Context, CudaWithoutDeviceThrowsAClearError) {
  if (Context::cuda_available()) GTEST_SKIP() << "a GPU is present: nothing to check here";
  try {
    (void)Context::cuda();
    ADD_FAILURE() << "Context::cuda() succeeded without a device";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Context::cuda()"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Context::host()"), std::string::npos) << e.what();
  }
}

TEST(Context, NullAllocatorIsRefused) {
  Context ctx = Context::host();
  EXPECT_THROW(ctx.set_allocator(nullptr), Error);
}

TEST(Context, CopiesShareTheAllocator) {
  Context ctx = Context::host();
  auto counting = std::make_shared<CountingAllocator>();
  ctx.set_allocator(counting);
  const Context copy = ctx;
  { Buffer<float> buffer(copy, 100); }
  EXPECT_EQ(counting->allocations(), 1);
  EXPECT_EQ(counting->live(), 0);
}

/// Peak temporary memory of sobol_attribution: the design sequence (N x 2d),
/// one batch of masks, perturbed images and model outputs, the target
/// outputs on the designs (N (d + 1) each) of the images one batch spans
/// (the designs run back to back), a non-finite counter per image and the
/// staged scores; nothing grows with N * d images.
std::int64_t expected_sobol_bound(std::int64_t n_images, std::int64_t c, std::int64_t h,
                                  std::int64_t w, std::int64_t cells, std::int64_t nb_design,
                                  std::int64_t batch, std::int64_t outputs) {
  const std::int64_t rows = nb_design * (cells + 1);
  const std::int64_t spanned = std::min(n_images, (batch - 1 + rows - 1) / rows + 1);
  const std::int64_t floats = nb_design * 2 * cells + batch * cells + batch * c * h * w +
                              batch * outputs + spanned * rows + n_images + n_images * cells;
  return floats * 4 + 64;  // + rounding
}

TEST(Context, SobolMemoryIsBoundedByTheBatchNotTheDesign) {
  const std::int64_t c = 3, h = 16, w = 16, grid = 4, cells = grid * grid;
  const std::vector<float> pixels = test::random_uniform(2 * c * h * w, 5, 0.1f, 1.0f);
  const test::CellReader reader{grid, {3}, 2};
  for (std::int64_t nb_design : {32, 256}) {
    for (std::int64_t batch : {16, 64}) {
      Context ctx = Context::host();
      auto counting = std::make_shared<CountingAllocator>();
      ctx.set_allocator(counting);
      SobolOptions options;
      options.grid_size = grid;
      options.nb_design = nb_design;
      options.batch_size = batch;
      std::vector<float> scores(2 * cells, test::poison());
      sobol_attribution(ctx, reader.as_model(ctx), {pixels.data(), 2, c, h, w, Layout::nchw},
                        {0, 1}, scores.data(), options);
      EXPECT_EQ(counting->live(), 0) << "temporaries leaked";
      const std::int64_t bound = expected_sobol_bound(2, c, h, w, cells, nb_design, batch, 2);
      EXPECT_LE(counting->peak(), bound) << "nb_design " << nb_design << " batch " << batch;
      // The perturbed images of the whole design, N (d + 1) of them, are far
      // larger: the batch is what bounds memory.
      const std::int64_t whole_design_images = nb_design * (cells + 1) * c * h * w * 4;
      EXPECT_LT(counting->peak() * 4, whole_design_images);
    }
  }
}

TEST(Context, ThrowingModelLeavesNothingAllocated) {
  Context ctx = Context::host();
  auto counting = std::make_shared<CountingAllocator>();
  ctx.set_allocator(counting);
  const std::vector<float> pixels = test::random_uniform(16 * 16, 5);
  const Model throwing{2, [](ConstImageView, float*) { throw std::runtime_error("no"); }};
  std::vector<float> scores(16);
  SobolOptions sobol;
  sobol.grid_size = 4;
  EXPECT_THROW(sobol_attribution(ctx, throwing, {pixels.data(), 1, 1, 16, 16, Layout::nchw}, {0},
                                 scores.data(), sobol),
               Error);
  HsicOptions hsic;
  hsic.grid_size = 4;
  EXPECT_THROW(hsic_attribution(ctx, throwing, {pixels.data(), 1, 1, 16, 16, Layout::nchw}, {0},
                                scores.data(), hsic),
               Error);
  EXPECT_GT(counting->allocations(), 0);
  EXPECT_EQ(counting->live(), 0);
}

TEST(Context, BatchSizeBeyondTheDesignAllocatesOnlyTheDesignsRows) {
  // batch_size only bounds memory: a batch larger than one image's design
  // (N (d + 1) rows for Sobol, N for HSIC) allocates room for the design's
  // rows and gives the same bits as a batch of exactly those rows.
  const std::int64_t c = 1, h = 16, w = 16, grid = 4, cells = grid * grid;
  const std::vector<float> pixels = test::random_uniform(c * h * w, 9, 0.1f, 1.0f);
  const ConstImageView image{pixels.data(), 1, c, h, w, Layout::nchw};
  const test::CellReader reader{grid, {3, 9}, 2};
  const std::int64_t huge = std::int64_t{1} << 40;
  for (bool sobol : {true, false}) {
    const std::int64_t rows = sobol ? 32 * (cells + 1) : 100;
    std::vector<std::vector<float>> results;
    std::vector<std::int64_t> peaks;
    for (std::int64_t batch : {rows, huge}) {
      Context ctx = Context::host();
      auto counting = std::make_shared<CountingAllocator>();
      ctx.set_allocator(counting);
      std::vector<float> scores(cells, test::poison());
      if (sobol) {
        SobolOptions options;
        options.grid_size = grid;
        options.batch_size = batch;
        sobol_attribution(ctx, reader.as_model(ctx), image, {1}, scores.data(), options);
      } else {
        HsicOptions options;
        options.grid_size = grid;
        options.nb_design = rows;
        options.batch_size = batch;
        hsic_attribution(ctx, reader.as_model(ctx), image, {1}, scores.data(), options);
      }
      EXPECT_GT(test::l2_norm(scores), 0.0);
      results.push_back(scores);
      peaks.push_back(counting->peak());
    }
    EXPECT_EQ(results[1], results[0]) << (sobol ? "sobol" : "hsic");
    EXPECT_EQ(peaks[1], peaks[0]) << (sobol ? "sobol" : "hsic");
    EXPECT_LT(peaks[1], rows * c * h * w * 4 * 2) << (sobol ? "sobol" : "hsic");
  }
}

TEST(Context, AllocationFailuresNameTheBufferTheBytesAndTheOption) {
  const std::vector<float> pixels = test::random_uniform(16 * 16, 5, 0.1f, 1.0f);
  const ConstImageView image{pixels.data(), 1, 1, 16, 16, Layout::nchw};
  const test::CellReader reader{4, {3}, 2};
  std::vector<float> scores(16, 7.0f);
  Context ctx = Context::host();
  // A design whose outputs alone need 2^40 (d + 1) floats.
  SobolOptions sobol;
  sobol.grid_size = 4;
  sobol.nb_design = std::int64_t{1} << 40;
  std::string message = test::error_message(
      [&] { sobol_attribution(ctx, reader.as_model(ctx), image, {0}, scores.data(), sobol); });
  test::expect_mentions(message, "options.nb_design");
  test::expect_mentions(message, "bytes");
  HsicOptions hsic;
  hsic.grid_size = 4;
  hsic.nb_design = std::int64_t{1} << 40;
  test::expect_error(
      [&] { hsic_attribution(ctx, reader.as_model(ctx), image, {0}, scores.data(), hsic); },
      "options.nb_design");
  // An allocator that runs out while the perturbed batch is allocated.
  auto limited = std::make_shared<CountingAllocator>(std::int64_t{1} << 20);
  ctx.set_allocator(limited);
  sobol.nb_design = 256;
  sobol.batch_size = 4096;  // 4096 x 256 floats of perturbed images: 4 MiB
  message = test::error_message(
      [&] { sobol_attribution(ctx, reader.as_model(ctx), image, {0}, scores.data(), sobol); });
  test::expect_mentions(message, "perturbed images");
  test::expect_mentions(message, "options.batch_size");
  test::expect_mentions(message, "4194304 bytes");
  EXPECT_GT(limited->refused(), 0);
  EXPECT_EQ(limited->live(), 0);
  EXPECT_TRUE(std::all_of(scores.begin(), scores.end(), [](float v) { return v == 7.0f; }));
  // Any other refused allocation still arrives as a cuxplain::Error.
  test::expect_error([&] { Buffer<float> too_big(ctx, std::int64_t{1} << 30); }, "bytes");
  test::expect_error([&] { Buffer<double> overflowing(ctx, std::int64_t{1} << 62); },
                     "bytes");
  // And the library still works with room to spare.
  ctx.set_allocator(std::make_shared<CountingAllocator>());
  sobol.batch_size = 256;
  std::vector<float> fresh(16, test::poison());
  sobol_attribution(ctx, reader.as_model(ctx), image, {0}, fresh.data(), sobol);
  EXPECT_GT(test::l2_norm(fresh), 0.0);
}

}  // namespace
}  // namespace cuxplain
