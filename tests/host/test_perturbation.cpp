// The perturbation family on the host backend against the independent
// double-precision reference: mask upsampling (every mode, square and
// non-square images, integer and non-integer scales, per-channel masks), the
// three perturbations in both layouts, the OpenCV box blur, half-precision
// outputs and their rounding, and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/detail/perturbation.hpp>

#include "common/perturbation_cases.hpp"
#include "kernels/perturbation.hpp"
#include "common/test_utils.hpp"
#include "reference/perturbation_reference.hpp"

namespace cuxplain {
namespace {

// ------------------------------------------------------------ shared cases --

using test::BlurCase;
using test::describe;
using test::kBaseline;
using test::kBlurCases;
using test::kNumMasks;
using test::kPerturbShapes;
using test::kSigma;
using test::make_inputs;
using test::name_of;
using test::params_for;
using test::PerturbInputs;
using test::PerturbParam;
using test::PerturbShape;

reference::PerturbCase reference_case(const PerturbationParams& p) {
  reference::PerturbCase r;
  r.kind = p.kind;
  r.interpolation = p.interpolation;
  r.grid = p.grid_size;
  r.per_channel = p.per_channel;
  r.baseline = p.baseline;
  r.sigma = p.sigma;
  return r;
}

/// float result vs double reference: about 1e-6 relative (the float formulas
/// round a handful of times; inputs are in [0, 1]).
::testing::AssertionResult close_to_reference(const std::vector<float>& got,
                                              const std::vector<double>& expected, double rel,
                                              const std::string& what) {
  if (got.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << what << ": size " << got.size() << " vs " << expected.size();
  }
  std::size_t bad = 0, first_bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tolerance = rel * std::max(1.0, std::fabs(expected[i]));
    if (!(std::fabs(static_cast<double>(got[i]) - expected[i]) <= tolerance)) {
      if (bad++ == 0) first_bad = i;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << bad << " of " << got.size() << " elements differ; first at "
         << first_bad << ": got " << got[first_bad] << ", expected " << expected[first_bad];
}

// ---------------------------------------------------- mask source indices --

/// Weight of every cell in the mix of one output coordinate.
std::vector<double> cell_weights(std::int64_t cells, std::int64_t i0, std::int64_t i1, double t) {
  std::vector<double> weights(static_cast<std::size_t>(cells), 0.0);
  weights[static_cast<std::size_t>(i0)] += 1.0 - t;
  weights[static_cast<std::size_t>(i1)] += t;
  return weights;
}

TEST(PerturbationMath, AxisTapsMatchTheExactFormulasForEverySizeAndGrid) {
  // Exhaustive over sizes up to 120 and every grid that fits: the floors are
  // exact integer quotients, so nearest indices must match the formulas in
  // double exactly and bilinear weights to float rounding.
  for (std::int64_t size = 1; size <= 120; ++size) {
    for (std::int64_t g = 1; g <= size; ++g) {
      // In double, multiplying before dividing is exact: dst*g is an exact
      // integer and the one division cannot cross an integer (a precomputed
      // scale g/size can: 27.5 * (18/33.) = 14.999999999999998).
      const auto ratio = [&](double position) { return position * g / size; };
      for (std::int64_t dst = 0; dst < size; ++dst) {
        const auto nearest =
            detail::mask_axis_tap<std::int64_t>(Interpolation::nearest, dst, g, size);
        const auto expect_nearest =
            std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(ratio(dst))), g - 1);
        ASSERT_EQ(nearest.i0, expect_nearest) << "size " << size << " g " << g << " dst " << dst;
        ASSERT_EQ(nearest.i1, expect_nearest);
        ASSERT_EQ(nearest.t, 0.0f);

        const auto exact =
            detail::mask_axis_tap<std::int64_t>(Interpolation::nearest_exact, dst, g, size);
        const auto expect_exact =
            std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(ratio(dst + 0.5))), g - 1);
        ASSERT_EQ(exact.i0, expect_exact) << "size " << size << " g " << g << " dst " << dst;
        ASSERT_EQ(exact.i1, expect_exact);

        const auto bilinear =
            detail::mask_axis_tap<std::int64_t>(Interpolation::bilinear, dst, g, size);
        const double src = std::max(0.0, ratio(dst + 0.5) - 0.5);
        const auto i0 = static_cast<std::int64_t>(std::floor(src));
        const auto expected = cell_weights(g, i0, std::min(i0 + 1, g - 1), src - i0);
        const auto got = cell_weights(g, bilinear.i0, bilinear.i1, bilinear.t);
        for (std::int64_t k = 0; k < g; ++k) {
          ASSERT_NEAR(got[k], expected[k], 6e-8) << "size " << size << " g " << g << " dst " << dst;
        }

        // The 32-bit instantiation the CUDA kernel uses agrees.
        const auto narrow = detail::mask_axis_tap<std::int32_t>(
            Interpolation::bilinear, static_cast<std::int32_t>(dst), static_cast<std::int32_t>(g),
            static_cast<std::int32_t>(size));
        ASSERT_EQ(narrow.i0, bilinear.i0);
        ASSERT_EQ(narrow.i1, bilinear.i1);
        ASSERT_EQ(narrow.t, bilinear.t);
      }
    }
  }
}

TEST(PerturbationMath, KnownSourceCells) {
  using detail::mask_axis_tap;
  // 30 pixels, 8 cells: the two nearest modes differ at dst 11 (2.93 vs 3.07).
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest, 11, 8, 30).i0, 2);
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest_exact, 11, 8, 30).i0, 3);
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest, 29, 8, 30).i0, 7);
  // 3 cells on 9 pixels: 3*3/9 is exactly 1 (a float scale of 1/3 gives 0.99999994).
  // 18 cells on 33 pixels: (27+0.5)*18/33 is exactly 15 (a double scale gives 14.99...).
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest_exact, 27, 18, 33).i0, 15);
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest, 3, 3, 9).i0, 1);
  EXPECT_EQ(mask_axis_tap<std::int64_t>(Interpolation::nearest, 6, 3, 9).i0, 2);
  // Bilinear, 2 cells on 8 pixels: src = (dst+0.5)/4 - 0.5.
  const auto left =
      mask_axis_tap<std::int64_t>(Interpolation::bilinear, 1, 2, 8);  // src 0 (clamped)
  EXPECT_EQ(left.i0, 0);
  EXPECT_EQ(left.t, 0.0f);
  const auto mid = mask_axis_tap<std::int64_t>(Interpolation::bilinear, 3, 2, 8);  // src 0.375
  EXPECT_EQ(mid.i0, 0);
  EXPECT_EQ(mid.i1, 1);
  EXPECT_EQ(mid.t, 0.375f);
  const auto right = mask_axis_tap<std::int64_t>(Interpolation::bilinear, 7, 2, 8);  // src 1.375
  EXPECT_EQ(right.i0, 1);
  EXPECT_EQ(right.i1, 1);
}

TEST(PerturbationMath, Reflect101) {
  using detail::reflect_101;
  // abcd -> ...dcb|abcd|cba...
  const std::int64_t expected[] = {0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0};  // i = -6 .. 6
  for (std::int64_t i = -6; i <= 6; ++i) {
    EXPECT_EQ(reflect_101<std::int64_t>(i, 4), expected[i + 6]) << "i " << i;
    EXPECT_EQ(reflect_101<std::int64_t>(i, 4), reference::reflect_101(i, 4)) << "i " << i;
  }
  for (std::int64_t n = 1; n <= 9; ++n) {
    for (std::int64_t i = -40; i <= 40; ++i) {
      ASSERT_EQ(reflect_101<std::int64_t>(i, n), reference::reflect_101(i, n)) << n << " " << i;
      ASSERT_EQ(
          reflect_101<std::int32_t>(static_cast<std::int32_t>(i), static_cast<std::int32_t>(n)),
          reference::reflect_101(i, n));
    }
  }
}

// ---------------------------------------------------------- half rounding --

float from_bits(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

TEST(HalfConversion, F16EdgeCases) {
  using detail::float_to_f16_bits;
  const float min_subnormal = std::ldexp(1.0f, -24);
  const struct {
    float value;
    std::uint16_t bits;
  } cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {65504.0f, 0x7bff},   // largest finite half
      {65519.99f, 0x7bff},  // below the halfway point to 2^16
      {65520.0f, 0x7c00},   // halfway, odd mantissa: rounds up to Inf
      {-65520.0f, 0xfc00},
      {1e6f, 0x7c00},
      {std::numeric_limits<float>::max(), 0x7c00},
      {std::numeric_limits<float>::infinity(), 0x7c00},
      {-std::numeric_limits<float>::infinity(), 0xfc00},
      {std::ldexp(1.0f, -14), 0x0400},  // smallest normal
      {min_subnormal, 0x0001},          // smallest subnormal
      {-min_subnormal, 0x8001},
      {std::ldexp(1.0f, -25), 0x0000},  // half of it: tie, to even (zero)
      {-std::ldexp(1.0f, -25), 0x8000},
      {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001},
      {3 * std::ldexp(1.0f, -25), 0x0002},  // 1.5 subnormal units: tie, to even (2)
      {5 * std::ldexp(1.0f, -25), 0x0002},  // 2.5 units: tie, to even (2)
      {1023 * min_subnormal, 0x03ff},       // largest subnormal
      {1023.5f * min_subnormal, 0x0400},    // tie between 0x3ff and 0x400: to even
      {std::ldexp(1.0f, -30), 0x0000},
      {1e-45f, 0x0000},                            // float subnormal
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},      // tie, to even (down)
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3c02},  // tie, to even (up)
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01},
      {2047.0f / 1024.0f * 0.5f + std::ldexp(1.0f, -12), 0x3c00},  // carry into the exponent
  };
  for (const auto& c : cases) {
    EXPECT_EQ(float_to_f16_bits(c.value), c.bits) << "value " << c.value;
    EXPECT_EQ(reference::round_to_f16(c.value), c.bits) << "reference, value " << c.value;
  }
  for (float nan :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
        std::numeric_limits<float>::signaling_NaN(), from_bits(0x7f800001u)}) {
    const std::uint16_t bits = float_to_f16_bits(nan);
    EXPECT_EQ(bits & 0x7c00, 0x7c00);
    EXPECT_NE(bits & 0x03ff, 0) << "NaN must not become Inf";
    EXPECT_EQ((bits & 0x8000) != 0, std::signbit(nan));
    EXPECT_TRUE(std::isnan(detail::f16_bits_to_float(bits)));
  }
}

TEST(HalfConversion, Bf16EdgeCases) {
  using detail::float_to_bf16_bits;
  const struct {
    float value;
    std::uint16_t bits;
  } cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3f80},
      {1.0f + std::ldexp(1.0f, -8), 0x3f80},      // tie, to even (down)
      {1.0f + 3 * std::ldexp(1.0f, -8), 0x3f82},  // tie, to even (up)
      {1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20), 0x3f81},
      {std::numeric_limits<float>::max(), 0x7f80},  // past the halfway point to 2^128
      {-std::numeric_limits<float>::max(), 0xff80},
      {from_bits(0x7f7f7fffu), 0x7f7f},  // just below it: largest finite bf16
      {std::numeric_limits<float>::infinity(), 0x7f80},
      {-std::numeric_limits<float>::infinity(), 0xff80},
      {from_bits(0x00008000u), 0x0000},  // float subnormal, tie to even
      {from_bits(0x00018000u), 0x0002},
      {from_bits(0x00008001u), 0x0001},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(float_to_bf16_bits(c.value), c.bits) << "value " << c.value;
    EXPECT_EQ(reference::round_to_bf16(c.value), c.bits) << "reference, value " << c.value;
  }
  for (float nan :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
        from_bits(0x7f800001u), from_bits(0xff800001u)}) {
    const std::uint16_t bits = float_to_bf16_bits(nan);
    EXPECT_EQ(bits & 0x7f80, 0x7f80);
    EXPECT_NE(bits & 0x007f, 0) << "NaN must not become Inf";
    EXPECT_EQ((bits & 0x8000) != 0, std::signbit(nan));
  }
}

TEST(HalfConversion, MatchesTableSearchAroundEveryRoundingBoundary) {
  // Every float whose low bits sit at, just below or just above a rounding
  // tie of the half type (and so every tie), over the whole float range.
  for (std::uint32_t high = 0; high < (1u << 19); ++high) {
    for (std::int32_t delta : {-1, 0, 1}) {
      const std::uint32_t base = (high << 13) | 0x1000u;  // f16 tie for normal halves
      const float value = from_bits(static_cast<std::uint32_t>(base + delta));
      if (std::isnan(value)) continue;
      ASSERT_EQ(detail::float_to_f16_bits(value), reference::round_to_f16(value))
          << "bits 0x" << std::hex << base + delta;
      ASSERT_EQ(detail::float_to_f16_bits(-value), reference::round_to_f16(-value));
    }
  }
  for (std::uint32_t high = 0; high < (1u << 16); ++high) {
    for (std::int32_t delta : {-1, 0, 1}) {
      const std::uint32_t base = (high << 16) | 0x8000u;  // bf16 tie
      const float value = from_bits(static_cast<std::uint32_t>(base + delta));
      if (std::isnan(value)) continue;
      ASSERT_EQ(detail::float_to_bf16_bits(value), reference::round_to_bf16(value))
          << "bits 0x" << std::hex << base + delta;
    }
  }
  // Random floats around the subnormal-half range, where ties sit elsewhere.
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> exponent(-27.0f, -13.0f);
  for (int i = 0; i < 200000; ++i) {
    const float value = std::exp2(exponent(gen));
    ASSERT_EQ(detail::float_to_f16_bits(value), reference::round_to_f16(value)) << value;
  }
  for (std::uint32_t k = 0; k <= 2048; ++k) {  // every subnormal-half tie and its neighbours
    const float tie = std::ldexp(static_cast<float>(k) + 0.5f, -24);
    for (float value : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 1.0f)}) {
      ASSERT_EQ(detail::float_to_f16_bits(value), reference::round_to_f16(value)) << value;
    }
  }
}

TEST(HalfConversion, DecodingIsExact) {
  for (std::uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto b = static_cast<std::uint16_t>(bits);
    const double f16 = reference::f16_value(b);
    const double bf16 = reference::bf16_value(b);
    if (std::isnan(f16)) {
      EXPECT_TRUE(std::isnan(detail::f16_bits_to_float(b)));
    } else {
      ASSERT_EQ(static_cast<double>(detail::f16_bits_to_float(b)), f16) << std::hex << bits;
      ASSERT_EQ(detail::float_to_f16_bits(detail::f16_bits_to_float(b)), b) << std::hex << bits;
    }
    if (!std::isnan(bf16)) {
      ASSERT_EQ(static_cast<double>(detail::bf16_bits_to_float(b)), bf16) << std::hex << bits;
      ASSERT_EQ(detail::float_to_bf16_bits(detail::bf16_bits_to_float(b)), b) << std::hex << bits;
    }
  }
}

// ------------------------------------------------------- perturb vs reference --

class PerturbVsReference : public ::testing::TestWithParam<PerturbParam> {};

TEST_P(PerturbVsReference, EveryShapeMatchesTheDoubleReference) {
  const auto [kind, layout, interpolation, per_channel] = GetParam();
  const Context ctx = Context::host();
  std::uint32_t seed = 100;
  for (const PerturbShape& s : kPerturbShapes) {
    const PerturbationParams p = params_for(kind, interpolation, per_channel, s.grid);
    const PerturbInputs in = make_inputs(s, p, kNumMasks, seed += 10);
    const ConstImageView image{in.image.data(), 1, s.c, s.h, s.w, layout};
    std::vector<float> out(static_cast<std::size_t>(kNumMasks * s.c * s.h * s.w), test::poison());
    perturb(ctx, image, in.masks.data(), kNumMasks, p, in.blurred.data(), out.data());

    const auto expected = reference::perturb(in.image, s.c, s.h, s.w, layout, in.masks, kNumMasks,
                                             reference_case(p), in.blurred);
    EXPECT_GT(test::l2_norm(out), 0.0) << describe(s, layout, p);
    EXPECT_TRUE(close_to_reference(out, expected, 1e-6, describe(s, layout, p)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, PerturbVsReference, test::all_perturb_params(),
                         test::perturb_param_name);

TEST(Perturb, MaskValuesOfZeroAndOneGiveTheFillAndTheImage) {
  // Exact special cases of the formula: m = 1 keeps the image, m = 0 gives
  // the baseline; amplitude scales by +-0.5 sigma.
  const Context ctx = Context::host();
  const PerturbShape s{3, 12, 20, 4};
  PerturbationParams p =
      params_for(Perturbation::inpainting, Interpolation::nearest_exact, false, 4);
  const auto image = test::random_uniform(static_cast<std::size_t>(s.c * s.h * s.w), 3);
  std::vector<float> masks(2 * 16);
  std::fill(masks.begin(), masks.begin() + 16, 1.0f);
  std::fill(masks.begin() + 16, masks.end(), 0.0f);
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    const ConstImageView view{image.data(), 1, s.c, s.h, s.w, layout};
    std::vector<float> out(2 * image.size(), test::poison());
    p.kind = Perturbation::inpainting;
    perturb(ctx, view, masks.data(), 2, p, nullptr, out.data());
    for (std::size_t i = 0; i < image.size(); ++i) {
      ASSERT_EQ(out[i], image[i]);
      ASSERT_EQ(out[image.size() + i], kBaseline);
    }
    p.kind = Perturbation::amplitude;
    perturb(ctx, view, masks.data(), 2, p, nullptr, out.data());
    for (std::size_t i = 0; i < image.size(); ++i) {
      ASSERT_EQ(out[i], image[i] * 0.5f * kSigma);
      ASSERT_EQ(out[image.size() + i], image[i] * -0.5f * kSigma);
    }
  }
}

TEST(Perturb, ZeroMasksWritesNothing) {
  const Context ctx = Context::host();
  const std::vector<float> image(3 * 8 * 8, 0.5f);
  const PerturbationParams p;
  std::vector<float> out(4, 7.0f);
  perturb(ctx, {image.data(), 1, 3, 8, 8, Layout::nchw}, nullptr, 0, p, nullptr, nullptr);
  perturb(ctx, {image.data(), 1, 3, 8, 8, Layout::nchw}, nullptr, 0, p, nullptr, out.data());
  EXPECT_EQ(out, std::vector<float>(4, 7.0f));
}

// ------------------------------------------------------- half-precision outputs --

using HalfDecoder = double (*)(std::uint16_t);
using HalfRounder = std::uint16_t (*)(float);

void check_half_outputs(DType type, HalfDecoder decode, HalfRounder round, double half_ulp) {
  const Context ctx = Context::host();
  std::uint32_t seed = 500;
  for (const auto& [s, layout, p] : test::half_output_cases()) {
    const PerturbInputs in = make_inputs(s, p, kNumMasks, seed += 10);
    const ConstImageView image{in.image.data(), 1, s.c, s.h, s.w, layout};
    const std::size_t count = static_cast<std::size_t>(kNumMasks * s.c * s.h * s.w);
    std::vector<float> f32(count, test::poison());
    std::vector<std::uint16_t> half(count, 0xffff);  // NaN in both formats
    perturb(ctx, image, in.masks.data(), kNumMasks, p, in.blurred.data(), f32.data());
    perturb(ctx, image, in.masks.data(), kNumMasks, p, in.blurred.data(), half.data(), type);
    const auto expected = reference::perturb(in.image, s.c, s.h, s.w, layout, in.masks,
                                             kNumMasks, reference_case(p), in.blurred);
    const std::string what = describe(s, layout, p);
    double norm = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
      // The half output is the float result rounded to nearest even...
      ASSERT_EQ(half[i], round(f32[i])) << what << " element " << i << " f32 " << f32[i];
      // ...and so within half a half-ulp (plus the float error) of the
      // exact value, or Inf past the largest finite half.
      const double value = decode(half[i]);
      norm += std::isfinite(value) ? value * value : 1.0;
      if (std::isinf(value)) {
        ASSERT_GE(std::fabs(expected[i]), 65504.0) << what << " element " << i;
      } else {
        const double tolerance = std::max(std::fabs(expected[i]) * half_ulp, 1e-37) +
                                 1e-6 * std::max(1.0, std::fabs(expected[i]));
        ASSERT_NEAR(value, expected[i], tolerance) << what << " element " << i;
      }
    }
    EXPECT_GT(norm, 0.0) << what;
  }
}

TEST(PerturbHalfOutput, F16IsTheFloatResultRoundedToNearestEven) {
  // f16 subnormals are spaced 2^-24: allow that absolutely as well.
  check_half_outputs(DType::f16, reference::f16_value, reference::round_to_f16,
                     std::ldexp(1.0, -11));
}

TEST(PerturbHalfOutput, Bf16IsTheFloatResultRoundedToNearestEven) {
  check_half_outputs(DType::bf16, reference::bf16_value, reference::round_to_bf16,
                     std::ldexp(1.0, -8));
}

// ------------------------------------------------------------------ box blur --

class BoxBlurVsReference : public ::testing::TestWithParam<Layout> {};

TEST_P(BoxBlurVsReference, MatchesTheLiteral2DWindowMean) {
  const Layout layout = GetParam();
  const Context ctx = Context::host();
  std::uint32_t seed = 900;
  for (const BlurCase& b : kBlurCases) {
    const auto images =
        test::random_uniform(static_cast<std::size_t>(b.n * b.c * b.h * b.w), ++seed);
    std::vector<float> out(images.size(), test::poison());
    box_blur(ctx, {images.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {out.data(), b.n, b.c, b.h, b.w, layout});
    const auto expected = reference::box_blur(images, b.n, b.c, b.h, b.w, layout, b.k);
    const std::string what = describe(b, layout);
    EXPECT_GT(test::l2_norm(out), 0.0) << what;
    EXPECT_TRUE(close_to_reference(out, expected, 1e-6, what));
    if (b.k == 1) EXPECT_EQ(out, images) << "a 1 x 1 box is the identity";

    // In place gives the same result.
    std::vector<float> in_place = images;
    box_blur(ctx, {in_place.data(), b.n, b.c, b.h, b.w, layout}, b.k,
             {in_place.data(), b.n, b.c, b.h, b.w, layout});
    EXPECT_EQ(in_place, out) << what << " in place";
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BoxBlurVsReference, ::testing::Values(Layout::nchw, Layout::nhwc),
                         [](const ::testing::TestParamInfo<Layout>& info) {
                           return std::string(name_of(info.param));
                         });

TEST(BoxBlur, KnownAnswers) {
  const Context ctx = Context::host();
  const std::vector<float> row = {1, 2, 3, 4};
  std::vector<float> out(4, test::poison());
  // k = 3: window [p-1, p+1]; index -1 reflects to 1, index 4 to 2.
  box_blur(ctx, {row.data(), 1, 1, 1, 4, Layout::nchw}, 3, {out.data(), 1, 1, 1, 4, Layout::nchw});
  EXPECT_FLOAT_EQ(out[0], 5.0f / 3.0f);
  EXPECT_FLOAT_EQ(out[1], 2.0f);
  EXPECT_FLOAT_EQ(out[2], 3.0f);
  EXPECT_FLOAT_EQ(out[3], 10.0f / 3.0f);
  // k = 2: anchor 1, window [p-1, p].
  box_blur(ctx, {row.data(), 1, 1, 1, 4, Layout::nchw}, 2, {out.data(), 1, 1, 1, 4, Layout::nchw});
  EXPECT_EQ(out, (std::vector<float>{1.5f, 1.5f, 2.5f, 3.5f}));

  // k = 10 on a delta at x = 10 of a 1 x 20 row: window [p-5, p+4] holds it
  // for p in [6, 15] only, each contributing 1/10 (the 10 rows all reflect to
  // row 0, so 10 x 1 / 100).
  std::vector<float> delta(20, 0.0f);
  delta[10] = 1.0f;
  std::vector<float> blurred(20, test::poison());
  box_blur(ctx, {delta.data(), 1, 1, 1, 20, Layout::nhwc}, 10,
           {blurred.data(), 1, 1, 1, 20, Layout::nhwc});
  for (int p = 0; p < 20; ++p) {
    EXPECT_FLOAT_EQ(blurred[p], p >= 6 && p <= 15 ? 0.1f : 0.0f) << "p " << p;
  }

  // A constant image blurs to itself.
  const std::vector<float> constant(3 * 9 * 7, 0.75f);
  std::vector<float> flat(constant.size(), test::poison());
  box_blur(ctx, {constant.data(), 1, 3, 9, 7, Layout::nchw}, 10,
           {flat.data(), 1, 3, 9, 7, Layout::nchw});
  for (float v : flat) ASSERT_FLOAT_EQ(v, 0.75f);
}

// ------------------------------------------ instruction sets of the host walk --

const char* type_name(DType type) {
  return type == DType::f32 ? "f32" : type == DType::f16 ? "f16" : "bf16";
}

/// Output bits of kernels::cpu::perturb_with on `isa`, into a poisoned
/// buffer; `offset_bytes` moves the output off its allocation's alignment.
std::vector<unsigned char> perturb_bits(kernels::cpu::Isa isa, const ConstImageView& image,
                                        const PerturbInputs& in, std::int64_t num_masks,
                                        const PerturbationParams& p, DType type,
                                        std::size_t offset_bytes = 0) {
  const std::size_t bytes =
      static_cast<std::size_t>(num_masks * image.image_size()) * dtype_size(type);
  std::vector<unsigned char> out(bytes + offset_bytes, 0xff);  // NaN in every type
  kernels::cpu::perturb_with(isa, image, in.masks.data(), num_masks, p, in.blurred.data(),
                             out.data() + offset_bytes, type);
  return {out.begin() + static_cast<std::ptrdiff_t>(offset_bytes), out.end()};
}

TEST(PerturbInstructionSets, FmaAndFallbackWalksGiveTheSameBits) {
  // The walk compiled for the baseline target (std::fma a libm call, scalar
  // loops, detail::float_to_f16_bits) and for AVX2 + FMA + F16C (fused
  // multiply-adds in vector registers, the F16C conversion to binary16):
  // every mode and shape, every output type, the half cases whose outputs
  // overflow or turn subnormal, and images with NaN, infinite, huge and
  // subnormal pixels.
  using kernels::cpu::Isa;
  if (!kernels::cpu::isa_supported(Isa::avx2_fma)) GTEST_SKIP() << "no AVX2 + FMA + F16C on this CPU";
  std::vector<std::tuple<PerturbShape, Layout, PerturbationParams>> cases;
  for (Perturbation kind :
       {Perturbation::inpainting, Perturbation::blurring, Perturbation::amplitude}) {
    for (Layout layout : {Layout::nchw, Layout::nhwc}) {
      for (Interpolation mode :
           {Interpolation::nearest, Interpolation::nearest_exact, Interpolation::bilinear}) {
        for (bool per_channel : {false, true}) {
          for (const PerturbShape& s : kPerturbShapes) {
            cases.emplace_back(s, layout, params_for(kind, mode, per_channel, s.grid));
          }
        }
      }
    }
  }
  for (const auto& c : test::half_output_cases()) cases.emplace_back(c.shape, c.layout, c.params);
  // Pixels that make every kind of half and bfloat16 result: NaNs with
  // payloads, infinities, the largest and the subnormal floats, values at
  // and around the f16 overflow and subnormal boundaries.
  const std::uint32_t special_bits[] = {
      0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7fbfe000u, 0x7fc02000u, 0x7f800000u,
      0xff800000u, 0x7f7fffffu, 0x00000001u, 0x807fffffu, 0x477fefffu, 0x477ff000u,
      0xc77fe000u, 0x38800000u, 0x387fffffu, 0x33000000u, 0x33000001u, 0xb3800000u,
      0x34401000u, 0x00800000u, 0x3f800000u, 0x3f801000u, 0x3f803000u, 0x80000000u};
  std::uint32_t seed = 900;
  bool special = false;
  for (const auto& [s, layout, p] : cases) {
    PerturbInputs in = make_inputs(s, p, kNumMasks, seed += 10);
    if ((special = !special)) {  // every other case
      for (std::size_t e = 0; e < in.image.size(); e += 3) {
        std::memcpy(&in.image[e], &special_bits[e / 3 % std::size(special_bits)], 4);
      }
    }
    const ConstImageView image{in.image.data(), 1, s.c, s.h, s.w, layout};
    for (DType type : {DType::f32, DType::f16, DType::bf16}) {
      const auto generic = perturb_bits(Isa::generic, image, in, kNumMasks, p, type);
      const auto fma = perturb_bits(Isa::avx2_fma, image, in, kNumMasks, p, type);
      ASSERT_EQ(generic, fma) << describe(s, layout, p) << " " << type_name(type);
    }
  }
}

TEST(PerturbInstructionSets, StreamedOutputsMatchTheReferenceAndEachOther) {
  // Outputs from kernels::cpu::kPerturbStreamingBytes on are written with
  // non-temporal stores, here at an address 4 bytes off alignment (plain
  // stores at both ends of the stream).
  using kernels::cpu::Isa;
  const PerturbShape s{3, 224, 224, 8};
  const std::int64_t num_masks = 30;
  ASSERT_GE(static_cast<std::size_t>(num_masks * s.c * s.h * s.w) * 2,
            kernels::cpu::kPerturbStreamingBytes);
  std::uint32_t seed = 1300;
  for (Layout layout : {Layout::nchw, Layout::nhwc}) {
    for (Interpolation mode : {Interpolation::nearest_exact, Interpolation::bilinear}) {
      const PerturbationParams p = params_for(Perturbation::blurring, mode, false, s.grid);
      const PerturbInputs in = make_inputs(s, p, num_masks, seed += 10);
      const ConstImageView image{in.image.data(), 1, s.c, s.h, s.w, layout};
      const auto expected = reference::perturb(in.image, s.c, s.h, s.w, layout, in.masks,
                                               num_masks, reference_case(p), in.blurred);
      for (DType type : {DType::f32, DType::f16}) {
        const auto streamed = perturb_bits(Isa::generic, image, in, num_masks, p, type, 4);
        if (type == DType::f32) {
          std::vector<float> values(expected.size());
          std::memcpy(values.data(), streamed.data(), streamed.size());
          EXPECT_TRUE(close_to_reference(values, expected, 1e-6, describe(s, layout, p)));
        } else {
          for (std::size_t i = 0; i < expected.size(); ++i) {
            std::uint16_t half;
            std::memcpy(&half, streamed.data() + 2 * i, 2);
            const double tolerance = std::fabs(expected[i]) / 2048.0 +
                                     1e-6 * std::max(1.0, std::fabs(expected[i]));
            ASSERT_NEAR(reference::f16_value(half), expected[i], tolerance)
                << describe(s, layout, p) << " element " << i;
          }
        }
        if (kernels::cpu::isa_supported(Isa::avx2_fma)) {
          ASSERT_EQ(streamed, perturb_bits(Isa::avx2_fma, image, in, num_masks, p, type, 4))
              << describe(s, layout, p) << " " << type_name(type);
        }
      }
    }
  }
}

// ------------------------------------------------------------- bad arguments --

using test::expect_error;

TEST(Perturb, RejectsBadArguments) {
  const Context ctx = Context::host();
  const std::vector<float> image(3 * 16 * 16, 0.5f);
  const std::vector<float> masks(4 * 64, 0.5f);
  std::vector<float> out(4 * image.size());
  const ConstImageView view{image.data(), 1, 3, 16, 16, Layout::nchw};
  const PerturbationParams good;
  // Each check changes one thing of an otherwise valid call.
  const auto bad_image = [&](auto change, const std::string& needle) {
    ConstImageView v = view;
    change(v);
    expect_error([&] { perturb(ctx, v, masks.data(), 4, good, nullptr, out.data()); }, needle);
  };
  const auto bad_params = [&](auto change, const std::string& needle) {
    PerturbationParams p = good;
    change(p);
    expect_error([&] { perturb(ctx, view, masks.data(), 4, p, nullptr, out.data()); }, needle);
  };

  bad_image([](ConstImageView& v) { v.data = nullptr; }, "image.data");
  bad_image([](ConstImageView& v) { v.n = 2; }, "image.n");
  bad_image([](ConstImageView& v) { v.n = 0; }, "image.n");
  bad_image([](ConstImageView& v) { v.c = 0; }, "image.c");
  bad_image([](ConstImageView& v) { v.h = 0; }, "image.h");
  bad_image([](ConstImageView& v) { v.w = -3; }, "image.w");
  bad_image([](ConstImageView& v) { v.layout = static_cast<Layout>(9); }, "image.layout");

  bad_params([](PerturbationParams& p) { p.grid_size = 0; }, "grid_size");
  bad_params([](PerturbationParams& p) { p.grid_size = 17; }, "grid_size");
  bad_params([](PerturbationParams& p) { p.grid_size = 17; }, "17");  // and its value
  // The grid bound is the shorter side of a non-square image.
  const ConstImageView wide{image.data(), 1, 3, 8, 32, Layout::nchw};
  PerturbationParams grid9 = good;
  grid9.grid_size = 9;
  expect_error([&] { perturb(ctx, wide, masks.data(), 1, grid9, nullptr, out.data()); },
               "grid_size");
  bad_params([](PerturbationParams& p) { p.interpolation = Interpolation::bicubic; },
             "interpolation");
  bad_params([](PerturbationParams& p) { p.kind = static_cast<Perturbation>(7); }, "params.kind");
  bad_params([](PerturbationParams& p) { p.kind = Perturbation::blurring; }, "blurred");
  bad_params([](PerturbationParams& p) { p.baseline = std::numeric_limits<float>::infinity(); },
             "baseline");
  bad_params([](PerturbationParams& p) { p.sigma = std::numeric_limits<float>::quiet_NaN(); },
             "sigma");

  expect_error([&] { perturb(ctx, view, nullptr, 4, good, nullptr, out.data()); }, "masks");
  expect_error([&] { perturb(ctx, view, masks.data(), 4, good, nullptr, nullptr); }, "out");
  expect_error([&] { perturb(ctx, view, masks.data(), -1, good, nullptr, out.data()); },
               "num_masks");
  expect_error(
      [&] { perturb(ctx, view, masks.data(), 4, good, nullptr, out.data(), static_cast<DType>(5)); },
      "out_type");
}

TEST(BoxBlur, RejectsBadArguments) {
  const Context ctx = Context::host();
  std::vector<float> images(2 * 3 * 8 * 8, 0.5f);
  std::vector<float> out(images.size());
  const ConstImageView in{images.data(), 2, 3, 8, 8, Layout::nchw};
  const ImageView good_out{out.data(), 2, 3, 8, 8, Layout::nchw};
  const auto call = [&](ConstImageView i, std::int64_t k, ImageView o) {
    return [=, &ctx] { box_blur(ctx, i, k, o); };
  };
  auto in_with = [&](auto change) {
    ConstImageView v = in;
    change(v);
    return v;
  };
  auto out_with = [&](auto change) {
    ImageView v = good_out;
    change(v);
    return v;
  };

  expect_error(call(in_with([](auto& v) { v.data = nullptr; }), 10, good_out), "images.data");
  expect_error(call(in, 10, out_with([](auto& v) { v.data = nullptr; })), "out.data");
  expect_error(call(in, 0, good_out), "blur_size");
  expect_error(call(in, -4, good_out), "blur_size");
  expect_error(call(in_with([](auto& v) { v.n = 0; }), 10, good_out), "images.n");
  expect_error(call(in_with([](auto& v) { v.c = 0; }), 10, good_out), "images.c");
  expect_error(call(in_with([](auto& v) { v.h = 0; }), 10, good_out), "images.h");
  expect_error(call(in_with([](auto& v) { v.w = 0; }), 10, good_out), "images.w");
  expect_error(call(in_with([](auto& v) { v.layout = static_cast<Layout>(3); }), 10, good_out),
               "images.layout");
  expect_error(call(in, 10, out_with([](auto& v) { v.n = 1; })), "out has shape");
  expect_error(call(in, 10, out_with([](auto& v) { v.c = 1; })), "out has shape");
  expect_error(call(in, 10, out_with([](auto& v) { v.h = 4; })), "out has shape");
  expect_error(call(in, 10, out_with([](auto& v) { v.w = 4; })), "out has shape");
  expect_error(call(in, 10, out_with([](auto& v) { v.layout = Layout::nhwc; })), "out.layout");
}

}  // namespace
}  // namespace cuxplain
