#pragma once
// Enumerations shared by the ops and the explainers, and their names.
#include <optional>
#include <string_view>

#include "views.hpp"

namespace cuxplain {

/// Point sets for designs. All produce values in [0, 1).
enum class Sampler {
  sobol,        ///< Sobol, Joe-Kuo direction numbers, unscrambled (scipy's qmc.Sobol(scramble=False))
  sobol_owen,   ///< Sobol with hash-based nested uniform (Owen) scrambling, seeded
  halton,       ///< Halton, unscrambled (scipy's qmc.Halton(scramble=False))
  lhs,          ///< Latin hypercube, seeded
  monte_carlo,  ///< independent uniforms from a seeded counter-based generator
};

/// Total-order Sobol index estimators (DESIGN.md, "Sobol estimators").
enum class Estimator { jansen, homma, janon, glen, saltelli };

/// How a mask value m in [0, 1] modulates a pixel x.
enum class Perturbation {
  inpainting,  ///< x*m + (1-m)*baseline
  blurring,    ///< x*m + (1-m)*box_blur(x)
  amplitude,   ///< x*(m-0.5)*sigma
};

/// Resampling of a coarse grid onto an image. Masks use nearest, nearest_exact
/// or bilinear; cuxplain::upsample uses bicubic, bicubic_tensorflow or nearest.
enum class Interpolation {
  nearest,        ///< src = min(floor(dst*g/h), g-1)   (PyTorch's default "nearest")
  nearest_exact,  ///< src = floor((dst+0.5)*g/h)       (TensorFlow 2's "nearest")
  bilinear,       ///< half-pixel centres, no corner alignment
  bicubic,        ///< half-pixel centres, Keys cubic convolution (cv2's INTER_CUBIC)
  /// tf.image.resize(method="bicubic") bit for bit (detail/upsample.hpp): how
  /// xplique resizes its attribution grids to the input.
  bicubic_tensorflow,
};

/// Input kernel k(x, x') applied to each cell's mask values.
enum class HsicKernel {
  binary,   ///< 0.5 - (x - x')^2: a Dirac kernel up to a constant, for 0/1 masks
  rbf,      ///< exp(-(x - x')^2 / (2 * 0.5^2))
  sobolev,  ///< B2(|x - x'|)/2 + (x - 0.5)(x' - 0.5), B2(t) = t^2 - t + 1/6
};

/// Width w of the output RBF kernel exp(-(y - y')^2 / (2 w^2)).
enum class Bandwidth {
  /// |median| of the outputs themselves (xplique takes the median whatever
  /// its sign; only w^2 enters). When the median is exactly 0, the median
  /// pairwise distance is used, then the standard deviation.
  median_output,
  /// the median of |y_j - y_l| over pairs j < l (then the standard
  /// deviation when it is 0): a scale-aware rule that ignores the outputs'
  /// offset, for models whose outputs sit far from 0.
  median_distance,
};

const char* to_string(HsicKernel kernel);
const char* to_string(Bandwidth bandwidth);

const char* to_string(Sampler sampler);
const char* to_string(Estimator estimator);
const char* to_string(Perturbation perturbation);
const char* to_string(Interpolation interpolation);

/// A value of one of the library's option enumerations and its name.
template <class Enum>
struct EnumName {
  Enum value;
  const char* name;
};

/// Every value of an option enumeration with its name, in declaration order:
/// the one table that to_string reads and that command lines and bindings
/// parse (parse_enum). Defined for Sampler, Estimator, Perturbation,
/// Interpolation, HsicKernel and Bandwidth (here), nmf::Init and nmf::Solver
/// (nmf.hpp) and craft::CropResize (craft.hpp).
template <class Enum>
HostSpan<const EnumName<Enum>> enum_names();

template <>
HostSpan<const EnumName<Sampler>> enum_names<Sampler>();
template <>
HostSpan<const EnumName<Estimator>> enum_names<Estimator>();
template <>
HostSpan<const EnumName<Perturbation>> enum_names<Perturbation>();
template <>
HostSpan<const EnumName<Interpolation>> enum_names<Interpolation>();
template <>
HostSpan<const EnumName<HsicKernel>> enum_names<HsicKernel>();
template <>
HostSpan<const EnumName<Bandwidth>> enum_names<Bandwidth>();

/// The value of Enum called `name` (its to_string), or nullopt.
template <class Enum>
std::optional<Enum> parse_enum(std::string_view name) {
  for (const EnumName<Enum>& entry : enum_names<Enum>()) {
    if (name == entry.name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace cuxplain
