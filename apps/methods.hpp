#pragma once
// Running one attribution method on a batch of images for `cuxplain
// evaluate` and `cuxplain explain --metrics`: the options from the command
// line, the model driven through the network, the result both as the
// method's own scores and as pixel maps the metrics read.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>

#include "args.hpp"

namespace cuxplain::cli {

/// One method's explanations of n images.
struct MethodMaps {
  Method method = Method::sobol;
  std::int64_t rows = 0;  ///< the scores' grid: g x g, or the image's h x w
  std::int64_t cols = 0;
  std::vector<float> scores;  ///< n x rows x cols, on the host
  std::int64_t forwards = 0;  ///< model evaluations (boxes for eva)
  const char* forwards_unit = "model evaluations";
  double seconds = 0.0;
  std::string summary;  ///< "32 designs", "4000 masks", ...
  /// Options as scores.json and metrics.json list them.
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::pair<std::string, std::string>> texts;
};

/// EVA's options from the command line, for images of `channels` channels:
/// the clamp range is the inputs' range over the channels ([0, 255 / S]
/// normalized by --mean and --std, preprocess.hpp).
EvaOptions eva_options(const ExplainArgs& args, std::int64_t grid, std::int64_t channels);

/// The options every design-based explainer (Sobol, HSIC) shares, from the
/// command line: grid, designs, sampler, perturbation and batch size.
template <class Options>
void set_design_options(const ExplainArgs& args, std::int64_t grid, Options& options) {
  options.grid_size = grid;
  options.nb_design = args.nb_design.value_or(options.nb_design);
  options.sampler = args.sampler;
  options.skip = args.skip;
  options.seed = args.seed;
  options.perturbation = args.perturbation;
  options.baseline = args.baseline;
  options.blur_size = args.blur_size;
  options.sigma = args.sigma;
  options.mask_interpolation = args.mask_interpolation;
  options.batch_size = args.batch_size;
}

/// The grid size of the grid methods: --grid-size, or 7 for 28 x 28 inputs
/// and 8 otherwise.
std::int64_t method_grid(const ExplainArgs& args, std::int64_t h, std::int64_t w);

/// Model evaluations (or EVA's boxes) `method` costs per image.
std::int64_t method_cost(Method method, const ExplainArgs& args, std::int64_t grid,
                         std::int64_t h, std::int64_t w);

/// Runs `method` on `images` (NCHW, on ctx's device) for `targets`.
/// on_forward(count) is called after each model call with the evaluations
/// done so far (for progress lines).
MethodMaps run_method(const Context& ctx, const nn::Network& network, Method method,
                      ConstImageView images, const std::vector<int>& targets,
                      const ExplainArgs& args,
                      const std::function<void(std::int64_t)>& on_forward = {});

/// The maps the metrics read, n x h x w on the host: grids resized to the
/// image as xplique resizes them (tf.image.resize bicubic for Sobol, HSIC and
/// EVA; KernelSHAP's cells broadcast to their pixels, nearest), pixel maps
/// as they are.
std::vector<float> pixel_maps(const MethodMaps& maps, std::int64_t n, std::int64_t h,
                              std::int64_t w);

}  // namespace cuxplain::cli
