#pragma once
// Command line of the cuxplain program: what `cuxplain explain` or
// `cuxplain concepts` was asked to do, parsed and checked before any model,
// image or data set is read.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuxplain/core/conventions.hpp>
#include <cuxplain/core/options.hpp>
#include <cuxplain/craft.hpp>
#include <cuxplain/nmf.hpp>

#include "preprocess.hpp"

namespace cuxplain::cli {

/// A bad command line: the program prints the message and the usage, exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Method { sobol, hsic, eva, occlusion, rise, kernelshap };
const char* to_string(Method method);

/// What `--metrics` scores (metrics.hpp): deletion and insertion AUC,
/// MuFidelity, Average Drop / Increase / Gain ("average"), Complexity,
/// Sparseness and AverageStability.
enum class Metric { deletion, insertion, mufidelity, average, complexity, sparseness, stability };
const char* to_string(Metric metric);

enum class ProgressMode { automatic, on, off };

/// Everything `cuxplain explain` takes. Unset optionals mean "the default that
/// depends on the model": the embedded files, the predicted class, the grid
/// size for the model's input size, each method's design size.
struct ExplainArgs {
  std::vector<Method> methods;  // in the order sobol, hsic, eva; never empty
  std::optional<std::string> model_path;
  std::optional<std::string> image_path;
  std::optional<int> target;
  std::string device = "cpu";
  std::string out_dir = "cuxplain-out";
  double scale = 255.0;  // model input = pixel / scale
  Preprocess preprocess;  // --mean, --std, --resize, --center-crop, --channel-order
  std::optional<std::string> labels_path;  // --labels: class names

  std::optional<std::int64_t> grid_size;
  std::optional<std::int64_t> nb_design;
  std::int64_t batch_size = 256;
  Sampler sampler = Sampler::sobol;
  std::int64_t skip = 1;
  std::uint64_t seed = 0;
  Perturbation perturbation = Perturbation::inpainting;
  float baseline = 0.0f;
  std::int64_t blur_size = 10;
  float sigma = 1.0f;
  Interpolation mask_interpolation = Interpolation::nearest_exact;

  Estimator estimator = Estimator::jansen;
  bool first_order = false;

  HsicKernel hsic_kernel = HsicKernel::binary;
  bool continuous_masks = false;
  Bandwidth hsic_width = Bandwidth::median_output;

  float epsilon = 0.05f;
  bool clamp = true;
  bool sound = false;

  float alpha = 0.5f;
  ProgressMode progress = ProgressMode::automatic;

  // The baselines (baselines.hpp).
  std::int64_t patch_size = 3;    // occlusion
  std::int64_t patch_stride = 3;
  float occlusion_value = 0.0f;
  std::optional<std::int64_t> nb_samples;  // rise 4000, kernelshap 800 when unset
  float preservation = 0.5f;               // rise
  Convention convention = Convention::paper;  // rise and the metrics

  // The metrics (metrics.hpp), scored on each method's map.
  std::vector<Metric> metrics;  // empty: none (explain), the default set (evaluate)
  std::int64_t steps = 10;
  double max_percentage = 1.0;
  float metric_baseline = 0.0f;
  std::int64_t mu_grid = 9;
  std::int64_t mu_samples = 200;
  float subset_percent = 0.2f;
  OutputActivation activation = OutputActivation::none;
  std::int64_t stability_samples = 20;
  float radius = 0.1f;
  std::int64_t metric_batch_size = 64;

  bool runs(Method method) const;
  bool scores(Metric metric) const;
};

/// Everything `cuxplain evaluate` takes: the methods and metrics of explain,
/// run on the first N images of the Fashion-MNIST test set.
struct EvaluateArgs {
  ExplainArgs explain;   // methods (default all six), metrics (default deletion,
                         // insertion, mufidelity) and their options
  std::string data_dir;  // default kFashionMnistDir
  std::int64_t images = 100;
  bool label_targets = false;  // --target label: explain the true class
  bool save_maps = false;      // --save-maps: every method's pixel maps in metrics.json
};

/// Everything `cuxplain concepts` takes: CRAFT concepts of one class of the
/// Fashion-MNIST test set. Unset optionals depend on the model (the layer).
struct ConceptsArgs {
  int class_id = -1;  // --class, required unless list_layers
  bool list_layers = false;
  std::optional<std::string> model_path;
  std::optional<std::string> layer;
  std::string data_dir;  // default kFashionMnistDir (fashion_mnist.hpp)
  std::int64_t max_images = 500;
  std::string device = "cpu";
  std::string out_dir = "cuxplain-out";
  double scale = 255.0;
  Preprocess preprocess;
  std::optional<std::string> labels_path;
  /// --image-dir: the class's images, every image file of the folder in name
  /// order (at most max_images), instead of the Fashion-MNIST test set.
  std::optional<std::string> image_dir;

  std::int64_t patch = 10;
  std::int64_t rank = 10;
  std::int64_t max_iter = 200;
  float alpha_w = 1e-2f;
  nmf::Solver nmf_solver = nmf::Solver::mu;
  craft::CropResize crop_resize = craft::CropResize::tensorflow_bicubic;
  std::int64_t nb_design = 32;
  Sampler sampler = Sampler::halton;
  Estimator estimator = Estimator::jansen;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 0;

  std::optional<std::int64_t> top;  // concepts drawn; unset: min(5, rank), "all": rank
  bool top_all = false;
  std::int64_t crops_per_concept = 10;
  std::int64_t map_images = 4;

  // CRAFT's recursion: sub-concepts of one concept at an earlier layer.
  std::int64_t subconcepts = 0;             // --subconcepts S, 0: off
  std::optional<std::int64_t> sub_concept;  // unset: the most important concept
  std::optional<std::int64_t> sub_crops;    // unset: 200; clamped to the crops
  std::optional<std::string> sub_layer;     // unset: depends on the model (concepts.cpp)

  float alpha = 0.5f;
  ProgressMode progress = ProgressMode::automatic;
};

/// What the command line asks for.
struct Command {
  enum class Kind { help, version, explain, concepts, evaluate } kind = Kind::help;
  /// For help: the command whose help was asked for (explain, concepts), or
  /// empty for the whole help.
  std::string help_topic;
  ExplainArgs explain;
  ConceptsArgs concepts;
  EvaluateArgs evaluate;
};

/// Parses argv (argv[0] excluded). Throws UsageError on an unknown command or
/// option, a missing or malformed value, or a value out of range.
Command parse_command_line(const std::vector<std::string>& args);

/// The synopsis printed after a usage error.
const char* usage_text();
/// The full help: every option of every command with its default.
std::string help_text();
/// The help of one command ("explain", "concepts" or "evaluate").
std::string help_text(const std::string& command);

}  // namespace cuxplain::cli
