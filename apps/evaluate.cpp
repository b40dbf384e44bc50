// cuxplain evaluate: every chosen attribution method explains the first N
// Fashion-MNIST test images, and the metrics (deletion, insertion,
// MuFidelity, ...) score each method's maps: which explanation to trust.
// Writes metrics.json and curves.png; explain --metrics reuses the scoring.
#include "evaluate.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/metrics.hpp>
#include <cuxplain/onnx.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include "fashion_mnist.hpp"
#include "model_files.hpp"
#include "output_files.hpp"
#include "plot.hpp"
#include "preprocess.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {

double MetricResult::mean() const {
  if (values.empty()) return 0.0;
  double sum = 0.0;
  for (float v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double MetricResult::standard_deviation() const {
  if (values.empty()) return 0.0;
  const double m = mean();
  double sum = 0.0;
  for (float v : values) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// A Model over the network that counts its evaluations.
struct CountingModel {
  std::int64_t forwards = 0;
  std::function<void(std::int64_t)> on_forward;
  Model model(const Context& ctx, const nn::Network& network) {
    return Model{network.output_shape().size(), [this, &ctx, &network](ConstImageView batch,
                                                                      float* outputs) {
                   network.forward(ctx, batch.data, batch.n, outputs);
                   forwards += batch.n;
                   if (on_forward) on_forward(forwards);
                 }};
  }
};

std::vector<double> mean_curve(const std::vector<float>& curves, std::int64_t n,
                               std::int64_t points) {
  std::vector<double> mean(static_cast<std::size_t>(points), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t s = 0; s < points; ++s) mean[s] += curves[i * points + s] / n;
  return mean;
}

}  // namespace

MetricProgress::MetricProgress(bool enabled, bool terminal, std::string method)
    : enabled_(enabled), terminal_(terminal), method_(std::move(method)) {}

void MetricProgress::operator()(const std::string& metric, std::int64_t done, std::int64_t total) {
  if (metric != current_) {
    finish();
    current_ = metric;
    start_ = std::chrono::steady_clock::now();
    progress_ = std::make_unique<Progress>(enabled_, terminal_, method_ + " " + metric, total,
                                           "model evaluations");
  }
  done_ = done;
  progress_->update(done);
}

void MetricProgress::finish() {
  if (!progress_) return;
  progress_->finish(done_, seconds_since(start_));
  progress_.reset();
}

std::vector<MetricResult> score_maps(
    const Context& ctx, const nn::Network& network, Method method, ConstImageView images,
    const std::vector<int>& targets, const std::vector<float>& maps, const ExplainArgs& args,
    const std::function<void(const std::string&, std::int64_t, std::int64_t)>& on_progress) {
  const std::int64_t n = images.n, h = images.h, w = images.w;
  Buffer<float> device_maps(ctx, n * h * w, "the explanations");
  copy_to_device(ctx, device_maps.data(), maps.data(), maps.size() * sizeof(float));
  const ConstImageView explanations{device_maps.data(), n, 1, h, w, Layout::nchw};
  std::vector<MetricResult> results;
  Buffer<float> values(ctx, 3 * n, "the metric values");

  for (const Metric metric : args.metrics) {
    CountingModel counter;
    std::string label = to_string(metric);
    std::int64_t total = 0;
    counter.on_forward = [&](std::int64_t done) {
      if (on_progress) on_progress(label, done, total);
    };
    const Model model = counter.model(ctx, network);
    const auto start = Clock::now();
    MetricResult result;
    result.name = label;
    if (metric == Metric::deletion || metric == Metric::insertion) {
      CausalOptions options;
      options.steps = args.steps;
      options.max_percentage_perturbed = args.max_percentage;
      options.baseline = args.metric_baseline;
      options.activation = args.activation;
      options.convention = args.convention;
      options.batch_size = args.metric_batch_size;
      const std::int64_t points = options.steps + 1;
      total = n * points;
      Buffer<float> curves(ctx, n * points, "the curves");
      (metric == Metric::deletion ? deletion : insertion)(ctx, model, images, targets,
                                                          explanations, curves.data(),
                                                          values.data(), options);
      result.higher_is_better = metric == Metric::insertion;
      result.values = to_host(ctx, values.data(), n);
      result.mean_curve = mean_curve(to_host(ctx, curves.data(), n * points), n, points);
      result.counts = causal_step_counts(h * w, options);
    } else if (metric == Metric::mufidelity) {
      MuFidelityOptions options;
      options.grid_size = std::min({args.mu_grid, h, w});
      options.nb_samples = args.mu_samples;
      options.subset_percent = args.subset_percent;
      options.baseline = args.metric_baseline;
      options.seed = args.seed;
      options.activation = args.activation;
      options.convention = args.convention;
      options.batch_size = args.metric_batch_size;
      total = n * (options.nb_samples + 1);
      mu_fidelity(ctx, model, images, targets, explanations, values.data(), options);
      result.values = to_host(ctx, values.data(), n);
    } else if (metric == Metric::average) {
      AverageScoreOptions options;
      options.activation = args.activation;
      options.batch_size = args.metric_batch_size;
      total = 2 * n;
      average_drop_increase_gain(ctx, model, images, targets, explanations, values.data(),
                                 values.data() + n, values.data() + 2 * n, options);
      const std::vector<float> all = to_host(ctx, values.data(), 3 * n);
      const double seconds = seconds_since(start);
      const char* names[] = {"drop", "increase", "gain"};
      for (int k = 0; k < 3; ++k) {
        MetricResult part;
        part.name = names[k];
        part.higher_is_better = k != 0;
        part.values.assign(all.begin() + k * n, all.begin() + (k + 1) * n);
        part.seconds = seconds;
        part.forwards = counter.forwards;
        results.push_back(std::move(part));
      }
      continue;
    } else if (metric == Metric::complexity || metric == Metric::sparseness) {
      (metric == Metric::complexity ? complexity : sparseness)(ctx, explanations, values.data());
      result.higher_is_better = metric == Metric::sparseness;
      result.values = to_host(ctx, values.data(), n);
    } else {  // stability: the method re-run on noisy neighbours
      StabilityOptions options;
      options.radius = args.radius;
      options.nb_samples = args.stability_samples;
      options.seed = args.seed;
      options.convention = args.convention;
      options.batch_size = args.metric_batch_size;
      total = n * options.nb_samples;
      std::int64_t runs = 0;
      const Explainer explainer = [&](ConstImageView x, HostSpan<const int> t, float* out) {
        const std::vector<int> batch_targets(t.begin(), t.end());
        const MethodMaps m = run_method(ctx, network, method, x, batch_targets, args);
        const std::vector<float> px = pixel_maps(m, x.n, h, w);
        copy_to_device(ctx, out, px.data(), px.size() * sizeof(float));
        runs += x.n;
        if (on_progress) on_progress(label, runs, total);
      };
      average_stability(ctx, explainer, h * w, images, targets, device_maps.data(),
                        values.data(), options);
      result.higher_is_better = false;
      result.values = to_host(ctx, values.data(), n);
      counter.forwards = runs;
    }
    result.seconds = seconds_since(start);
    result.forwards = counter.forwards;
    results.push_back(std::move(result));
  }
  return results;
}

void print_metric_table(const std::vector<Scored>& scored, std::int64_t images) {
  if (scored.empty()) return;
  const std::vector<MetricResult>& first = scored.front().metrics;
  std::printf("\n%-11s %9s", "method", "seconds");
  for (const MetricResult& m : first) {
    std::printf("  %18s", (m.name + (m.higher_is_better ? " (+)" : " (-)")).c_str());
  }
  std::printf("\n");
  for (const Scored& s : scored) {
    std::printf("%-11s %9.2f", to_string(s.maps.method), s.maps.seconds);
    for (const MetricResult& m : s.metrics) {
      if (images > 1) {
        const double error = m.standard_deviation() / std::sqrt(static_cast<double>(images));
        std::printf("  %9.4f +- %-6.4f", m.mean(), error);
      } else {
        std::printf("  %18.4f", m.mean());
      }
    }
    std::printf("\n");
  }
  if (images > 1) {
    std::printf("(+): higher is better, (-): lower is better; +- the standard error over %lld "
                "images\n",
                static_cast<long long>(images));
  } else {
    std::printf("(+): higher is better, (-): lower is better\n");
  }
  std::fflush(stdout);
}

Json metrics_json(const std::vector<MetricResult>& metrics) {
  Json json = Json::object();
  for (const MetricResult& m : metrics) {
    Json entry;
    entry["mean"] = m.mean();
    entry["std"] = m.standard_deviation();
    entry["higher_is_better"] = m.higher_is_better;
    entry["seconds"] = json_rounded(m.seconds, 6);
    entry["forwards"] = m.forwards;
    Json values = Json::array();
    for (float v : m.values) values.push_back(json_float(v));
    entry["values"] = std::move(values);
    if (!m.mean_curve.empty()) {
      entry["curve"] = m.mean_curve;
      entry["counts"] = m.counts;
    }
    json[m.name] = std::move(entry);
  }
  return json;
}

Json metric_options_json(const ExplainArgs& args) {
  Json json;
  json["steps"] = args.steps;
  json["max_percentage_perturbed"] = args.max_percentage;
  json["baseline"] = json_float(args.metric_baseline);
  json["mu_grid_size"] = args.mu_grid;
  json["mu_nb_samples"] = args.mu_samples;
  json["subset_percent"] = json_float(args.subset_percent);
  json["activation"] = to_string(args.activation);
  json["convention"] = to_string(args.convention);
  json["stability_nb_samples"] = args.stability_samples;
  json["radius"] = json_float(args.radius);
  json["batch_size"] = args.metric_batch_size;
  json["seed"] = static_cast<std::uint64_t>(args.seed);
  return json;
}

Image8 render_curves(const std::vector<Scored>& scored) {
  std::vector<Panel> panels;
  for (const char* name : {"deletion", "insertion"}) {
    Panel panel;
    panel.title = name;
    panel.x_label = "share of pixels perturbed";
    panel.y_label = "target score";
    for (const Scored& s : scored) {
      for (const MetricResult& m : s.metrics) {
        if (m.name != name || m.counts.empty()) continue;
        Curve curve;
        curve.label = to_string(s.maps.method);
        const double total = static_cast<double>(m.counts.back());
        for (std::int64_t c : m.counts) curve.x.push_back(static_cast<double>(c) / total);
        curve.y = m.mean_curve;
        panel.curves.push_back(std::move(curve));
      }
    }
    if (!panel.curves.empty()) panels.push_back(std::move(panel));
  }
  if (panels.empty()) return {};
  return render_panels(panels);
}

int run_evaluate(const EvaluateArgs& args) {
  const ExplainArgs& e = args.explain;
  const ResolvedFile model_file = resolve(e.model_path, "--model", kDefaultModel);
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const bool show_progress =
      e.progress == ProgressMode::on || (e.progress == ProgressMode::automatic && terminal);
  const Context ctx = make_context(e.device);

  const nn::Network network = [&] {
    const nn::OnnxModel model = read_model(model_file.path);
    return model.builder.build(ctx, model.output);
  }();
  const nn::Shape in = network.input_shape();
  expect_class_scores(model_file.path, network.output_shape());
  const std::int64_t classes = network.output_shape().size();
  std::string sidecar;
  const std::vector<std::string> names =
      class_names(model_file.path, e.labels_path, classes, sidecar);
  check_preprocess(e.preprocess, in.c);

  const FashionMnist set = read_fashion_mnist_test(args.data_dir);
  // --resize and --center-crop may shape the images to the model's size
  // (preprocess_image says when they do not).
  if (in.c != 1 || (!e.preprocess.geometric() && (set.rows != in.h || set.cols != in.w))) {
    throw std::runtime_error("'" + set.images_file + "' holds " + std::to_string(set.rows) +
                             " x " + std::to_string(set.cols) + " grayscale images, the model "
                             "takes " + nn::to_string(in));
  }
  if (args.images > set.count) {
    throw UsageError("--images " + std::to_string(args.images) + " is more than the " +
                     std::to_string(set.count) + " images of '" + set.images_file + "'");
  }
  const std::int64_t n = args.images, pixels = in.size();
  std::vector<float> host_images(static_cast<std::size_t>(n * pixels));
  Image8 gray;
  gray.width = static_cast<int>(set.cols);
  gray.height = static_cast<int>(set.rows);
  gray.channels = 1;
  for (std::int64_t i = 0; i < n; ++i) {
    gray.pixels.assign(set.image(i), set.image(i) + set.rows * set.cols);
    const std::vector<float> input =
        preprocess_image(gray, in.c, in.h, in.w, e.scale, e.preprocess);
    std::copy(input.begin(), input.end(), host_images.begin() + i * pixels);
  }
  Buffer<float> device_images(ctx, n * pixels, "the test images");
  copy_to_device(ctx, device_images.data(), host_images.data(),
                 host_images.size() * sizeof(float));
  const ConstImageView images{device_images.data(), n, in.c, in.h, in.w, Layout::nchw};

  // The predictions, and the classes explained.
  Buffer<float> logits(ctx, n * classes, "the logits of the test images");
  network.forward(ctx, device_images.data(), n, logits.data());
  const std::vector<float> host_logits = to_host(ctx, logits.data(), n * classes);
  std::vector<int> predicted(static_cast<std::size_t>(n)), targets(predicted.size());
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = host_logits.data() + i * classes;
    predicted[i] = static_cast<int>(std::max_element(row, row + classes) - row);
    const int label = set.labels[static_cast<std::size_t>(i)];
    correct += predicted[i] == label ? 1 : 0;
    targets[i] = args.label_targets ? label : predicted[i];
  }

  std::printf("model    %s%s: %s -> %lld classes\n", model_file.path.c_str(),
              model_file.is_default ? " (embedded default)" : "", nn::to_string(in).c_str(),
              static_cast<long long>(classes));
  std::printf("data     %s: the first %lld test images; the model is right on %lld\n",
              set.images_file.c_str(), static_cast<long long>(n),
              static_cast<long long>(correct));
  std::printf("device   %s\n", e.device.c_str());
  std::printf("targets  the %s class of each image\n",
              args.label_targets ? "true" : "predicted");
  std::fflush(stdout);
  OutputDir out(e.out_dir);

  std::vector<Scored> scored;
  std::vector<std::vector<float>> saved_maps;
  for (const Method method : e.methods) {
    Scored s;
    const std::int64_t grid = method_grid(e, in.h, in.w);
    const std::int64_t total = n * method_cost(method, e, grid, in.h, in.w);
    Progress progress(show_progress, terminal, to_string(method), total,
                      method == Method::eva ? "boxes" : "model evaluations");
    s.maps = run_method(ctx, network, method, images, targets, e,
                        [&](std::int64_t done) { progress.update(done); });
    progress.finish(s.maps.forwards, s.maps.seconds);
    std::printf("%-10s %s, %lld %s in %.3f s\n", to_string(method), s.maps.summary.c_str(),
                static_cast<long long>(s.maps.forwards), s.maps.forwards_unit, s.maps.seconds);
    std::fflush(stdout);
    const std::vector<float> maps = pixel_maps(s.maps, n, in.h, in.w);
    if (args.save_maps) saved_maps.push_back(maps);
    MetricProgress metric_progress(show_progress, terminal, to_string(method));
    s.metrics = score_maps(ctx, network, method, images, targets, maps, e,
                           [&](const std::string& label, std::int64_t done, std::int64_t all) {
                             metric_progress(label, done, all);
                           });
    metric_progress.finish();
    for (const MetricResult& m : s.metrics) {
      std::printf("           %-11s %.4f (std %.4f) in %.3f s\n", m.name.c_str(), m.mean(),
                  m.standard_deviation(), m.seconds);
    }
    std::fflush(stdout);
    scored.push_back(std::move(s));
  }
  print_metric_table(scored, n);

  Json json = result_json(model_file);
  json["data"] = set.images_file;
  json["images"] = n;
  Json indices = Json::array();
  for (std::int64_t i = 0; i < n; ++i) indices.push_back(i);
  json["image_indices"] = std::move(indices);
  json["targets"] = targets;
  json["target_mode"] = args.label_targets ? "label" : "predicted";
  json["correct_predictions"] = correct;
  json["device"] = e.device;
  json["scale"] = e.scale;
  if (!e.preprocess.is_default()) json["preprocess"] = preprocess_json(e.preprocess);
  json["metric_options"] = metric_options_json(e);
  Json methods = Json::array();
  for (const Scored& s : scored) {
    Json entry;
    entry["method"] = to_string(s.maps.method);
    entry["seconds"] = json_rounded(s.maps.seconds, 6);
    entry["forwards"] = s.maps.forwards;
    entry["forwards_unit"] = s.maps.forwards_unit;
    Json options;
    for (const auto& [key, v] : s.maps.numbers) options[key] = v;
    for (const auto& [key, v] : s.maps.texts) options[key] = v;
    options["batch_size"] = e.batch_size;
    entry["options"] = std::move(options);
    entry["metrics"] = metrics_json(s.metrics);
    if (args.save_maps) {
      const std::vector<float>& maps = saved_maps[static_cast<std::size_t>(&s - scored.data())];
      Json rows = Json::array();
      for (std::int64_t i = 0; i < n; ++i) {
        Json row = Json::array();
        for (std::int64_t p = 0; p < in.h * in.w; ++p) {
          row.push_back(json_float(maps[static_cast<std::size_t>(i * in.h * in.w + p)]));
        }
        rows.push_back(std::move(row));
      }
      entry["maps"] = std::move(rows);
    }
    methods.push_back(std::move(entry));
  }
  json["methods"] = std::move(methods);
  out.write("metrics.json", json_text(json));
  std::printf("metrics  %s\n", out.path("metrics.json").c_str());
  const Image8 plot = render_curves(scored);
  if (!plot.pixels.empty()) {
    out.write("curves.png", encode_png(plot));
    std::printf("curves   %s\n", out.path("curves.png").c_str());
  }
  check_stdout();
  out.commit();
  return 0;
}

}  // namespace cuxplain::cli
