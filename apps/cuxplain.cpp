// cuxplain: explains an image classifier read from an ONNX file with Sobol,
// HSIC and EVA attribution, and writes heatmap overlays and scores.json; and
// extracts CRAFT concepts of a Fashion-MNIST class (concepts.cpp).
//
//   cuxplain explain [--method sobol|hsic|eva|all] [--model FILE.onnx] [--image FILE]
//                    [--target N] [--device cpu|cuda] [--out DIR] ...
//   cuxplain concepts --class N [--images N] [--patch P] [--concepts R] ...
//
// `cuxplain --help` documents every option (apps/args.cpp).
#include <cuxplain/cuxplain.hpp>
#include <cuxplain/eva.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "concepts.hpp"
#include "evaluate.hpp"
#include "image_io.hpp"
#include "json.hpp"
#include "model_files.hpp"
#include "output_files.hpp"
#include "methods.hpp"
#include "overlay.hpp"
#include "plot.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

/// One method's result, as scores.json and the summary report it.
struct MethodResult {
  Method method;
  std::vector<float> scores;
  std::vector<float> first_order;  // sobol --first-order only
  double seconds = 0.0;
  std::int64_t forwards = 0;
  const char* forwards_unit = "model evaluations";
  std::string overlay;
  std::string summary;  // "32 designs" / "epsilon 0.05"
  // The options used, as scores.json lists them.
  std::vector<std::pair<std::string, std::int64_t>> int_options;
  std::vector<std::pair<std::string, float>> float_options;
  std::vector<std::pair<std::string, std::string>> text_options;
  std::vector<std::pair<std::string, bool>> flag_options;
  // A pixel map (occlusion, rise): rows x cols = the input's h x w; 0 for
  // the grid methods.
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

bool all_finite(const std::vector<float>& values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

void write_grid(JsonWriter& json, const std::vector<float>& scores, std::int64_t grid) {
  json.begin_array();
  for (std::int64_t row = 0; row < grid; ++row) {
    json.begin_array(/*inline_items=*/true);
    for (std::int64_t col = 0; col < grid; ++col) {
      json.value(scores[static_cast<std::size_t>(row * grid + col)]);
    }
    json.end_array();
  }
  json.end_array();
}

void write_map(JsonWriter& json, const std::vector<float>& map, std::int64_t rows,
               std::int64_t cols) {
  json.begin_array();
  for (std::int64_t row = 0; row < rows; ++row) {
    json.begin_array(/*inline_items=*/true);
    for (std::int64_t col = 0; col < cols; ++col) {
      json.value(map[static_cast<std::size_t>(row * cols + col)]);
    }
    json.end_array();
  }
  json.end_array();
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

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

int run_explain(const ExplainArgs& args) {
  const ResolvedFile model_file = resolve(args.model_path, "--model", kDefaultModel);
  const ResolvedFile image_file = resolve(args.image_path, "--image", kDefaultImage);
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const bool show_progress = args.progress == ProgressMode::on ||
                             (args.progress == ProgressMode::automatic && terminal);

  const Context ctx = make_context(args.device);

  // The model.
  const nn::Network network = nn::load_onnx(ctx, model_file.path);
  const nn::Shape in = network.input_shape();
  expect_class_scores(model_file.path, network.output_shape());
  const std::int64_t classes = network.output_shape().size();
  if (in.h == 1 && in.w == 1) {
    throw std::runtime_error("the model takes a flat vector of " + std::to_string(in.c) +
                             " features; cuxplain explain needs an image input N x C x H x W");
  }
  std::string sidecar;
  const std::vector<std::string> names = class_names(model_file.path, classes, sidecar);

  // The image: RGB for the overlays, the model's channels and size for the model.
  if (in.c > 4) {
    throw std::runtime_error("the model takes " + std::to_string(in.c) +
                             " channels; images convert to 1 to 4");
  }
  const Image8 display = read_image(image_file.path, 3);
  const Image8 source = read_image(image_file.path, static_cast<int>(in.c));
  const std::vector<float> input = to_model_input(source, in.c, in.h, in.w, args.scale);
  const bool resized = source.height != in.h || source.width != in.w;

  const std::int64_t grid = args.grid_size.value_or(in.h == 28 && in.w == 28 ? 7 : 8);
  if (grid > std::min(in.h, in.w)) {
    throw UsageError("--grid-size " + std::to_string(grid) + " is larger than the model input (" +
                     std::to_string(in.h) + " x " + std::to_string(in.w) + ")");
  }
  const std::int64_t cells = grid * grid;

  Buffer<float> image(ctx, in.size());
  copy_to_device(ctx, image.data(), input.data(), input.size() * sizeof(float));
  const ConstImageView images{image.data(), 1, in.c, in.h, in.w, Layout::nchw};

  // The prediction: one forward pass on the image.
  Buffer<float> logits_device(ctx, classes);
  network.forward(ctx, image.data(), 1, logits_device.data());
  const std::vector<float> logits = to_host(ctx, logits_device.data(), classes);
  if (!all_finite(logits)) throw std::runtime_error("the model's output on the image is not finite");
  const int predicted =
      static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const int target = args.target.value_or(predicted);
  if (target >= classes) {
    throw UsageError("--target must be in [0, " + std::to_string(classes) + "), got " +
                     std::to_string(target));
  }
  const std::vector<int> targets{target};

  std::printf("model   %s%s: %s -> %lld classes%s\n", model_file.path.c_str(),
              model_file.is_default ? " (embedded default)" : "", nn::to_string(in).c_str(),
              static_cast<long long>(classes),
              sidecar.empty() ? "" : (", names from " + sidecar).c_str());
  std::printf("image   %s%s: %d x %d%s\n", image_file.path.c_str(),
              image_file.is_default ? " (bundled sample)" : "", source.width, source.height,
              resized ? (", resized to " + std::to_string(in.w) + " x " + std::to_string(in.h))
                            .c_str()
                      : "");
  std::printf("device  %s\n", args.device.c_str());
  std::printf("class   predicted %s, logit %.4g; explaining %s on a %lld x %lld grid\n",
              class_label(predicted, names).c_str(), static_cast<double>(logits[predicted]),
              class_label(target, names).c_str(), static_cast<long long>(grid),
              static_cast<long long>(grid));
  std::fflush(stdout);

  // The files go to a staging directory, and into --out only when every
  // method has succeeded (commit below).
  OutputDir out(args.out_dir);

  Buffer<float> scores_device(ctx, cells);
  const int factor = display_factor(display);
  std::vector<MethodResult> results;

  for (Method method : args.methods) {
    MethodResult result;
    result.method = method;
    const char* name = to_string(method);
    std::int64_t forwards = 0;
    std::optional<Progress> progress;
    Model model{classes, [&](ConstImageView batch, float* outputs) {
      network.forward(ctx, batch.data, batch.n, outputs);
      forwards += batch.n;
      progress->update(forwards);
    }};
    Buffer<float> first_order_device;

    const auto start = std::chrono::steady_clock::now();
    if (method == Method::sobol) {
      SobolOptions options;
      options.grid_size = grid;
      options.nb_design = args.nb_design.value_or(options.nb_design);
      options.sampler = args.sampler;
      options.skip = args.skip;
      options.seed = args.seed;
      options.estimator = args.estimator;
      options.first_order = args.first_order;
      options.perturbation = args.perturbation;
      options.baseline = args.baseline;
      options.blur_size = args.blur_size;
      options.sigma = args.sigma;
      options.mask_interpolation = args.mask_interpolation;
      options.batch_size = args.batch_size;
      const std::int64_t total =
          options.nb_design * (cells + 1) + (options.first_order ? options.nb_design : 0);
      progress.emplace(show_progress, terminal, name, total, "model evaluations");
      if (options.first_order) first_order_device = Buffer<float>(ctx, cells);
      sobol_attribution(ctx, model, images, targets, scores_device.data(), options,
                        first_order_device.data());
      result.summary = std::to_string(options.nb_design) + " designs";
      result.int_options = {{"nb_design", options.nb_design},
                            {"skip", options.skip},
                            {"blur_size", options.blur_size},
                            {"batch_size", options.batch_size}};
      result.float_options = {{"baseline", options.baseline}, {"sigma", options.sigma}};
      result.text_options = {{"sampler", cuxplain::to_string(options.sampler)},
                             {"estimator", cuxplain::to_string(options.estimator)},
                             {"perturbation", cuxplain::to_string(options.perturbation)},
                             {"mask_interpolation",
                              cuxplain::to_string(options.mask_interpolation)}};
      result.flag_options = {{"first_order", options.first_order}};
    } else if (method == Method::hsic) {
      HsicOptions options;
      options.grid_size = grid;
      options.nb_design = args.nb_design.value_or(options.nb_design);
      options.sampler = args.sampler;
      options.skip = args.skip;
      options.seed = args.seed;
      options.binary = !args.continuous_masks;
      options.input_kernel = args.hsic_kernel;
      options.output_width = args.hsic_width;
      options.perturbation = args.perturbation;
      options.baseline = args.baseline;
      options.blur_size = args.blur_size;
      options.sigma = args.sigma;
      options.mask_interpolation = args.mask_interpolation;
      options.batch_size = args.batch_size;
      progress.emplace(show_progress, terminal, name, options.nb_design, "model evaluations");
      hsic_attribution(ctx, model, images, targets, scores_device.data(), options);
      result.summary = std::to_string(options.nb_design) + " designs";
      result.int_options = {{"nb_design", options.nb_design},
                            {"skip", options.skip},
                            {"blur_size", options.blur_size},
                            {"batch_size", options.batch_size}};
      result.float_options = {{"baseline", options.baseline}, {"sigma", options.sigma}};
      result.text_options = {{"sampler", cuxplain::to_string(options.sampler)},
                             {"input_kernel", cuxplain::to_string(options.input_kernel)},
                             {"output_width", cuxplain::to_string(options.output_width)},
                             {"perturbation", cuxplain::to_string(options.perturbation)},
                             {"mask_interpolation",
                              cuxplain::to_string(options.mask_interpolation)}};
      result.flag_options = {{"binary_masks", options.binary}};
    } else if (method == Method::eva) {
      EvaOptions options;
      options.grid_size = grid;
      options.epsilon = args.epsilon;
      options.clamp = args.clamp;
      options.clamp_min = 0.0f;
      options.clamp_max = static_cast<float>(255.0 / args.scale);
      options.cell_mapping = args.mask_interpolation == Interpolation::nearest
                                 ? Interpolation::nearest
                                 : Interpolation::nearest_exact;
      options.batch_size = args.batch_size;
      options.sound = args.sound;
      progress.emplace(show_progress, terminal, name, cells + 1, "boxes");
      progress->update(0);
      eva_attribution(ctx, network, images, targets, scores_device.data(), options);
      forwards = cells + 1;
      result.forwards_unit = "boxes";
      result.summary = "epsilon " + format_number(options.epsilon);
      result.int_options = {{"batch_size", options.batch_size}};
      result.float_options = {{"epsilon", options.epsilon}};
      if (options.clamp) {
        result.float_options.emplace_back("clamp_min", options.clamp_min);
        result.float_options.emplace_back("clamp_max", options.clamp_max);
      }
      result.text_options = {{"cell_mapping", cuxplain::to_string(options.cell_mapping)}};
      result.flag_options = {{"clamp", options.clamp}, {"sound", options.sound}};
    } else {
      // The baselines (occlusion, rise, kernelshap), through methods.hpp.
      progress.emplace(show_progress, terminal, name,
                       method_cost(method, args, grid, in.h, in.w), "model evaluations");
      const MethodMaps maps = run_method(ctx, network, method, images, targets, args,
                                         [&](std::int64_t done) { progress->update(done); });
      forwards = maps.forwards;
      result.summary = maps.summary;
      for (const auto& [key, v] : maps.numbers) result.float_options.emplace_back(key, v);
      for (const auto& [key, v] : maps.texts) result.text_options.emplace_back(key, v);
      result.int_options = {{"batch_size", args.batch_size}};
      if (maps.rows != grid || maps.cols != grid) {
        result.rows = maps.rows;
        result.cols = maps.cols;
      }
      result.scores = maps.scores;
    }
    if (result.rows == 0 && result.scores.empty()) {
      result.scores = to_host(ctx, scores_device.data(), cells);
    }
    if (first_order_device.size() > 0) {
      result.first_order = to_host(ctx, first_order_device.data(), cells);
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.forwards = forwards;
    progress->finish(forwards, result.seconds);

    if (!all_finite(result.scores) || !all_finite(result.first_order)) {
      throw std::runtime_error(std::string(name) + " produced non-finite scores");
    }
    const std::string overlay = std::string(name) + ".png";
    out.write(overlay, encode_png(result.rows > 0
                                      ? render_map_overlay(display, result.scores, result.rows,
                                                           result.cols, factor, args.alpha)
                                      : render_overlay(display, result.scores, grid, factor,
                                                       args.alpha)));
    result.overlay = out.path(overlay);

    std::printf("%-7s %s, %lld %s in %.3f s -> %s\n", name, result.summary.c_str(),
                static_cast<long long>(result.forwards), result.forwards_unit, result.seconds,
                result.overlay.c_str());
    if (result.rows > 0) {
      const auto [low, high] = std::minmax_element(result.scores.begin(), result.scores.end());
      std::printf("        %lld x %lld pixel map, from %.3g to %.3g\n",
                  static_cast<long long>(result.rows), static_cast<long long>(result.cols),
                  static_cast<double>(*low), static_cast<double>(*high));
    } else {
      print_grid(result.scores, grid);
    }
    std::fflush(stdout);
    results.push_back(std::move(result));
  }

  // The metrics of every method's map on the image (--metrics).
  std::vector<Scored> scored;
  if (!args.metrics.empty()) {
    for (const MethodResult& r : results) {
      Scored s;
      s.maps.method = r.method;
      s.maps.rows = r.rows > 0 ? r.rows : grid;
      s.maps.cols = r.rows > 0 ? r.cols : grid;
      s.maps.scores = r.scores;
      s.maps.seconds = r.seconds;
      const std::vector<float> maps = pixel_maps(s.maps, 1, in.h, in.w);
      MetricProgress progress(show_progress, terminal, to_string(r.method));
      s.metrics = score_maps(ctx, network, r.method, images, targets, maps, args,
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
  }

  // scores.json
  JsonWriter json;
  begin_result_json(json, model_file);
  json.key("image");
  json.value(fs::absolute(image_file.path).lexically_normal().string());
  json.key("image_is_default");
  json.value(image_file.is_default);
  json.key("image_size");
  json.begin_array(true);
  json.value(source.height);
  json.value(source.width);
  json.end_array();
  json.key("input_shape");
  json.begin_array(true);
  json.value(in.c);
  json.value(in.h);
  json.value(in.w);
  json.end_array();
  json.key("scale");
  json.value(args.scale);
  json.key("device");
  json.value(args.device);
  json.key("num_classes");
  json.value(classes);
  if (!names.empty()) {
    json.key("class_names");
    json.begin_array(true);
    for (const std::string& n : names) json.value(n);
    json.end_array();
  }
  json.key("logits");
  json.begin_array(true);
  for (float v : logits) json.value(v);
  json.end_array();
  json.key("predicted_class");
  json.value(predicted);
  json.key("target");
  json.value(target);
  if (!scored.empty()) write_metric_options_json(json, args);
  json.key("methods");
  json.begin_array();
  for (const MethodResult& r : results) {
    json.begin_object();
    json.key("method");
    json.value(to_string(r.method));
    if (r.rows > 0) {
      json.key("map_size");
      json.begin_array(true);
      json.value(r.rows);
      json.value(r.cols);
      json.end_array();
    } else {
      json.key("grid_size");
      json.value(grid);
    }
    json.key("target");
    json.value(target);
    if (!names.empty()) {
      json.key("target_name");
      json.value(names[static_cast<std::size_t>(target)]);
    }
    json.key("predicted_class");
    json.value(predicted);
    if (!names.empty()) {
      json.key("predicted_name");
      json.value(names[static_cast<std::size_t>(predicted)]);
    }
    json.key("scores");
    if (r.rows > 0) {
      write_map(json, r.scores, r.rows, r.cols);
    } else {
      write_grid(json, r.scores, grid);
    }
    if (!r.first_order.empty()) {
      json.key("first_order");
      write_grid(json, r.first_order, grid);
    }
    json.key("seconds");
    json.number(r.seconds, 6);
    json.key("forwards");
    json.value(r.forwards);
    json.key("forwards_unit");
    json.value(r.forwards_unit);
    json.key("overlay");
    json.value(fs::path(r.overlay).filename().string());
    json.key("options");
    json.begin_object();
    for (const auto& [key, v] : r.int_options) {
      json.key(key);
      json.value(v);
    }
    for (const auto& [key, v] : r.float_options) {
      json.key(key);
      json.value(v);
    }
    for (const auto& [key, v] : r.text_options) {
      json.key(key);
      json.value(v);
    }
    for (const auto& [key, v] : r.flag_options) {
      json.key(key);
      json.value(v);
    }
    if (r.method != Method::eva) {
      json.key("seed");
      json.value(static_cast<std::uint64_t>(args.seed));
    }
    json.end_object();
    for (const Scored& s : scored) {
      if (s.maps.method == r.method) write_metrics_json(json, s.metrics);
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();

  out.write("scores.json", json.str());
  std::printf("scores  %s\n", out.path("scores.json").c_str());
  // A report that did not reach stdout fails the run before --out changes.
  check_stdout();
  out.commit();
  return 0;
}

void print_usage_error(const std::string& message) {
  std::fprintf(stderr, "cuxplain: error: %s\n%s", message.c_str(), usage_text());
}

/// `status`, or 1 when what the command printed did not reach stdout.
int check_report(int status) {
  try {
    check_stdout();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuxplain: error: %s\n", e.what());
    return 1;
  }
  return status;
}

}  // namespace
}  // namespace cuxplain::cli

int main(int argc, char** argv) {
  using namespace cuxplain::cli;
  // Under a file size limit (ulimit -f) the kernel would kill the program
  // with SIGXFSZ at the first write past it; ignored, that write fails with
  // EFBIG and becomes an error naming the file.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  Command command;
  try {
    command = parse_command_line(arguments);
  } catch (const UsageError& e) {
    print_usage_error(e.what());
    return 2;
  }
  switch (command.kind) {
    case Command::Kind::help:
      std::fputs(help_text(command.help_topic).c_str(), stdout);
      return check_report(0);
    case Command::Kind::version:
      std::printf("cuxplain %s (CUDA backend: %s, ONNX models: %s)\n", CUXPLAIN_VERSION,
                  cuxplain::Context::cuda_available() ? "available" : "not available",
                  cuxplain::nn::onnx_available() ? "yes" : "no");
      return check_report(0);
    case Command::Kind::explain:
    case Command::Kind::concepts:
    case Command::Kind::evaluate: break;
  }
  try {
    if (command.kind == Command::Kind::evaluate) {
      return check_report(run_evaluate(command.evaluate));
    }
    return check_report(command.kind == Command::Kind::concepts ? run_concepts(command.concepts)
                                                                : run_explain(command.explain));
  } catch (const UsageError& e) {
    print_usage_error(e.what());
    return 2;
  } catch (const cuxplain::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuxplain: error: %s\n", e.what());
    return 1;
  }
}
