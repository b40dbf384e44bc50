// The perturbation family on the CUDA backend against the host backend, on
// the cases of tests/host/test_perturbation.cpp. Both backends evaluate the
// same detail/perturbation.hpp math with every rounding explicit (fused
// multiply-adds, correctly rounded divisions, sums in the same order), so the
// outputs must be bit-identical. Work runs on a non-blocking stream so that a
// kernel launched on another stream would be caught racing the copies back.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cuda_stream.hpp"
#include "common/perturbation_cases.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::BlurCase;
using test::describe;
using test::kNumMasks;
using test::kPerturbShapes;
using test::make_inputs;
using test::name_of;
using test::params_for;
using test::PerturbInputs;
using test::PerturbParam;
using test::PerturbShape;

/// Bitwise equality of two arrays (floats compared as bits, so NaN poison
/// left in an unwritten element fails), naming the first difference.
template <class T>
::testing::AssertionResult same_bits(const std::vector<T>& cuda, const std::vector<T>& host,
                                     const std::string& what) {
  if (cuda.size() != host.size()) {
    return ::testing::AssertionFailure()
           << what << ": size " << cuda.size() << " vs " << host.size();
  }
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < cuda.size(); ++i) {
    if (std::memcmp(&cuda[i], &host[i], sizeof(T)) != 0 && bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << cuda.size() << " elements differ; first at " << first
         << ": cuda " << +cuda[first] << ", host " << +host[first];
}

/// A CUDA context on a fresh non-blocking stream (never the legacy default
/// stream, whose implicit synchronization would hide stream mistakes), made
/// on first use so that a skipped test makes no CUDA call.
class CudaTest : public ::testing::Test {
 protected:
  Context cuda() {
    if (!stream_) stream_.emplace();
    return Context::cuda(stream_->get());
  }

 private:
  std::optional<test::TestStream> stream_;
};

/// perturb on both backends with the same inputs; returns {cuda, host} outputs
/// as raw element bits.
template <class T>
std::pair<std::vector<T>, std::vector<T>> run_both(const Context& cuda, const PerturbShape& s,
                                                   Layout layout, const PerturbationParams& p,
                                                   const PerturbInputs& in, std::int64_t num_masks,
                                                   DType type, T poison) {
  const std::size_t count = static_cast<std::size_t>(num_masks * s.c * s.h * s.w);
  const Buffer<float> image = test::upload(cuda, in.image);
  const Buffer<float> masks = test::upload(cuda, in.masks);
  const Buffer<float> blurred = test::upload(cuda, in.blurred);
  const Buffer<T> out = test::upload(cuda, std::vector<T>(count, poison));
  perturb(cuda, {image.data(), 1, s.c, s.h, s.w, layout}, masks.data(), num_masks, p,
          blurred.data(), out.data(), type);
  std::vector<T> from_cuda = test::download(cuda, out);

  std::vector<T> from_host(count, poison);
  perturb(Context::host(), {in.image.data(), 1, s.c, s.h, s.w, layout}, in.masks.data(), num_masks,
          p, in.blurred.data(), from_host.data(), type);
  return {std::move(from_cuda), std::move(from_host)};
}

// ---------------------------------------------------------------- perturb --

class PerturbCudaVsHost : public CudaTest, public ::testing::WithParamInterface<PerturbParam> {};

TEST_P(PerturbCudaVsHost, BitIdenticalOnEveryShape) {
  CUXPLAIN_REQUIRE_CUDA();
  const auto [kind, layout, interpolation, per_channel] = GetParam();
  const Context ctx = cuda();
  std::uint32_t seed = 100;
  for (const PerturbShape& s : kPerturbShapes) {
    const PerturbationParams p = params_for(kind, interpolation, per_channel, s.grid);
    const PerturbInputs in = make_inputs(s, p, kNumMasks, seed += 10);
    const auto [from_cuda, from_host] =
        run_both<float>(ctx, s, layout, p, in, kNumMasks, DType::f32, test::poison());
    EXPECT_GT(test::l2_norm(from_cuda), 0.0) << describe(s, layout, p);
    EXPECT_TRUE(same_bits(from_cuda, from_host, describe(s, layout, p)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, PerturbCudaVsHost, test::all_perturb_params(),
                         test::perturb_param_name);

class PerturbCuda : public CudaTest {};

TEST_F(PerturbCuda, HalfOutputsBitIdentical) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  std::uint32_t seed = 500;
  for (DType type : {DType::f16, DType::bf16}) {
    for (const auto& [s, layout, p] : test::half_output_cases()) {
      const PerturbInputs in = make_inputs(s, p, kNumMasks, seed += 10);
      const auto [from_cuda, from_host] = run_both<std::uint16_t>(
          ctx, s, layout, p, in, kNumMasks, type, 0xffff);  // 0xffff: NaN in both formats
      const std::string what =
          std::string(type == DType::f16 ? "f16 " : "bf16 ") + describe(s, layout, p);
      EXPECT_TRUE(same_bits(from_cuda, from_host, what));
    }
  }
}

TEST_F(PerturbCuda, MoreMasksThanTheGridHoldsLoopOverMasks) {
  // 70000 masks exceed the 65535 blocks of the grid's y dimension: threads
  // stride over masks.
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  const PerturbShape s{2, 5, 6, 2};
  const std::int64_t num_masks = 70000;
  for (Interpolation mode : {Interpolation::nearest_exact, Interpolation::bilinear}) {
    const PerturbationParams p = params_for(Perturbation::blurring, mode, true, s.grid);
    const PerturbInputs in = make_inputs(s, p, num_masks, 77);
    const auto [from_cuda, from_host] =
        run_both<float>(ctx, s, Layout::nhwc, p, in, num_masks, DType::f32, test::poison());
    EXPECT_TRUE(same_bits(from_cuda, from_host, describe(s, Layout::nhwc, p)));
  }
}

TEST_F(PerturbCuda, OutputsPast2To31ElementsAreIndexedIn64Bits) {
  // 14300 f16 copies of a 224 x 224 x 3 image: 2.15e9 elements (4.3 GB), so
  // the last masks' elements sit past 2^31. Compare the first and the last
  // masks with the host computing just those.
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  const PerturbShape s{3, 224, 224, 8};
  const std::int64_t num_masks = 14300;
  const std::int64_t image_size = s.c * s.h * s.w;
  ASSERT_GT(num_masks * image_size, std::int64_t{1} << 31);
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    const PerturbationParams p =
        params_for(Perturbation::inpainting, Interpolation::nearest_exact, false, s.grid);
    const PerturbInputs in = make_inputs(s, p, num_masks, 31);
    Buffer<std::uint16_t> out;
    try {
      out = Buffer<std::uint16_t>(ctx, num_masks * image_size);
    } catch (const Error& e) {
      GTEST_SKIP() << "cannot allocate 4.3 GB on this device: " << e.what();
    }
    const Buffer<float> image = test::upload(ctx, in.image);
    const Buffer<float> masks = test::upload(ctx, in.masks);
    perturb(ctx, {image.data(), 1, s.c, s.h, s.w, layout}, masks.data(), num_masks, p, nullptr,
            out.data(), DType::f16);

    const std::int64_t checked = 4;
    for (std::int64_t first : {std::int64_t{0}, num_masks - checked}) {
      std::vector<std::uint16_t> from_cuda(static_cast<std::size_t>(checked * image_size));
      copy_to_host(ctx, from_cuda.data(), out.data() + first * image_size,
                   from_cuda.size() * sizeof(std::uint16_t));
      std::vector<std::uint16_t> from_host(from_cuda.size(), 0xffff);
      perturb(Context::host(), {in.image.data(), 1, s.c, s.h, s.w, layout},
              in.masks.data() + first * mask_cells(p, s.c), checked, p, nullptr, from_host.data(),
              DType::f16);
      EXPECT_TRUE(same_bits(from_cuda, from_host,
                            std::string(name_of(layout)) + " masks from " + std::to_string(first)));
    }
  }
}

TEST_F(PerturbCuda, HostPointersAreRejectedNamingTheArgument) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  const std::vector<float> image(3 * 8 * 8, 0.5f), masks(4 * 4, 0.5f);
  const Buffer<float> device_image = test::upload(ctx, image);
  const Buffer<float> device_masks = test::upload(ctx, masks);
  Buffer<float> out(ctx, 3 * 8 * 8);
  PerturbationParams p;
  p.grid_size = 4;
  const auto message = [&](const ConstImageView& v, const float* m, float* o) {
    return test::error_message([&] { perturb(ctx, v, m, 1, p, nullptr, o); });
  };
  test::expect_mentions(
      message({image.data(), 1, 3, 8, 8, Layout::nchw}, device_masks.data(), out.data()),
      "image.data");
  test::expect_mentions(
      message({device_image.data(), 1, 3, 8, 8, Layout::nchw}, masks.data(), out.data()),
      "masks");
  std::vector<float> host_out(image.size());
  test::expect_mentions(
      message({device_image.data(), 1, 3, 8, 8, Layout::nchw}, device_masks.data(),
              host_out.data()),
      "out");
}

// --------------------------------------------------------------- box blur --

/// The host test's cases and five 224 x 224 images: a grid of many blocks.
std::vector<BlurCase> blur_cases() {
  std::vector<BlurCase> cases = test::kBlurCases;
  cases.push_back({5, 3, 224, 224, 10});
  return cases;
}

class BoxBlurCudaVsHost : public CudaTest, public ::testing::WithParamInterface<Layout> {};

TEST_P(BoxBlurCudaVsHost, BitIdentical) {
  CUXPLAIN_REQUIRE_CUDA();
  const Layout layout = GetParam();
  const Context ctx = cuda();
  std::uint32_t seed = 900;
  for (const BlurCase& b : blur_cases()) {
    const auto images =
        test::random_uniform(static_cast<std::size_t>(b.n * b.c * b.h * b.w), ++seed);
    const std::string what = describe(b, layout);

    const Buffer<float> device_images = test::upload(ctx, images);
    const Buffer<float> out = test::poisoned(ctx, static_cast<std::int64_t>(images.size()));
    box_blur(ctx, {device_images.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {out.data(), b.n, b.c, b.h, b.w, layout});
    const std::vector<float> from_cuda = test::download(ctx, out);

    std::vector<float> from_host(images.size(), test::poison());
    box_blur(Context::host(), {images.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {from_host.data(), b.n, b.c, b.h, b.w, layout});
    EXPECT_GT(test::l2_norm(from_cuda), 0.0) << what;
    EXPECT_TRUE(same_bits(from_cuda, from_host, what));

    // In place on the device.
    Buffer<float> in_place = test::upload(ctx, images);
    box_blur(ctx, {in_place.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {in_place.data(), b.n, b.c, b.h, b.w, layout});
    EXPECT_TRUE(same_bits(test::download(ctx, in_place), from_host, what + " in place"));
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BoxBlurCudaVsHost, ::testing::Values(Layout::nchw, Layout::nhwc),
                         [](const ::testing::TestParamInfo<Layout>& info) {
                           return std::string(name_of(info.param));
                         });

}  // namespace
}  // namespace cuxplain
