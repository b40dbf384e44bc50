#pragma once
// Enumerations of the metrics and the baseline explainers (metrics.hpp,
// baselines.hpp).

#include "options.hpp"

namespace cuxplain {

/// Which reading of a metric or a method: its paper's, or xplique 2.0.2's
/// code where that differs (each option struct lists the differences).
enum class Convention {
  paper,    ///< the paper's definition; results independent of batch_size
  xplique,  ///< xplique 2.0.2's code, quirks included
};

/// What the metrics read from the model's outputs (xplique's `activation`):
/// the target's raw score, or its softmax / sigmoid probability.
enum class OutputActivation { none, softmax, sigmoid };

/// Distance between two explanations (AverageStability).
enum class Distance {
  l1,  ///< sum |a - b|
  l2,  ///< sqrt(sum (a - b)^2)
};

const char* to_string(Convention convention);
const char* to_string(OutputActivation activation);
const char* to_string(Distance distance);

/// Their names (options.hpp's enum_names).
template <>
HostSpan<const EnumName<Convention>> enum_names<Convention>();
template <>
HostSpan<const EnumName<OutputActivation>> enum_names<OutputActivation>();
template <>
HostSpan<const EnumName<Distance>> enum_names<Distance>();

}  // namespace cuxplain
