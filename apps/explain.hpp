#pragma once
// `cuxplain explain`: Sobol, HSIC and EVA attribution of one image.
#include "args.hpp"

namespace cuxplain::cli {

/// Runs the command; returns the exit status. Throws UsageError for
/// arguments that do not fit the model (a grid or target beyond it) and
/// std::runtime_error or cuxplain::Error when the run fails.
int run_explain(const ExplainArgs& args);

}  // namespace cuxplain::cli
