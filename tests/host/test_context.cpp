// Context, allocator plumbing and the explainers' memory bound, observed
// through a counting allocator plugged into the Context.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <cuxplain/cuxplain.hpp>

#include "common/cell_model.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

class CountingAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, Stream) override {
    live_ += static_cast<std::int64_t>(bytes);
    peak_ = std::max(peak_, live_);
    ++allocations_;
    return std::malloc(bytes == 0 ? 1 : bytes);
  }
  void deallocate(void* ptr, std::size_t bytes, Stream) noexcept override {
    live_ -= static_cast<std::int64_t>(bytes);
    std::free(ptr);
  }
  std::int64_t live() const { return live_; }
  std::int64_t peak() const { return peak_; }
  std::int64_t allocations() const { return allocations_; }

 private:
  std::int64_t live_ = 0, peak_ = 0, allocations_ = 0;
};

TEST(Context, HostBasics) {
  const Context ctx = Context::host();
  EXPECT_TRUE(ctx.is_host());
  EXPECT_EQ(ctx.stream(), nullptr);
  EXPECT_EQ(ctx.device(), -1);
  ctx.synchronize();  // a no-op, must not throw
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
/// one batch of masks, perturbed images and model outputs, the outputs on the
/// design (N (d + 1)) and the staged scores; nothing grows with N * d images.
std::int64_t expected_sobol_bound(std::int64_t n_images, std::int64_t c, std::int64_t h,
                                  std::int64_t w, std::int64_t cells, std::int64_t nb_design,
                                  std::int64_t batch, std::int64_t outputs) {
  const std::int64_t floats = nb_design * 2 * cells + batch * cells + batch * c * h * w +
                              batch * outputs + nb_design * (cells + 1) + n_images * cells;
  return floats * 4 + 64;  // + the non-finite counter and rounding
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

}  // namespace
}  // namespace cuxplain
