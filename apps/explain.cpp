// cuxplain explain: one image through Sobol, HSIC and EVA attribution and
// the baselines (occlusion, RISE, KernelSHAP), each method a row of a table
// (kMethods) that runs it and reports its options; with --metrics each map
// is then scored (evaluate.hpp); the overlays, curves.png and scores.json
// are written once every method has run.
#include "explain.hpp"

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "evaluate.hpp"
#include "image_io.hpp"
#include "json.hpp"
#include "methods.hpp"
#include "model_files.hpp"
#include "output_files.hpp"
#include "overlay.hpp"
#include "plot.hpp"
#include "preprocess.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

/// What every method of a run reads.
struct ExplainRun {
  const ExplainArgs& args;
  Context ctx;
  nn::Network network;
  std::int64_t classes = 0;
  ConstImageView images;  // the image, on ctx's device
  std::vector<int> targets;
  std::int64_t grid = 0;
  bool show_progress = false, terminal = false;

  std::int64_t cells() const { return grid * grid; }
};

/// One method's result, as scores.json and the summary report it.
struct MethodResult {
  std::vector<float> scores;
  std::vector<float> first_order;  // sobol --first-order only
  double seconds = 0.0;
  std::int64_t forwards = 0;
  const char* forwards_unit = "model evaluations";
  std::string summary;  // "32 designs" / "epsilon 0.05"
  Json options;         // the options used, as scores.json lists them
  // A pixel map (occlusion, rise): rows x cols = the input's h x w; 0 for
  // the grid methods.
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

using Clock = std::chrono::steady_clock;

bool all_finite(const std::vector<float>& values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

/// The network as a Model callback, counting its rows for the progress line.
Model counted_model(const ExplainRun& run, std::int64_t& forwards, Progress& progress) {
  return Model{run.classes, [&run, &forwards, &progress](ConstImageView batch, float* outputs) {
                 run.network.forward(run.ctx, batch.data, batch.n, outputs);
                 forwards += batch.n;
                 progress.update(forwards);
               }};
}

/// The options Sobol and HSIC share, in scores.json's order.
template <class Options>
Json design_options(const Options& options) {
  Json json;
  json["nb_design"] = options.nb_design;
  json["skip"] = options.skip;
  json["blur_size"] = options.blur_size;
  json["batch_size"] = options.batch_size;
  json["baseline"] = json_float(options.baseline);
  json["sigma"] = json_float(options.sigma);
  json["sampler"] = to_string(options.sampler);
  return json;
}

MethodResult run_sobol(const ExplainRun& run) {
  SobolOptions options;
  set_design_options(run.args, run.grid, options);
  options.estimator = run.args.estimator;
  options.first_order = run.args.first_order;
  const std::int64_t total =
      options.nb_design * (run.cells() + 1) + (options.first_order ? options.nb_design : 0);
  Progress progress(run.show_progress, run.terminal, "sobol", total, "model evaluations");
  MethodResult result;
  const Model model = counted_model(run, result.forwards, progress);
  Buffer<float> scores(run.ctx, run.cells());
  Buffer<float> first_order(run.ctx, options.first_order ? run.cells() : 0);
  const auto start = Clock::now();
  sobol_attribution(run.ctx, model, run.images, run.targets, scores.data(), options,
                    first_order.data());
  result.scores = to_host(run.ctx, scores.data(), run.cells());
  if (options.first_order) result.first_order = to_host(run.ctx, first_order.data(), run.cells());
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  progress.finish(result.forwards, result.seconds);
  result.summary = std::to_string(options.nb_design) + " designs";
  result.options = design_options(options);
  result.options["estimator"] = to_string(options.estimator);
  result.options["perturbation"] = to_string(options.perturbation);
  result.options["mask_interpolation"] = to_string(options.mask_interpolation);
  result.options["first_order"] = options.first_order;
  return result;
}

MethodResult run_hsic(const ExplainRun& run) {
  HsicOptions options;
  set_design_options(run.args, run.grid, options);
  options.binary = !run.args.continuous_masks;
  options.input_kernel = run.args.hsic_kernel;
  options.output_width = run.args.hsic_width;
  Progress progress(run.show_progress, run.terminal, "hsic", options.nb_design,
                    "model evaluations");
  MethodResult result;
  const Model model = counted_model(run, result.forwards, progress);
  Buffer<float> scores(run.ctx, run.cells());
  const auto start = Clock::now();
  hsic_attribution(run.ctx, model, run.images, run.targets, scores.data(), options);
  result.scores = to_host(run.ctx, scores.data(), run.cells());
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  progress.finish(result.forwards, result.seconds);
  result.summary = std::to_string(options.nb_design) + " designs";
  result.options = design_options(options);
  result.options["input_kernel"] = to_string(options.input_kernel);
  result.options["output_width"] = to_string(options.output_width);
  result.options["perturbation"] = to_string(options.perturbation);
  result.options["mask_interpolation"] = to_string(options.mask_interpolation);
  result.options["binary_masks"] = options.binary;
  return result;
}

MethodResult run_eva(const ExplainRun& run) {
  const ExplainArgs& args = run.args;
  const EvaOptions options = eva_options(args, run.grid, run.images.c);
  Progress progress(run.show_progress, run.terminal, "eva", run.cells() + 1, "boxes");
  progress.update(0);
  MethodResult result;
  Buffer<float> scores(run.ctx, run.cells());
  const auto start = Clock::now();
  eva_attribution(run.ctx, run.network, run.images, run.targets, scores.data(), options);
  result.scores = to_host(run.ctx, scores.data(), run.cells());
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.forwards = run.cells() + 1;
  result.forwards_unit = "boxes";
  progress.finish(result.forwards, result.seconds);
  result.summary = "epsilon " + format_number(options.epsilon);
  result.options["batch_size"] = options.batch_size;
  result.options["epsilon"] = json_float(options.epsilon);
  if (options.clamp) {
    result.options["clamp_min"] = json_float(options.clamp_min);
    result.options["clamp_max"] = json_float(options.clamp_max);
  }
  result.options["cell_mapping"] = to_string(options.cell_mapping);
  result.options["clamp"] = options.clamp;
  result.options["sound"] = options.sound;
  return result;
}

/// The baselines (occlusion, rise, kernelshap), through methods.hpp; their
/// maps are the input's pixels or the grid's cells.
MethodResult run_baseline(const ExplainRun& run, Method method) {
  const nn::Shape in = run.network.input_shape();
  Progress progress(run.show_progress, run.terminal, to_string(method),
                    method_cost(method, run.args, run.grid, in.h, in.w), "model evaluations");
  const MethodMaps maps = run_method(run.ctx, run.network, method, run.images, run.targets,
                                     run.args, [&](std::int64_t done) { progress.update(done); });
  progress.finish(maps.forwards, maps.seconds);
  MethodResult result;
  result.scores = maps.scores;
  result.seconds = maps.seconds;
  result.forwards = maps.forwards;
  result.forwards_unit = maps.forwards_unit;
  result.summary = maps.summary;
  if (maps.rows != run.grid || maps.cols != run.grid) {
    result.rows = maps.rows;
    result.cols = maps.cols;
  }
  result.options["batch_size"] = run.args.batch_size;
  for (const auto& [key, v] : maps.numbers) result.options[key] = json_float(static_cast<float>(v));
  for (const auto& [key, v] : maps.texts) result.options[key] = v;
  return result;
}

MethodResult run_occlusion(const ExplainRun& run) { return run_baseline(run, Method::occlusion); }
MethodResult run_rise(const ExplainRun& run) { return run_baseline(run, Method::rise); }
MethodResult run_kernelshap(const ExplainRun& run) {
  return run_baseline(run, Method::kernelshap);
}

/// The methods, in the order a run takes them and scores.json lists them.
struct MethodEntry {
  Method method;
  MethodResult (*run)(const ExplainRun&);
  bool seeded;  // "seed" in scores.json's options
};

constexpr MethodEntry kMethods[] = {
    {Method::sobol, run_sobol, true},         {Method::hsic, run_hsic, true},
    {Method::eva, run_eva, false},            {Method::occlusion, run_occlusion, true},
    {Method::rise, run_rise, true},           {Method::kernelshap, run_kernelshap, true},
};

/// The image: RGB for the overlays, the model's channels and size for the model.
struct LoadedImage {
  Image8 display;
  Image8 source;
  std::vector<float> input;
};

LoadedImage load_image(const ResolvedFile& file, const nn::Shape& in, double scale,
                       const Preprocess& preprocess) {
  if (in.c > 4) {
    throw std::runtime_error("the model takes " + std::to_string(in.c) +
                             " channels; images convert to 1 to 4");
  }
  check_preprocess(preprocess, in.c);
  LoadedImage image;
  image.display = preprocess_display(read_image(file.path, 3), preprocess);
  image.source = read_image(file.path, static_cast<int>(in.c));
  image.input = preprocess_image(image.source, in.c, in.h, in.w, scale, preprocess);
  return image;
}

/// How the image became the model's input, for the report: "", ", resized
/// to W x H" or ", resized to W x H, cropped to W x H".
std::string shaping_text(const Image8& source, const nn::Shape& in, const Preprocess& p) {
  const auto wh = [](std::int64_t h, std::int64_t w) {
    return std::to_string(w) + " x " + std::to_string(h);
  };
  if (!p.geometric()) {
    return source.height != in.h || source.width != in.w ? ", resized to " + wh(in.h, in.w) : "";
  }
  std::string text;
  if (p.resize) {
    const auto [h, w] = resized_size(source.height, source.width, *p.resize);
    text += ", resized to " + wh(h, w) + " (antialiased bilinear)";
  }
  if (p.crop_h) text += ", cropped to " + wh(*p.crop_h, *p.crop_w);
  return text;
}

void print_grid(const std::vector<float>& scores, std::int64_t grid) {
  for (std::int64_t row = 0; row < grid; ++row) {
    std::printf("       ");
    for (std::int64_t col = 0; col < grid; ++col) {
      std::printf(" %9.3g", static_cast<double>(scores[static_cast<std::size_t>(row * grid + col)]));
    }
    std::printf("\n");
  }
}

/// Scores of rows x cols (a grid or a pixel map), one array per row.
Json grid_json(const std::vector<float>& scores, std::int64_t rows, std::int64_t cols) {
  Json json = Json::array();
  for (std::int64_t row = 0; row < rows; ++row) {
    Json cells = Json::array();
    for (std::int64_t col = 0; col < cols; ++col) {
      cells.push_back(json_float(scores[static_cast<std::size_t>(row * cols + col)]));
    }
    json.push_back(std::move(cells));
  }
  return json;
}

Json floats_json(const std::vector<float>& values) {
  Json array = Json::array();
  for (float v : values) array.push_back(json_float(v));
  return array;
}

/// One method's entry of scores.json.
Json method_json(const MethodEntry& entry, const MethodResult& r, const ExplainRun& run,
                 int predicted, const std::vector<std::string>& names, const Scored* scored) {
  const int target = run.targets.front();
  Json json;
  json["method"] = to_string(entry.method);
  if (r.rows > 0) {
    json["map_size"] = {r.rows, r.cols};
  } else {
    json["grid_size"] = run.grid;
  }
  json["target"] = target;
  if (!names.empty()) json["target_name"] = names[static_cast<std::size_t>(target)];
  json["predicted_class"] = predicted;
  if (!names.empty()) json["predicted_name"] = names[static_cast<std::size_t>(predicted)];
  json["scores"] = r.rows > 0 ? grid_json(r.scores, r.rows, r.cols)
                              : grid_json(r.scores, run.grid, run.grid);
  if (!r.first_order.empty()) json["first_order"] = grid_json(r.first_order, run.grid, run.grid);
  json["seconds"] = json_rounded(r.seconds, 6);
  json["forwards"] = r.forwards;
  json["forwards_unit"] = r.forwards_unit;
  json["overlay"] = std::string(to_string(entry.method)) + ".png";
  Json options = r.options;
  if (entry.seeded) options["seed"] = static_cast<std::uint64_t>(run.args.seed);
  json["options"] = std::move(options);
  if (scored != nullptr) json["metrics"] = metrics_json(scored->metrics);
  return json;
}

/// --metrics: each method's map scored on the image, the table printed and
/// the deletion and insertion curves drawn.
std::vector<Scored> score_methods(const ExplainRun& run,
                                  const std::vector<std::pair<Method, MethodResult>>& results,
                                  OutputDir& out) {
  std::vector<Scored> scored;
  const nn::Shape in = run.network.input_shape();
  for (const auto& [method, r] : results) {
    Scored s;
    s.maps.method = method;
    s.maps.rows = r.rows > 0 ? r.rows : run.grid;
    s.maps.cols = r.rows > 0 ? r.cols : run.grid;
    s.maps.scores = r.scores;
    s.maps.seconds = r.seconds;
    const std::vector<float> maps = pixel_maps(s.maps, 1, in.h, in.w);
    MetricProgress progress(run.show_progress, run.terminal, to_string(method));
    s.metrics = score_maps(run.ctx, run.network, method, run.images, run.targets, maps, run.args,
                           [&](const std::string& label, std::int64_t done, std::int64_t all) {
                             progress(label, done, all);
                           });
    progress.finish();
    scored.push_back(std::move(s));
  }
  print_metric_table(scored, 1);
  const Image8 plot = render_curves(scored);
  if (!plot.pixels.empty()) {
    out.write("curves.png", encode_png(plot));
    std::printf("curves  %s\n", out.path("curves.png").c_str());
  }
  return scored;
}

}  // namespace

int run_explain(const ExplainArgs& args) {
  const ResolvedFile model_file = resolve(args.model_path, "--model", kDefaultModel);
  const ResolvedFile image_file = resolve(args.image_path, "--image", kDefaultImage);
  const bool terminal = isatty(STDERR_FILENO) != 0;
  ExplainRun run{args, make_context(args.device), {}, 0, {}, {}, 0,
                 args.progress == ProgressMode::on ||
                     (args.progress == ProgressMode::automatic && terminal),
                 terminal};

  // The model.
  bool channels_last = false;
  {
    const nn::OnnxModel model = read_model(model_file.path, &channels_last);
    run.network = model.builder.build(run.ctx, model.output);
  }
  const nn::Shape in = run.network.input_shape();
  expect_class_scores(model_file.path, run.network.output_shape());
  run.classes = run.network.output_shape().size();
  if (in.h == 1 && in.w == 1) {
    throw std::runtime_error("the model takes a flat vector of " + std::to_string(in.c) +
                             " features; cuxplain explain needs an image input N x C x H x W");
  }
  std::string sidecar;
  const std::vector<std::string> names =
      class_names(model_file.path, args.labels_path, run.classes, sidecar);

  const LoadedImage image = load_image(image_file, in, args.scale, args.preprocess);
  run.grid = args.grid_size.value_or(in.h == 28 && in.w == 28 ? 7 : 8);
  if (run.grid > std::min(in.h, in.w)) {
    throw UsageError("--grid-size " + std::to_string(run.grid) +
                     " is larger than the model input (" + std::to_string(in.h) + " x " +
                     std::to_string(in.w) + ")");
  }
  Buffer<float> device_image(run.ctx, in.size());
  copy_to_device(run.ctx, device_image.data(), image.input.data(),
                 image.input.size() * sizeof(float));
  run.images = {device_image.data(), 1, in.c, in.h, in.w, Layout::nchw};

  // The prediction: one forward pass on the image.
  Buffer<float> logits_device(run.ctx, run.classes);
  run.network.forward(run.ctx, device_image.data(), 1, logits_device.data());
  const std::vector<float> logits = to_host(run.ctx, logits_device.data(), run.classes);
  if (!all_finite(logits)) throw std::runtime_error("the model's output on the image is not finite");
  const int predicted =
      static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const int target = args.target.value_or(predicted);
  if (target >= run.classes) {
    throw UsageError("--target must be in [0, " + std::to_string(run.classes) + "), got " +
                     std::to_string(target));
  }
  run.targets = {target};

  std::printf("model   %s%s: %s%s -> %lld classes%s\n", model_file.path.c_str(),
              model_file.is_default ? " (embedded default)" : "", nn::to_string(in).c_str(),
              channels_last ? " (its ONNX input is channels-last, H x W x C)" : "",
              static_cast<long long>(run.classes),
              sidecar.empty() ? "" : (", names from " + sidecar).c_str());
  std::printf("image   %s%s: %d x %d%s\n", image_file.path.c_str(),
              image_file.is_default ? " (bundled sample)" : "", image.source.width,
              image.source.height, shaping_text(image.source, in, args.preprocess).c_str());
  std::printf("device  %s\n", args.device.c_str());
  std::printf("class   predicted %s, logit %.4g; explaining %s on a %lld x %lld grid\n",
              class_label(predicted, names).c_str(), static_cast<double>(logits[predicted]),
              class_label(target, names).c_str(), static_cast<long long>(run.grid),
              static_cast<long long>(run.grid));
  if (run.classes > 10) {
    // Large label sets: the five highest scores.
    std::printf("top 5  ");
    for (const Json& entry : top_classes_json(logits, names, 5)) {
      std::printf(" %s %.4g;",
                  class_label(entry["class"].get<int>(), names).c_str(),
                  entry["logit"].get<double>());
    }
    std::printf("\n");
  }
  std::fflush(stdout);

  // The files go to a staging directory, and into --out only when every
  // method has succeeded (commit below).
  OutputDir out(args.out_dir);
  const int factor = display_factor(image.display);
  std::vector<std::pair<Method, MethodResult>> results;
  for (const MethodEntry& entry : kMethods) {
    if (!args.runs(entry.method)) continue;
    const char* name = to_string(entry.method);
    MethodResult result = entry.run(run);
    if (!all_finite(result.scores) || !all_finite(result.first_order)) {
      throw std::runtime_error(std::string(name) + " produced non-finite scores");
    }
    const std::string overlay = std::string(name) + ".png";
    out.write(overlay, encode_png(result.rows > 0
                                      ? render_map_overlay(image.display, result.scores,
                                                           result.rows, result.cols, factor,
                                                           args.alpha)
                                      : render_overlay(image.display, result.scores, run.grid,
                                                       factor, args.alpha)));
    std::printf("%-7s %s, %lld %s in %.3f s -> %s\n", name, result.summary.c_str(),
                static_cast<long long>(result.forwards), result.forwards_unit, result.seconds,
                out.path(overlay).c_str());
    if (result.rows > 0) {
      const auto [low, high] = std::minmax_element(result.scores.begin(), result.scores.end());
      std::printf("        %lld x %lld pixel map, from %.3g to %.3g\n",
                  static_cast<long long>(result.rows), static_cast<long long>(result.cols),
                  static_cast<double>(*low), static_cast<double>(*high));
    } else {
      print_grid(result.scores, run.grid);
    }
    std::fflush(stdout);
    results.emplace_back(entry.method, std::move(result));
  }
  // The metrics of every method's map on the image (--metrics).
  const std::vector<Scored> scored =
      args.metrics.empty() ? std::vector<Scored>{} : score_methods(run, results, out);
  Json methods = Json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& [method, result] = results[i];
    const MethodEntry& entry = *std::find_if(std::begin(kMethods), std::end(kMethods),
                                             [m = method](const MethodEntry& e) {
                                               return e.method == m;
                                             });
    methods.push_back(method_json(entry, result, run, predicted, names,
                                  scored.empty() ? nullptr : &scored[i]));
  }

  // scores.json
  Json json = result_json(model_file);
  json["image"] = fs::absolute(image_file.path).lexically_normal().string();
  json["image_is_default"] = image_file.is_default;
  json["image_size"] = {image.source.height, image.source.width};
  json["input_shape"] = {in.c, in.h, in.w};
  json["scale"] = args.scale;
  if (!args.preprocess.is_default()) json["preprocess"] = preprocess_json(args.preprocess);
  json["device"] = args.device;
  json["num_classes"] = run.classes;
  if (!names.empty()) json["class_names"] = names;
  if (!sidecar.empty()) json["class_names_file"] = sidecar;
  json["logits"] = floats_json(logits);
  json["top_classes"] = top_classes_json(logits, names, 5);
  json["predicted_class"] = predicted;
  json["target"] = target;
  if (!scored.empty()) json["metric_options"] = metric_options_json(args);
  json["methods"] = std::move(methods);
  out.write("scores.json", json_text(json));
  std::printf("scores  %s\n", out.path("scores.json").c_str());
  // A report that did not reach stdout fails the run before --out changes.
  check_stdout();
  out.commit();
  return 0;
}

}  // namespace cuxplain::cli
