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
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <cuxplain/cuxplain.hpp>

#include "common/cuda_stream.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

struct Shape {
  std::int64_t c, h, w, grid;
};

const std::vector<Shape> kShapes = {
    {3, 32, 32, 8},  {3, 30, 30, 8}, {3, 24, 40, 8}, {2, 7, 13, 3},   {3, 24, 40, 1},
    {3, 16, 16, 16}, {1, 7, 13, 7},  {2, 13, 7, 5},  {2, 33, 35, 18},
};

constexpr std::int64_t kNumMasks = 3;

const char* name_of(Layout layout) { return layout == Layout::nchw ? "nchw" : "nhwc"; }

std::string describe(const Shape& s, Layout layout, const PerturbationParams& p) {
  std::ostringstream out;
  out << to_string(p.kind) << " " << to_string(p.interpolation) << " " << name_of(layout)
      << (p.per_channel ? " per-channel" : "") << " c=" << s.c << " h=" << s.h << " w=" << s.w
      << " g=" << s.grid << " baseline=" << p.baseline << " sigma=" << p.sigma;
  return out.str();
}

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

struct Inputs {
  std::vector<float> image;
  std::vector<float> masks;
  std::vector<float> blurred;
};

Inputs make_inputs(const Shape& s, const PerturbationParams& p, std::int64_t num_masks,
                   std::uint32_t seed) {
  const auto image_size = static_cast<std::size_t>(s.c * s.h * s.w);
  return {test::random_uniform(image_size, seed),
          test::random_uniform(static_cast<std::size_t>(num_masks * mask_cells(p, s.c)), seed + 1),
          test::random_uniform(image_size, seed + 2)};
}

/// perturb on both backends with the same inputs; returns {cuda, host} outputs
/// as raw element bits.
template <class T>
std::pair<std::vector<T>, std::vector<T>> run_both(const Context& cuda, const Shape& s,
                                                   Layout layout, const PerturbationParams& p,
                                                   const Inputs& in, std::int64_t num_masks,
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

PerturbationParams params_for(Perturbation kind, Interpolation interpolation, bool per_channel,
                              std::int64_t grid) {
  PerturbationParams p;
  p.kind = kind;
  p.interpolation = interpolation;
  p.per_channel = per_channel;
  p.grid_size = grid;
  p.baseline = 0.25f;
  p.sigma = 1.5f;
  return p;
}

// ---------------------------------------------------------------- perturb --

using PerturbParam = std::tuple<Perturbation, Layout, Interpolation, bool>;

class PerturbCudaVsHost : public CudaTest, public ::testing::WithParamInterface<PerturbParam> {};

TEST_P(PerturbCudaVsHost, BitIdenticalOnEveryShape) {
  CUXPLAIN_REQUIRE_CUDA();
  const auto [kind, layout, interpolation, per_channel] = GetParam();
  const Context ctx = cuda();
  std::uint32_t seed = 100;
  for (const Shape& s : kShapes) {
    const PerturbationParams p = params_for(kind, interpolation, per_channel, s.grid);
    const Inputs in = make_inputs(s, p, kNumMasks, seed += 10);
    const auto [from_cuda, from_host] =
        run_both<float>(ctx, s, layout, p, in, kNumMasks, DType::f32, test::poison());
    EXPECT_GT(test::l2_norm(from_cuda), 0.0) << describe(s, layout, p);
    EXPECT_TRUE(same_bits(from_cuda, from_host, describe(s, layout, p)));
  }
}

std::string perturb_param_name(const ::testing::TestParamInfo<PerturbParam>& info) {
  const auto [kind, layout, interpolation, per_channel] = info.param;
  return std::string(to_string(kind)) + "_" + name_of(layout) + "_" + to_string(interpolation) +
         (per_channel ? "_per_channel" : "");
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, PerturbCudaVsHost,
    ::testing::Combine(::testing::Values(Perturbation::inpainting, Perturbation::blurring,
                                         Perturbation::amplitude),
                       ::testing::Values(Layout::nchw, Layout::nhwc),
                       ::testing::Values(Interpolation::nearest, Interpolation::nearest_exact,
                                         Interpolation::bilinear),
                       ::testing::Bool()),
    perturb_param_name);

class PerturbCuda : public CudaTest {};

TEST_F(PerturbCuda, HalfOutputsBitIdentical) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  // Ordinary values, outputs past the f16 range (huge baseline) and in the
  // subnormal range (tiny sigma).
  const struct {
    Perturbation kind;
    float baseline;
    float sigma;
  } cases[] = {{Perturbation::inpainting, 0.25f, 1.5f},
               {Perturbation::blurring, 0.25f, 1.5f},
               {Perturbation::amplitude, 0.25f, 1.5f},
               {Perturbation::inpainting, 7e4f, 1.5f},
               {Perturbation::amplitude, 0.25f, 2e-5f}};
  std::uint32_t seed = 500;
  for (DType type : {DType::f16, DType::bf16}) {
    for (const Shape& s : {Shape{3, 24, 40, 8}, Shape{2, 7, 13, 3}}) {
      for (const auto& hc : cases) {
        for (Layout layout : {Layout::nchw, Layout::nhwc}) {
          for (Interpolation mode :
               {Interpolation::nearest, Interpolation::nearest_exact, Interpolation::bilinear}) {
            for (bool per_channel : {false, true}) {
              PerturbationParams p = params_for(hc.kind, mode, per_channel, s.grid);
              p.baseline = hc.baseline;
              p.sigma = hc.sigma;
              const Inputs in = make_inputs(s, p, kNumMasks, seed += 10);
              const auto [from_cuda, from_host] = run_both<std::uint16_t>(
                  ctx, s, layout, p, in, kNumMasks, type, 0xffff);  // 0xffff: NaN in both formats
              const std::string what =
                  std::string(type == DType::f16 ? "f16 " : "bf16 ") + describe(s, layout, p);
              EXPECT_TRUE(same_bits(from_cuda, from_host, what));
            }
          }
        }
      }
    }
  }
}

TEST_F(PerturbCuda, MoreMasksThanTheGridHoldsLoopOverMasks) {
  // 70000 masks exceed the 65535 blocks of the grid's y dimension: threads
  // stride over masks.
  CUXPLAIN_REQUIRE_CUDA();
  const Context ctx = cuda();
  const Shape s{2, 5, 6, 2};
  const std::int64_t num_masks = 70000;
  for (Interpolation mode : {Interpolation::nearest_exact, Interpolation::bilinear}) {
    const PerturbationParams p = params_for(Perturbation::blurring, mode, true, s.grid);
    const Inputs in = make_inputs(s, p, num_masks, 77);
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
  const Shape s{3, 224, 224, 8};
  const std::int64_t num_masks = 14300;
  const std::int64_t image_size = s.c * s.h * s.w;
  ASSERT_GT(num_masks * image_size, std::int64_t{1} << 31);
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    const PerturbationParams p =
        params_for(Perturbation::inpainting, Interpolation::nearest_exact, false, s.grid);
    const Inputs in = make_inputs(s, p, num_masks, 31);
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

struct BlurCase {
  std::int64_t n, c, h, w, k;
};

const std::vector<BlurCase> kBlurCases = {
    {2, 3, 24, 40, 10}, {1, 3, 32, 32, 3}, {1, 2, 7, 13, 25},
    {1, 3, 9, 1, 4},    {1, 2, 1, 11, 6},  {1, 1, 1, 1, 5},
    {3, 1, 5, 6, 2},    {1, 3, 16, 16, 1}, {5, 3, 224, 224, 10},
};

class BoxBlurCudaVsHost : public CudaTest, public ::testing::WithParamInterface<Layout> {};

TEST_P(BoxBlurCudaVsHost, BitIdentical) {
  CUXPLAIN_REQUIRE_CUDA();
  const Layout layout = GetParam();
  const Context ctx = cuda();
  std::uint32_t seed = 900;
  for (const BlurCase& b : kBlurCases) {
    const auto images =
        test::random_uniform(static_cast<std::size_t>(b.n * b.c * b.h * b.w), ++seed);
    std::ostringstream what;
    what << name_of(layout) << " n=" << b.n << " c=" << b.c << " h=" << b.h << " w=" << b.w
         << " k=" << b.k;

    const Buffer<float> device_images = test::upload(ctx, images);
    const Buffer<float> out = test::poisoned(ctx, static_cast<std::int64_t>(images.size()));
    box_blur(ctx, {device_images.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {out.data(), b.n, b.c, b.h, b.w, layout});
    const std::vector<float> from_cuda = test::download(ctx, out);

    std::vector<float> from_host(images.size(), test::poison());
    box_blur(Context::host(), {images.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {from_host.data(), b.n, b.c, b.h, b.w, layout});
    EXPECT_GT(test::l2_norm(from_cuda), 0.0) << what.str();
    EXPECT_TRUE(same_bits(from_cuda, from_host, what.str()));

    // In place on the device.
    Buffer<float> in_place = test::upload(ctx, images);
    box_blur(ctx, {in_place.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {in_place.data(), b.n, b.c, b.h, b.w, layout});
    EXPECT_TRUE(same_bits(test::download(ctx, in_place), from_host, what.str() + " in place"));
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BoxBlurCudaVsHost, ::testing::Values(Layout::nchw, Layout::nhwc),
                         [](const ::testing::TestParamInfo<Layout>& info) {
                           return std::string(name_of(info.param));
                         });

}  // namespace
}  // namespace cuxplain
