#pragma once
// The cases of the perturbation tests, host (against the double reference)
// and CUDA (against the host): image shapes and grids, every mask mode, the
// parameters and random inputs of each case, the half-precision output cases
// and the box-blur cases, with the descriptions failures print.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <cuxplain/core/options.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/perturbation.hpp>

#include "common/test_utils.hpp"

namespace cuxplain::test {

/// One c x h x w image and the side of its mask grid.
struct PerturbShape {
  std::int64_t c, h, w, grid;
};

/// Square, non-square, odd, integer (32/8) and non-integer (30/8, 40/8 vs
/// 24/8, 13/3) scales, a 1-cell grid, grids as large as the image, and 18
/// cells on 33 rows, where a precomputed scale misplaces row 27.
inline const std::vector<PerturbShape> kPerturbShapes = {
    {3, 32, 32, 8},  {3, 30, 30, 8}, {3, 24, 40, 8}, {2, 7, 13, 3},   {3, 24, 40, 1},
    {3, 16, 16, 16}, {1, 7, 13, 7},  {2, 13, 7, 5},  {2, 33, 35, 18},
};

inline constexpr std::int64_t kNumMasks = 3;
inline constexpr float kBaseline = 0.25f;
inline constexpr float kSigma = 1.5f;

inline const char* name_of(Layout layout) { return layout == Layout::nchw ? "nchw" : "nhwc"; }

/// What a failure names: mode, layout, shape, baseline and sigma.
inline std::string describe(const PerturbShape& s, Layout layout, const PerturbationParams& p) {
  std::ostringstream out;
  out << to_string(p.kind) << " " << to_string(p.interpolation) << " " << name_of(layout)
      << (p.per_channel ? " per-channel" : "") << " c=" << s.c << " h=" << s.h << " w=" << s.w
      << " g=" << s.grid << " baseline=" << p.baseline << " sigma=" << p.sigma;
  return out.str();
}

/// The parameters of a case: kBaseline and kSigma, the rest as given.
inline PerturbationParams params_for(Perturbation kind, Interpolation interpolation,
                                     bool per_channel, std::int64_t grid) {
  PerturbationParams p;
  p.kind = kind;
  p.interpolation = interpolation;
  p.per_channel = per_channel;
  p.grid_size = grid;
  p.baseline = kBaseline;
  p.sigma = kSigma;
  return p;
}

struct PerturbInputs {
  std::vector<float> image;
  std::vector<float> masks;
  std::vector<float> blurred;
};

/// Random image, `num_masks` masks and blurred image for one case. Any
/// image-shaped fill exercises the blurring formula; random values make a
/// wrong index visible where a smooth blur would hide it.
inline PerturbInputs make_inputs(const PerturbShape& s, const PerturbationParams& p,
                                 std::int64_t num_masks, std::uint32_t seed) {
  const auto image_size = static_cast<std::size_t>(s.c * s.h * s.w);
  return {random_uniform(image_size, seed),
          random_uniform(static_cast<std::size_t>(num_masks * mask_cells(p, s.c)), seed + 1),
          random_uniform(image_size, seed + 2)};
}

/// Perturbation, layout, mask interpolation and per-channel masks.
using PerturbParam = std::tuple<Perturbation, Layout, Interpolation, bool>;

/// Every perturbation in both layouts, every mask mode, per-channel or not.
inline auto all_perturb_params() {
  return ::testing::Combine(
      ::testing::Values(Perturbation::inpainting, Perturbation::blurring, Perturbation::amplitude),
      ::testing::Values(Layout::nchw, Layout::nhwc),
      ::testing::Values(Interpolation::nearest, Interpolation::nearest_exact,
                        Interpolation::bilinear),
      ::testing::Bool());
}

/// The test name of a PerturbParam: blurring_nhwc_bilinear_per_channel.
inline std::string perturb_param_name(const ::testing::TestParamInfo<PerturbParam>& info) {
  const auto [kind, layout, interpolation, per_channel] = info.param;
  return std::string(to_string(kind)) + "_" + name_of(layout) + "_" + to_string(interpolation) +
         (per_channel ? "_per_channel" : "");
}

/// One case of the half-precision output tests.
struct HalfOutputCase {
  PerturbShape shape;
  Layout layout;
  PerturbationParams params;
};

/// Two shapes, every perturbation, layout, mask mode and per-channel setting
/// with ordinary values, plus inputs that drive the outputs past the f16
/// range (a huge baseline) and into subnormals (a tiny sigma).
inline std::vector<HalfOutputCase> half_output_cases() {
  const struct {
    Perturbation kind;
    float baseline;
    float sigma;
  } values[] = {{Perturbation::inpainting, kBaseline, kSigma},
                {Perturbation::blurring, kBaseline, kSigma},
                {Perturbation::amplitude, kBaseline, kSigma},
                {Perturbation::inpainting, 7e4f, kSigma},
                {Perturbation::amplitude, kBaseline, 2e-5f}};
  std::vector<HalfOutputCase> cases;
  for (const PerturbShape& s : {PerturbShape{3, 24, 40, 8}, PerturbShape{2, 7, 13, 3}}) {
    for (const auto& v : values) {
      for (Layout layout : {Layout::nchw, Layout::nhwc}) {
        for (Interpolation mode :
             {Interpolation::nearest, Interpolation::nearest_exact, Interpolation::bilinear}) {
          for (bool per_channel : {false, true}) {
            PerturbationParams p = params_for(v.kind, mode, per_channel, s.grid);
            p.baseline = v.baseline;
            p.sigma = v.sigma;
            cases.push_back({s, layout, p});
          }
        }
      }
    }
  }
  return cases;
}

/// n images of c x h x w blurred with a k x k box.
struct BlurCase {
  std::int64_t n, c, h, w, k;
};

inline const std::vector<BlurCase> kBlurCases = {
    {2, 3, 24, 40, 10},                     // the default 10 x 10 box, window [p-5, p+4]
    {1, 3, 32, 32, 3},  {1, 2, 7, 13, 25},  // window wider than the image: repeated reflection
    {1, 3, 9, 1, 4},                        // 1-pixel-wide image
    {1, 2, 1, 11, 6},                       // 1-pixel-tall image
    {1, 1, 1, 1, 5},    {3, 1, 5, 6, 2},    // even size: anchor 1, window [p-1, p]
    {1, 3, 16, 16, 1},                      // identity
};

/// What a failure names: layout, shape and box size.
inline std::string describe(const BlurCase& b, Layout layout) {
  std::ostringstream what;
  what << name_of(layout) << " n=" << b.n << " c=" << b.c << " h=" << b.h << " w=" << b.w
       << " k=" << b.k;
  return what.str();
}

}  // namespace cuxplain::test
