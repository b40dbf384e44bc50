// Names of the option enumerations, used in error messages and reports.
#include <cuxplain/core/options.hpp>

namespace cuxplain {

const char* to_string(Sampler sampler) {
  switch (sampler) {
    case Sampler::sobol: return "sobol";
    case Sampler::sobol_owen: return "sobol_owen";
    case Sampler::halton: return "halton";
    case Sampler::lhs: return "lhs";
    case Sampler::monte_carlo: return "monte_carlo";
  }
  return "unknown sampler";
}

const char* to_string(Estimator estimator) {
  switch (estimator) {
    case Estimator::jansen: return "jansen";
    case Estimator::homma: return "homma";
    case Estimator::janon: return "janon";
    case Estimator::glen: return "glen";
    case Estimator::saltelli: return "saltelli";
  }
  return "unknown estimator";
}

const char* to_string(Perturbation perturbation) {
  switch (perturbation) {
    case Perturbation::inpainting: return "inpainting";
    case Perturbation::blurring: return "blurring";
    case Perturbation::amplitude: return "amplitude";
  }
  return "unknown perturbation";
}

const char* to_string(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::nearest: return "nearest";
    case Interpolation::nearest_exact: return "nearest_exact";
    case Interpolation::bilinear: return "bilinear";
    case Interpolation::bicubic: return "bicubic";
    case Interpolation::bicubic_tensorflow: return "bicubic_tensorflow";
  }
  return "unknown interpolation";
}

const char* to_string(HsicKernel kernel) {
  switch (kernel) {
    case HsicKernel::binary: return "binary";
    case HsicKernel::rbf: return "rbf";
    case HsicKernel::sobolev: return "sobolev";
  }
  return "unknown HSIC kernel";
}

const char* to_string(Bandwidth bandwidth) {
  switch (bandwidth) {
    case Bandwidth::median_output: return "median_output";
    case Bandwidth::median_distance: return "median_distance";
  }
  return "unknown bandwidth";
}

}  // namespace cuxplain
