#pragma once
// `cuxplain concepts`: CRAFT concepts of one Fashion-MNIST class.
#include "args.hpp"

namespace cuxplain::cli {

/// Runs the command; returns the exit status. Throws UsageError for
/// arguments that do not fit the model (a class or rank beyond it, an
/// unknown layer) and std::runtime_error or cuxplain::Error when the run
/// fails.
int run_concepts(const ConceptsArgs& args);

}  // namespace cuxplain::cli
