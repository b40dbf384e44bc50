#pragma once
// Command line of the cuxplain program: what `cuxplain explain` was asked to
// do, parsed and checked before any model or image is read.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuxplain/core/options.hpp>

namespace cuxplain::cli {

/// A bad command line: the program prints the message and the usage, exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Method { sobol, hsic, eva };
const char* to_string(Method method);

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

  float epsilon = 0.05f;
  bool clamp = true;
  bool sound = false;

  float alpha = 0.5f;
  ProgressMode progress = ProgressMode::automatic;

  bool runs(Method method) const;
};

/// What the command line asks for.
struct Command {
  enum class Kind { help, version, explain } kind = Kind::help;
  ExplainArgs explain;
};

/// Parses argv (argv[0] excluded). Throws UsageError on an unknown command or
/// option, a missing or malformed value, or a value out of range.
Command parse_command_line(const std::vector<std::string>& args);

/// The synopsis printed after a usage error.
const char* usage_text();
/// The full help: every option with its default.
const char* help_text();

}  // namespace cuxplain::cli
