// Names of the option enumerations: one table each, read by to_string (error
// messages, reports) and parse_enum (the command line, the bindings).
#include <cuxplain/core/options.hpp>

#include "enum_names.hpp"

namespace cuxplain {
namespace {

constexpr EnumName<Sampler> kSamplers[] = {{Sampler::sobol, "sobol"},
                                           {Sampler::sobol_owen, "sobol_owen"},
                                           {Sampler::halton, "halton"},
                                           {Sampler::lhs, "lhs"},
                                           {Sampler::monte_carlo, "monte_carlo"}};

constexpr EnumName<Estimator> kEstimators[] = {{Estimator::jansen, "jansen"},
                                               {Estimator::homma, "homma"},
                                               {Estimator::janon, "janon"},
                                               {Estimator::glen, "glen"},
                                               {Estimator::saltelli, "saltelli"}};

constexpr EnumName<Perturbation> kPerturbations[] = {{Perturbation::inpainting, "inpainting"},
                                                     {Perturbation::blurring, "blurring"},
                                                     {Perturbation::amplitude, "amplitude"}};

constexpr EnumName<Interpolation> kInterpolations[] = {
    {Interpolation::nearest, "nearest"},
    {Interpolation::nearest_exact, "nearest_exact"},
    {Interpolation::bilinear, "bilinear"},
    {Interpolation::bicubic, "bicubic"},
    {Interpolation::bicubic_tensorflow, "bicubic_tensorflow"}};

constexpr EnumName<HsicKernel> kHsicKernels[] = {{HsicKernel::binary, "binary"},
                                                 {HsicKernel::rbf, "rbf"},
                                                 {HsicKernel::sobolev, "sobolev"}};

constexpr EnumName<Bandwidth> kBandwidths[] = {{Bandwidth::median_output, "median_output"},
                                               {Bandwidth::median_distance, "median_distance"}};

}  // namespace

template <>
HostSpan<const EnumName<Sampler>> enum_names<Sampler>() {
  return detail::span_of(kSamplers);
}
template <>
HostSpan<const EnumName<Estimator>> enum_names<Estimator>() {
  return detail::span_of(kEstimators);
}
template <>
HostSpan<const EnumName<Perturbation>> enum_names<Perturbation>() {
  return detail::span_of(kPerturbations);
}
template <>
HostSpan<const EnumName<Interpolation>> enum_names<Interpolation>() {
  return detail::span_of(kInterpolations);
}
template <>
HostSpan<const EnumName<HsicKernel>> enum_names<HsicKernel>() {
  return detail::span_of(kHsicKernels);
}
template <>
HostSpan<const EnumName<Bandwidth>> enum_names<Bandwidth>() {
  return detail::span_of(kBandwidths);
}

const char* to_string(Sampler sampler) {
  return detail::name_in(kSamplers, sampler, "unknown sampler");
}

const char* to_string(Estimator estimator) {
  return detail::name_in(kEstimators, estimator, "unknown estimator");
}

const char* to_string(Perturbation perturbation) {
  return detail::name_in(kPerturbations, perturbation, "unknown perturbation");
}

const char* to_string(Interpolation interpolation) {
  return detail::name_in(kInterpolations, interpolation, "unknown interpolation");
}

const char* to_string(HsicKernel kernel) {
  return detail::name_in(kHsicKernels, kernel, "unknown HSIC kernel");
}

const char* to_string(Bandwidth bandwidth) {
  return detail::name_in(kBandwidths, bandwidth, "unknown bandwidth");
}

}  // namespace cuxplain
