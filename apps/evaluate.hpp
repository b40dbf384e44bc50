#pragma once
// `cuxplain evaluate`, and the scoring that `cuxplain explain --metrics`
// shares with it: the metrics of metrics.hpp on each method's maps, a table
// on the terminal, the values in JSON, the curves in a PNG.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/nn.hpp>

#include "args.hpp"
#include "image_io.hpp"
#include "json.hpp"
#include "methods.hpp"
#include "progress.hpp"

namespace cuxplain::cli {

/// One metric's values on n images for one method.
struct MetricResult {
  std::string name;  ///< deletion, insertion, mufidelity, drop, increase, gain, ...
  bool higher_is_better = true;
  std::vector<float> values;          ///< per image
  std::vector<double> mean_curve;     ///< deletion, insertion: the mean over images
  std::vector<std::int64_t> counts;   ///< deletion, insertion: pixels perturbed per point
  double seconds = 0.0;
  std::int64_t forwards = 0;          ///< model evaluations (explainer runs for stability)

  double mean() const;
  double standard_deviation() const;  ///< over the images (ddof 0)
};

/// One method's run and its scores.
struct Scored {
  MethodMaps maps;
  std::vector<MetricResult> metrics;
};

/// Scores one method's pixel maps (n x h x w on the host) with args.metrics
/// on `images` (on ctx's device). on_progress(label, done, total) reports
/// the model evaluations of each metric.
std::vector<MetricResult> score_maps(
    const Context& ctx, const nn::Network& network, Method method, ConstImageView images,
    const std::vector<int>& targets, const std::vector<float>& maps, const ExplainArgs& args,
    const std::function<void(const std::string&, std::int64_t, std::int64_t)>& on_progress = {});

/// The progress lines of score_maps: one Progress per metric, each closed
/// with its count and time when the next starts (and by finish()).
class MetricProgress {
 public:
  MetricProgress(bool enabled, bool terminal, std::string method);
  void operator()(const std::string& metric, std::int64_t done, std::int64_t total);
  void finish();

 private:
  bool enabled_, terminal_;
  std::string method_, current_;
  std::int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::unique_ptr<Progress> progress_;
};

/// The table: one row per method, its time and each metric's mean (with its
/// standard error over the images when there are several).
void print_metric_table(const std::vector<Scored>& scored, std::int64_t images);

/// A method's "metrics": {name: {mean, std, higher_is_better, values,
/// seconds, ...}}.
Json metrics_json(const std::vector<MetricResult>& metrics);

/// The options the metrics ran with, as an object ("metric_options").
Json metric_options_json(const ExplainArgs& args);

/// The deletion and insertion mean curves of every method, two panels, x the
/// share of pixels perturbed. Empty image when neither metric ran.
Image8 render_curves(const std::vector<Scored>& scored);

/// Runs the command; returns the exit status.
int run_evaluate(const EvaluateArgs& args);

}  // namespace cuxplain::cli
