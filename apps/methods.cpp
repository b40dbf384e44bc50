#include "methods.hpp"

#include <cuxplain/baselines.hpp>
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/hsic.hpp>
#include <cuxplain/sobol.hpp>
#include <cuxplain/upsample.hpp>

#include <chrono>
#include <tuple>
#include <stdexcept>

namespace cuxplain::cli {

std::int64_t method_grid(const ExplainArgs& args, std::int64_t h, std::int64_t w) {
  return args.grid_size.value_or(h == 28 && w == 28 ? 7 : 8);
}

namespace {

std::int64_t rise_samples(const ExplainArgs& args) { return args.nb_samples.value_or(4000); }
std::int64_t shap_samples(const ExplainArgs& args) { return args.nb_samples.value_or(800); }

OcclusionOptions occlusion_options(const ExplainArgs& args) {
  OcclusionOptions options;
  options.patch_h = options.patch_w = args.patch_size;
  options.stride_h = options.stride_w = args.patch_stride;
  options.occlusion_value = args.occlusion_value;
  options.batch_size = args.batch_size;
  return options;
}

}  // namespace

EvaOptions eva_options(const ExplainArgs& args, std::int64_t grid, std::int64_t channels) {
  EvaOptions options;
  options.grid_size = grid;
  options.epsilon = args.epsilon;
  options.clamp = args.clamp;
  std::tie(options.clamp_min, options.clamp_max) = input_range(args.preprocess, channels, args.scale);
  options.cell_mapping = args.mask_interpolation == Interpolation::nearest
                             ? Interpolation::nearest
                             : Interpolation::nearest_exact;
  options.batch_size = args.batch_size;
  options.sound = args.sound;
  return options;
}

std::int64_t method_cost(Method method, const ExplainArgs& args, std::int64_t grid,
                         std::int64_t h, std::int64_t w) {
  const std::int64_t cells = grid * grid;
  switch (method) {
    case Method::sobol: {
      const std::int64_t n = args.nb_design.value_or(32);
      return n * (cells + 1) + (args.first_order ? n : 0);
    }
    case Method::hsic: return args.nb_design.value_or(500);
    case Method::eva: return cells + 1;
    case Method::occlusion: return occlusion_patches(h, w, occlusion_options(args)) + 1;
    case Method::rise: return rise_samples(args);
    case Method::kernelshap: return shap_samples(args);
  }
  return 0;
}

MethodMaps run_method(const Context& ctx, const nn::Network& network, Method method,
                      ConstImageView images, const std::vector<int>& targets,
                      const ExplainArgs& args, const std::function<void(std::int64_t)>& on_forward) {
  const std::int64_t n = images.n, h = images.h, w = images.w;
  const std::int64_t grid = method_grid(args, h, w);
  MethodMaps result;
  result.method = method;
  const bool pixel_method = method == Method::occlusion || method == Method::rise;
  result.rows = pixel_method ? h : grid;
  result.cols = pixel_method ? w : grid;
  const std::int64_t size = result.rows * result.cols;
  Buffer<float> scores(ctx, n * size, "the scores of the method");

  std::int64_t forwards = 0;
  const Model model{network.output_shape().size(), [&](ConstImageView batch, float* outputs) {
                      network.forward(ctx, batch.data, batch.n, outputs);
                      forwards += batch.n;
                      if (on_forward) on_forward(forwards);
                    }};
  const auto start = std::chrono::steady_clock::now();
  switch (method) {
    case Method::sobol: {
      SobolOptions options;
      set_design_options(args, grid, options);
      options.estimator = args.estimator;
      sobol_attribution(ctx, model, images, targets, scores.data(), options);
      result.summary = std::to_string(options.nb_design) + " designs";
      result.numbers = {{"grid_size", static_cast<double>(grid)},
                        {"nb_design", static_cast<double>(options.nb_design)}};
      result.texts = {{"sampler", to_string(options.sampler)},
                      {"estimator", to_string(options.estimator)},
                      {"perturbation", to_string(options.perturbation)}};
      break;
    }
    case Method::hsic: {
      HsicOptions options;
      set_design_options(args, grid, options);
      options.binary = !args.continuous_masks;
      options.input_kernel = args.hsic_kernel;
      options.output_width = args.hsic_width;
      hsic_attribution(ctx, model, images, targets, scores.data(), options);
      result.summary = std::to_string(options.nb_design) + " designs";
      result.numbers = {{"grid_size", static_cast<double>(grid)},
                        {"nb_design", static_cast<double>(options.nb_design)}};
      result.texts = {{"sampler", to_string(options.sampler)},
                      {"input_kernel", to_string(options.input_kernel)}};
      break;
    }
    case Method::eva: {
      const EvaOptions options = eva_options(args, grid, images.c);
      eva_attribution(ctx, network, images, targets, scores.data(), options);
      forwards = n * (grid * grid + 1);
      result.forwards_unit = "boxes";
      result.summary = "epsilon " + std::to_string(options.epsilon).substr(0, 6);
      result.numbers = {{"grid_size", static_cast<double>(grid)},
                        {"epsilon", static_cast<double>(options.epsilon)}};
      break;
    }
    case Method::occlusion: {
      const OcclusionOptions options = occlusion_options(args);
      occlusion(ctx, model, images, targets, scores.data(), options);
      result.summary = std::to_string(occlusion_patches(h, w, options)) + " patches of " +
                       std::to_string(args.patch_size) + " x " + std::to_string(args.patch_size);
      result.numbers = {{"patch_size", static_cast<double>(args.patch_size)},
                        {"patch_stride", static_cast<double>(args.patch_stride)},
                        {"occlusion_value", static_cast<double>(args.occlusion_value)}};
      break;
    }
    case Method::rise: {
      RiseOptions options;
      options.nb_samples = rise_samples(args);
      options.grid_size = grid;
      options.preservation_probability = args.preservation;
      options.mask_value = args.baseline;
      options.seed = args.seed;
      options.convention = args.convention;
      options.batch_size = args.batch_size;
      rise(ctx, model, images, targets, scores.data(), options);
      result.summary = std::to_string(options.nb_samples) + " masks";
      result.numbers = {{"grid_size", static_cast<double>(grid)},
                        {"nb_samples", static_cast<double>(options.nb_samples)},
                        {"preservation_probability",
                         static_cast<double>(options.preservation_probability)}};
      result.texts = {{"convention", to_string(options.convention)}};
      break;
    }
    case Method::kernelshap: {
      KernelShapOptions options;
      options.grid_size = grid;
      options.nb_samples = shap_samples(args);
      options.baseline = args.baseline;
      options.seed = args.seed;
      options.mask_interpolation = args.mask_interpolation == Interpolation::nearest
                                       ? Interpolation::nearest
                                       : Interpolation::nearest_exact;
      options.batch_size = args.batch_size;
      kernel_shap(ctx, model, images, targets, scores.data(), options);
      result.summary = std::to_string(options.nb_samples) + " coalitions";
      result.numbers = {{"grid_size", static_cast<double>(grid)},
                        {"nb_samples", static_cast<double>(options.nb_samples)}};
      break;
    }
  }
  result.scores = to_host(ctx, scores.data(), n * size);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.forwards = forwards;
  return result;
}

std::vector<float> pixel_maps(const MethodMaps& maps, std::int64_t n, std::int64_t h,
                              std::int64_t w) {
  if (maps.rows == h && maps.cols == w) return maps.scores;
  std::vector<float> out(static_cast<std::size_t>(n * h * w));
  const Interpolation how = maps.method == Method::kernelshap
                                ? Interpolation::nearest
                                : Interpolation::bicubic_tensorflow;
  upsample(Context::host(), maps.scores.data(), n, maps.rows, maps.cols, h, w, out.data(), how);
  return out;
}

}  // namespace cuxplain::cli
