// cuxplain concepts: CRAFT (Fel et al., CVPR 2023) on the Fashion-MNIST test
// images of one class. The model is cut at a layer (g: image -> activations,
// h: activations -> logits), the crops' activations are factorized into
// concepts, each concept's importance for the class is its Sobol total index
// in concept space, and its maps show where images express it. Writes
// concepts.png (the crops that express each concept most), concept_maps.png
// and concepts.json. With --subconcepts, CRAFT's recursion: one concept's
// crops are factorized again at an earlier layer into sub-concepts, ranked by
// their importance through the model cut there (subconcepts.png).
#include "concepts.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/craft.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fashion_mnist.hpp"
#include "image_io.hpp"
#include "json.hpp"
#include "model_files.hpp"
#include "output_files.hpp"
#include "overlay.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The default layer: the last tensor with a spatial grid (H x W > 1) after
/// the input and not after the output (a tensor the graph computes after its
/// output is no cut of it), or empty when there is none.
std::string default_layer(const nn::OnnxModel& onnx) {
  std::string layer;
  const nn::NodeId input = onnx.tensors.empty() ? -1 : onnx.tensors.front().second;
  for (const auto& [name, node] : onnx.tensors) {
    if (node == input || node > onnx.output) continue;
    const nn::Shape shape = onnx.builder.shape(node);
    if (shape.h * shape.w > 1) layer = name;
  }
  return layer;
}

/// The embedded model's default sub-layer: the first of its two pooling
/// outputs (16 x 14 x 14), one block before the default layer.
constexpr char kEmbeddedSubLayer[] = "/features/features.3/MaxPool_output_0";

/// Position of the tensor called `name` in onnx.tensors, or -1.
std::int64_t tensor_position(const nn::OnnxModel& onnx, const std::string& name) {
  for (std::size_t i = 0; i < onnx.tensors.size(); ++i) {
    if (onnx.tensors[i].first == name) return static_cast<std::int64_t>(i);
  }
  return -1;
}

/// The layer the sub-concepts are factorized at: --sub-layer, checked to come
/// before the layer; by default the embedded model's kEmbeddedSubLayer, or
/// the last tensor with a spatial grid before the layer that has at least
/// --subconcepts channels. Throws UsageError when there is none or it is too small.
std::string resolve_sub_layer(const nn::OnnxModel& onnx, const ConceptsArgs& args,
                              bool embedded_model, const std::string& layer) {
  const std::int64_t at = tensor_position(onnx, layer);
  const nn::NodeId input = onnx.tensors.front().second;
  const nn::NodeId cut = onnx.tensors[static_cast<std::size_t>(at)].second;
  const std::int64_t s = args.subconcepts;
  std::string sub;
  if (args.sub_layer) {
    sub = *args.sub_layer;
    const std::int64_t position = tensor_position(onnx, sub);
    if (position < 0) {
      throw UsageError("--sub-layer: the model has no tensor '" + sub +
                       "' (cuxplain concepts --list-layers lists them)");
    }
    const nn::NodeId node = onnx.tensors[static_cast<std::size_t>(position)].second;
    if (position >= at || node == cut || node == input) {
      throw UsageError("--sub-layer " + sub + " must be a layer before --layer " + layer);
    }
  } else {
    const std::int64_t embedded = embedded_model ? tensor_position(onnx, kEmbeddedSubLayer) : -1;
    if (embedded > 0 && embedded < at &&
        onnx.tensors[static_cast<std::size_t>(embedded)].second != cut) {
      sub = kEmbeddedSubLayer;
    } else {
      for (std::int64_t i = 1; i < at; ++i) {
        const auto& [name, node] = onnx.tensors[static_cast<std::size_t>(i)];
        if (node == input || node == cut) continue;
        const nn::Shape shape = onnx.builder.shape(node);
        if (shape.h * shape.w > 1 && shape.c >= s) sub = name;
      }
      if (sub.empty()) {
        throw UsageError("--subconcepts " + std::to_string(s) + ": no tensor before --layer " +
                         layer + " has a spatial grid and at least " + std::to_string(s) +
                         " channels; pass --sub-layer or fewer sub-concepts");
      }
    }
  }
  const nn::Shape shape = onnx.builder.shape(onnx.node(sub));
  if (s > shape.c) {
    throw UsageError("--subconcepts must be at most the sub-layer's " + std::to_string(shape.c) +
                     " channels (" + sub + ", " + nn::to_string(shape) + "), got " +
                     std::to_string(s));
  }
  return sub;
}

/// Rows of g and h a split model ran, for the progress line and
/// concepts.json: the progress counts g rows, or h rows once counts_h is set.
struct Forwards {
  std::int64_t g_rows = 0;
  std::int64_t h_rows = 0;
  bool counts_h = false;
};

craft::SplitModel counted(craft::SplitModel model, Forwards& forwards,
                          std::optional<Progress>& progress) {
  auto base_g = model.g;
  auto base_h = model.h;
  model.g = [&forwards, &progress, base_g](ConstImageView batch, float* out) {
    base_g(batch, out);
    forwards.g_rows += batch.n;
    if (progress && !forwards.counts_h) progress->update(forwards.g_rows);
  };
  model.h = [&forwards, &progress, base_h](const float* acts, std::int64_t count, float* out) {
    base_h(acts, count, out);
    forwards.h_rows += count;
    if (progress && forwards.counts_h) progress->update(forwards.h_rows);
  };
  return model;
}

/// The concept ids sorted by decreasing importance, ties to the lower id.
std::vector<std::int64_t> rank_by_importance(const std::vector<float>& importances) {
  std::vector<std::int64_t> ranking(importances.size());
  std::iota(ranking.begin(), ranking.end(), 0);
  std::stable_sort(ranking.begin(), ranking.end(), [&](std::int64_t a, std::int64_t b) {
    return importances[static_cast<std::size_t>(a)] > importances[static_cast<std::size_t>(b)];
  });
  return ranking;
}

int list_layers(const ResolvedFile& model_file, const nn::OnnxModel& onnx) {
  const std::string fallback = default_layer(onnx);
  std::printf("tensors of %s (cut with --layer NAME; the layer must be >= 0):\n",
              model_file.path.c_str());
  std::size_t width = 0;
  for (const auto& entry : onnx.tensors) width = std::max(width, entry.first.size());
  for (std::size_t i = 0; i < onnx.tensors.size(); ++i) {
    const auto& [name, node] = onnx.tensors[i];
    const char* note = i == 0                       ? "  (input)"
                       : name == fallback           ? "  (default layer)"
                       : name == onnx.output_name   ? "  (output)"
                       : node > onnx.output         ? "  (after the output)"
                                                    : "";
    std::printf("  %-*s  %s%s\n", static_cast<int>(width), name.c_str(),
                nn::to_string(onnx.builder.shape(node)).c_str(), note);
  }
  return 0;
}

/// A crop's place: the image (its position among the images used and its
/// index in the test set) and the crop's top-left corner.
struct CropPlace {
  std::int64_t crop = 0;
  std::int64_t position = 0;
  std::int64_t image = 0;
  std::int64_t top = 0;
  std::int64_t left = 0;
};

/// Labels of a crop sheet's rows: "<what> <id>" over the importance.
std::vector<std::string> sheet_labels(const char* what, const std::vector<std::int64_t>& rows,
                                      const std::vector<float>& importances) {
  std::vector<std::string> labels;
  for (std::int64_t id : rows) {
    char importance[32];
    std::snprintf(importance, sizeof importance, "%.3g",
                  static_cast<double>(importances[static_cast<std::size_t>(id)]));
    labels.push_back(std::string(what) + " " + std::to_string(id) + "\n" + importance);
  }
  return labels;
}

/// Width of the label column of a crop sheet: the longest label and a margin.
int sheet_label_width(const std::vector<std::string>& labels, int scale) {
  int widest = 0;
  for (const std::string& label : labels) widest = std::max(widest, text_width(label, scale));
  return widest + 4 * scale;
}

/// The concepts.png grid: one row per concept in `rows`, its label (white on
/// the gray background, `label_width` pixels wide, enlarged `label_scale`
/// times) then the crops of `crops[concept]`, cut from the 8-bit images and
/// enlarged `factor` times, separated (and framed) by `line` gray pixels.
Image8 crop_sheet(const FashionMnist& set, const std::vector<std::int64_t>& rows,
                  const std::vector<std::vector<CropPlace>>& crops, std::int64_t patch,
                  std::int64_t per_row, int factor, int line,
                  const std::vector<std::string>& labels, int label_width, int label_scale) {
  const int tile = static_cast<int>(patch) * factor;
  const int width = label_width + static_cast<int>(per_row) * (tile + line) + line;
  const int height = static_cast<int>(rows.size()) * (tile + line) + line;
  Image8 sheet = blank_image(width, height, 1, 128);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int row_top = line + static_cast<int>(r) * (tile + line);
    const int text_top = row_top + std::max(0, (tile - text_height(labels[r], label_scale)) / 2);
    draw_text(sheet, labels[r], line + label_scale, text_top, label_scale, 255);
    const std::vector<CropPlace>& places = crops[static_cast<std::size_t>(rows[r])];
    for (std::size_t k = 0; k < places.size() && static_cast<std::int64_t>(k) < per_row; ++k) {
      const CropPlace& place = places[k];
      Image8 cut = blank_image(static_cast<int>(patch), static_cast<int>(patch), 1, 0);
      const unsigned char* pixels = set.image(place.image);
      for (std::int64_t y = 0; y < patch; ++y) {
        for (std::int64_t x = 0; x < patch; ++x) {
          cut.pixels[static_cast<std::size_t>(y * patch + x)] =
              pixels[static_cast<std::size_t>((place.top + y) * set.cols + place.left + x)];
        }
      }
      paste(sheet, enlarge(cut, factor),
            label_width + line + static_cast<int>(k) * (tile + line), row_top);
    }
  }
  return sheet;
}

/// The 8-bit test image `index` as RGB.
Image8 rgb_image(const FashionMnist& set, std::int64_t index) {
  Image8 image = blank_image(static_cast<int>(set.cols), static_cast<int>(set.rows), 3, 0);
  const unsigned char* pixels = set.image(index);
  for (std::size_t i = 0; i < static_cast<std::size_t>(set.rows * set.cols); ++i) {
    for (std::size_t k = 0; k < 3; ++k) image.pixels[i * 3 + k] = pixels[i];
  }
  return image;
}

void int_array(JsonWriter& json, const std::vector<std::int64_t>& values) {
  json.begin_array(/*inline_items=*/true);
  for (std::int64_t v : values) json.value(v);
  json.end_array();
}

void float_array(JsonWriter& json, const std::vector<float>& values) {
  json.begin_array(/*inline_items=*/true);
  for (float v : values) json.value(v);
  json.end_array();
}

void nmf_report(JsonWriter& json, const nmf::Result& result) {
  json.begin_object();
  json.key("iterations");
  json.value(result.iterations);
  json.key("converged");
  json.value(result.converged);
  json.key("relative_error");
  json.value(result.relative_error);
  json.key("loss");
  json.value(result.loss);
  json.end_object();
}

void crop_list(JsonWriter& json, const std::vector<CropPlace>& places) {
  json.begin_array();
  for (const CropPlace& place : places) {
    json.begin_object();
    json.key("crop");
    json.value(place.crop);
    json.key("image");
    json.value(place.image);
    json.key("top");
    json.value(place.top);
    json.key("left");
    json.value(place.left);
    json.end_object();
  }
  json.end_array();
}

/// Prints the "rank  <what>  importance" table of a ranking.
void print_ranking(const char* what, const std::vector<std::int64_t>& ranking,
                   const std::vector<float>& importances) {
  const int width = static_cast<int>(std::string(what).size());
  std::printf("           rank  %s  importance\n", what);
  for (std::size_t k = 0; k < ranking.size(); ++k) {
    const std::int64_t c = ranking[k];
    std::printf("           %4lld  %*lld  %10.4g\n", static_cast<long long>(k + 1), width,
                static_cast<long long>(c),
                static_cast<double>(importances[static_cast<std::size_t>(c)]));
  }
}

}  // namespace

int run_concepts(const ConceptsArgs& args) {
  const auto start = Clock::now();
  const ResolvedFile model_file = resolve(args.model_path, "--model", kDefaultModel);
  const nn::OnnxModel onnx = nn::read_onnx(model_file.path);
  if (args.list_layers) return list_layers(model_file, onnx);
  expect_class_scores(model_file.path, onnx.builder.shape(onnx.output));

  // The layer the model is cut at.
  std::string layer = args.layer.value_or(default_layer(onnx));
  if (layer.empty()) {
    throw std::runtime_error("the model has no tensor with a spatial grid to cut at; pass "
                             "--layer (cuxplain concepts --list-layers lists the tensors)");
  }
  const bool layer_known =
      std::any_of(onnx.tensors.begin(), onnx.tensors.end(),
                  [&](const auto& entry) { return entry.first == layer; });
  if (!layer_known) {
    throw UsageError("--layer: the model has no tensor '" + layer +
                     "' (cuxplain concepts --list-layers lists them)");
  }
  const nn::NodeId cut = onnx.node(layer);
  if (cut > onnx.output) {
    throw UsageError("--layer " + layer + " comes after the model's output " + onnx.output_name +
                     ": the model cannot be cut there (cuxplain concepts --list-layers marks "
                     "the tensors after the output)");
  }
  const std::int64_t sub_rank = args.subconcepts;
  const std::string sub_layer =
      sub_rank > 0 ? resolve_sub_layer(onnx, args, model_file.is_default, layer) : std::string();
  const nn::Shape in = onnx.builder.shape(onnx.tensors.front().second);
  if (in != nn::Shape{1, 28, 28}) {
    throw std::runtime_error("the model takes " + nn::to_string(in) +
                             " inputs; the Fashion-MNIST images are 1 x 28 x 28");
  }

  const bool terminal = isatty(STDERR_FILENO) != 0;
  const bool show_progress = args.progress == ProgressMode::on ||
                             (args.progress == ProgressMode::automatic && terminal);
  const Context ctx = make_context(args.device);
  const nn::Network g = onnx.builder.build(ctx, cut);
  const nn::Network h = onnx.builder.build(ctx, cut, onnx.output);
  const nn::Shape activations = g.output_shape();
  const std::int64_t classes = h.output_shape().size();
  if (args.class_id >= classes) {
    throw UsageError("--class must be in [0, " + std::to_string(classes) + ") for this model, got " +
                     std::to_string(args.class_id));
  }
  if (args.rank > activations.c) {
    throw UsageError("--concepts must be at most the layer's " + std::to_string(activations.c) +
                     " channels, got " + std::to_string(args.rank));
  }
  // The model cut at the sub-layer, for the sub-concepts.
  nn::Network sub_g, sub_h;
  nn::Shape sub_activations;
  if (sub_rank > 0) {
    const nn::NodeId sub_cut = onnx.node(sub_layer);
    sub_g = onnx.builder.build(ctx, sub_cut);
    sub_h = onnx.builder.build(ctx, sub_cut, onnx.output);
    sub_activations = sub_g.output_shape();
  }
  std::string sidecar;
  const std::vector<std::string> names = class_names(model_file.path, classes, sidecar);
  const double load_model_seconds = seconds_since(start);

  // The test images of the class.
  const auto data_start = Clock::now();
  const FashionMnist set = read_fashion_mnist_test(args.data_dir);
  if (set.rows != in.h || set.cols != in.w) {
    throw std::runtime_error("'" + set.images_file + "' holds " + std::to_string(set.rows) +
                             " x " + std::to_string(set.cols) + " images, the model takes " +
                             nn::to_string(in));
  }
  std::vector<std::int64_t> indices;
  std::int64_t in_class = 0;
  for (std::int64_t i = 0; i < set.count; ++i) {
    if (set.labels[static_cast<std::size_t>(i)] != args.class_id) continue;
    ++in_class;
    if (static_cast<std::int64_t>(indices.size()) < args.max_images) indices.push_back(i);
  }
  const std::int64_t n = static_cast<std::int64_t>(indices.size());
  if (n == 0) {
    throw std::runtime_error("'" + set.labels_file + "' has no image of class " +
                             std::to_string(args.class_id));
  }
  const craft::CropGrid grid = craft::crop_grid(in.h, in.w, args.patch);
  const std::int64_t crops = n * grid.per_image();
  if (crops < args.rank) {
    throw UsageError("--concepts " + std::to_string(args.rank) + " needs at least as many crops; " +
                     std::to_string(n) + " image" + (n > 1 ? "s give " : " gives ") +
                     std::to_string(crops) + " (raise --images or lower --patch)");
  }
  const std::int64_t sub_crops = std::min(args.sub_crops.value_or(200), crops);
  if (sub_rank > sub_crops) {
    throw UsageError("--subconcepts " + std::to_string(sub_rank) +
                     " needs at least as many crops of the concept; it has " +
                     std::to_string(sub_crops) + " (--sub-crops, at most the " +
                     std::to_string(crops) + " crops)");
  }
  const std::int64_t pixels = in.size();
  std::vector<float> host_images(static_cast<std::size_t>(n * pixels));
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* source = set.image(indices[static_cast<std::size_t>(i)]);
    for (std::int64_t p = 0; p < pixels; ++p) {
      host_images[static_cast<std::size_t>(i * pixels + p)] =
          static_cast<float>(source[p] / args.scale);
    }
  }
  Buffer<float> device_images(ctx, n * pixels);
  copy_to_device(ctx, device_images.data(), host_images.data(),
                 host_images.size() * sizeof(float));
  const ConstImageView images{device_images.data(), n, in.c, in.h, in.w, Layout::nchw};
  const double load_data_seconds = seconds_since(data_start);

  // How many of them the model puts in the class.
  const auto predict_start = Clock::now();
  std::int64_t predicted_in_class = 0;
  {
    const std::int64_t batch = std::max<std::int64_t>(args.batch_size, 256);
    Buffer<float> acts(ctx, std::min(batch, n) * activations.size());
    Buffer<float> logits(ctx, std::min(batch, n) * classes);
    for (std::int64_t first = 0; first < n; first += batch) {
      const std::int64_t count = std::min(batch, n - first);
      g.forward(ctx, device_images.data() + first * pixels, count, acts.data());
      h.forward(ctx, acts.data(), count, logits.data());
      const std::vector<float> host = to_host(ctx, logits.data(), count * classes);
      for (std::int64_t i = 0; i < count; ++i) {
        const float* row = host.data() + i * classes;
        if (std::max_element(row, row + classes) - row == args.class_id) ++predicted_in_class;
      }
    }
  }
  const double predict_seconds = seconds_since(predict_start);

  std::printf("model      %s%s: %s -> %lld classes%s\n", model_file.path.c_str(),
              model_file.is_default ? " (embedded default)" : "", nn::to_string(in).c_str(),
              static_cast<long long>(classes),
              sidecar.empty() ? "" : (", names from " + sidecar).c_str());
  std::printf("layer      %s%s: %s\n", layer.c_str(), args.layer ? "" : " (default)",
              nn::to_string(activations).c_str());
  if (sub_rank > 0) {
    std::printf("sub-layer  %s%s: %s\n", sub_layer.c_str(), args.sub_layer ? "" : " (default)",
                nn::to_string(sub_activations).c_str());
  }
  std::printf("data       %s: %lld of the %lld test images of class %s; the model predicts "
              "the class on %lld\n",
              set.images_file.c_str(), static_cast<long long>(n),
              static_cast<long long>(in_class), class_label(args.class_id, names).c_str(),
              static_cast<long long>(predicted_in_class));
  std::printf("device     %s\n", args.device.c_str());
  std::printf("crops      %lld x %lld pixels every %lld: %lld x %lld per image, %lld crops\n",
              static_cast<long long>(grid.patch), static_cast<long long>(grid.patch),
              static_cast<long long>(grid.stride), static_cast<long long>(grid.rows),
              static_cast<long long>(grid.cols), static_cast<long long>(crops));
  std::fflush(stdout);
  // The files go to a staging directory, and into --out only when every
  // step has succeeded (commit below).
  OutputDir out(args.out_dir);

  craft::CraftOptions options;
  options.patch_size = args.patch;
  options.nmf.rank = args.rank;
  options.nmf.max_iter = args.max_iter;
  options.nmf.seed = args.seed;
  options.alpha_w = args.alpha_w;
  options.nb_design = args.nb_design;
  options.sampler = args.sampler;
  options.seed = args.seed;
  options.estimator = args.estimator;
  options.batch_size = args.batch_size;

  // g and h, counted for the progress line.
  std::optional<Progress> progress;
  Forwards forwards;
  const craft::SplitModel model = counted(craft::split_model(ctx, g, h), forwards, progress);

  // Concepts.
  const auto fit_start = Clock::now();
  progress.emplace(show_progress, terminal, "fit", crops, "crops");
  craft::Concepts concepts = [&] {
    try {
      return craft::fit(ctx, model, images, options);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + "\n(the layer " + layer +
                  " is factorized: its values must be >= 0, as after a ReLU or a pooling of "
                  "one; cuxplain concepts --list-layers lists the tensors)");
    }
  }();
  const double fit_seconds = seconds_since(fit_start);
  const std::int64_t fit_g_rows = forwards.g_rows;
  progress->finish(fit_g_rows, fit_seconds);
  const std::int64_t r = concepts.rank;
  std::printf("fit        %lld concepts in %.3f s: NMF %lld iterations%s, relative error %.4g\n",
              static_cast<long long>(r), fit_seconds,
              static_cast<long long>(concepts.nmf.iterations),
              concepts.nmf.converged ? " (converged)" : " (max-iter)",
              concepts.nmf.relative_error);
  std::fflush(stdout);

  // Importances.
  const auto importance_start = Clock::now();
  const std::int64_t h_total = n * args.nb_design * (r + 1);
  forwards.counts_h = true;
  progress.emplace(show_progress, terminal, "importance", h_total, "h evaluations");
  const std::vector<int> targets(static_cast<std::size_t>(n), args.class_id);
  Buffer<float> importance_device(ctx, r);
  craft::concept_importance(ctx, model, concepts.W.data(), r, images, targets,
                            importance_device.data(), options);
  const std::vector<float> importances = to_host(ctx, importance_device.data(), r);
  const double importance_seconds = seconds_since(importance_start);
  progress->finish(forwards.h_rows, importance_seconds);
  for (float v : importances) {
    if (!std::isfinite(v)) throw std::runtime_error("the concept importances are not finite");
  }
  const std::vector<std::int64_t> ranking = rank_by_importance(importances);
  std::vector<std::int64_t> rank_of(static_cast<std::size_t>(r));
  for (std::int64_t k = 0; k < r; ++k) rank_of[static_cast<std::size_t>(ranking[k])] = k + 1;
  std::printf("importance %lld designs, %lld h evaluations in %.3f s\n",
              static_cast<long long>(args.nb_design), static_cast<long long>(forwards.h_rows),
              importance_seconds);
  print_ranking("concept", ranking, importances);
  std::fflush(stdout);
  const std::int64_t top = args.top_all ? r : std::min<std::int64_t>(args.top.value_or(5), r);
  const std::vector<std::int64_t> drawn(ranking.begin(), ranking.begin() + top);

  // Each concept's top crops, and the crop sheet.
  const auto crops_start = Clock::now();
  const auto place_of = [&](std::int64_t id) {
    CropPlace place;
    place.crop = id;
    place.position = id / concepts.grid.per_image();
    place.image = indices[static_cast<std::size_t>(place.position)];
    place.top = concepts.grid.top(id);
    place.left = concepts.grid.left(id);
    return place;
  };
  std::vector<std::vector<CropPlace>> top_crops(static_cast<std::size_t>(r));
  for (std::int64_t c = 0; c < r; ++c) {
    for (std::int64_t id : craft::top_crops(ctx, concepts, c, args.crops_per_concept)) {
      top_crops[static_cast<std::size_t>(c)].push_back(place_of(id));
    }
  }
  const int crop_factor = static_cast<int>(std::max<std::int64_t>(1, (40 + grid.patch - 1) / grid.patch));
  const std::string sheet_path = out.path("concepts.png");
  // Labels twice the font's size once the crops are that tall.
  const int label_scale = grid.patch * crop_factor >= 36 ? 2 : 1;
  const std::vector<std::string> labels = sheet_labels("concept", drawn, importances);
  const int label_width = sheet_label_width(labels, label_scale);
  out.write("concepts.png",
            encode_png(crop_sheet(set, drawn, top_crops, grid.patch, args.crops_per_concept,
                                  crop_factor, 2, labels, label_width, label_scale)));
  const double crops_seconds = seconds_since(crops_start);
  std::printf("concepts   %lld concepts x %lld crops -> %s\n", static_cast<long long>(top),
              static_cast<long long>(std::min(args.crops_per_concept, crops)),
              sheet_path.c_str());
  std::fflush(stdout);

  // Concept maps of the first images.
  const std::int64_t map_count = std::min(args.map_images, n);
  std::string maps_path;
  double maps_seconds = 0.0;
  if (map_count > 0) {
    const auto maps_start = Clock::now();
    const std::int64_t plane = in.h * in.w;
    Buffer<float> maps_device(ctx, map_count * r * plane);
    const ConstImageView first{device_images.data(), map_count, in.c, in.h, in.w, Layout::nchw};
    craft::concept_maps(ctx, model, concepts.W.data(), r, first, maps_device.data(), options);
    const std::vector<float> maps = to_host(ctx, maps_device.data(), map_count * r * plane);
    const int factor = display_factor(rgb_image(set, indices[0]), 168);
    const int tile_w = static_cast<int>(in.w) * factor, tile_h = static_cast<int>(in.h) * factor;
    const int line = 2;
    Image8 canvas = blank_image(static_cast<int>(top + 1) * (tile_w + line) + line,
                                static_cast<int>(map_count) * (tile_h + line) + line, 3, 128);
    for (std::int64_t i = 0; i < map_count; ++i) {
      const Image8 image = rgb_image(set, indices[static_cast<std::size_t>(i)]);
      const int y = line + static_cast<int>(i) * (tile_h + line);
      paste(canvas, enlarge(image, factor), line, y);
      float high = 0.0f;
      for (std::int64_t c : drawn) {
        const float* map = maps.data() + (i * r + c) * plane;
        for (std::int64_t p = 0; p < plane; ++p) high = std::max(high, map[p]);
      }
      for (std::size_t k = 0; k < drawn.size(); ++k) {
        const float* map = maps.data() + (i * r + drawn[k]) * plane;
        const std::vector<float> values(map, map + plane);
        if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); })) {
          throw std::runtime_error("a concept map is not finite");
        }
        paste(canvas,
              render_overlay(image, values, in.h, factor, args.alpha, 0.0f, high),
              line + static_cast<int>(k + 1) * (tile_w + line), y);
      }
    }
    maps_path = out.path("concept_maps.png");
    out.write("concept_maps.png", encode_png(canvas));
    maps_seconds = seconds_since(maps_start);
    std::printf("maps       %lld images x %lld concepts in %.3f s -> %s\n",
                static_cast<long long>(map_count), static_cast<long long>(top), maps_seconds,
                maps_path.c_str());
    std::fflush(stdout);
  }

  // Sub-concepts of one concept at the sub-layer (CRAFT's recursion).
  const std::int64_t parent = args.sub_concept.value_or(ranking.front());
  std::optional<craft::SubConcepts> sub;
  std::vector<float> sub_importances;
  std::vector<std::int64_t> sub_ranking;
  std::vector<std::vector<CropPlace>> sub_top_crops;
  Forwards sub_forwards;
  std::int64_t sub_fit_g_rows = 0;
  double sub_fit_seconds = 0.0, sub_importance_seconds = 0.0, sub_crops_seconds = 0.0;
  int sub_label_width = 0;
  if (sub_rank > 0) {
    const craft::SplitModel earlier =
        counted(craft::split_model(ctx, sub_g, sub_h), sub_forwards, progress);
    craft::CraftOptions sub_options = options;
    sub_options.nmf.rank = sub_rank;

    const auto sub_fit_start = Clock::now();
    progress.emplace(show_progress, terminal, "sub-fit", sub_crops, "crops");
    try {
      sub = craft::fit_subconcepts(ctx, earlier, images, concepts, parent, sub_crops, sub_options);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + "\n(the sub-layer " + sub_layer +
                  " is factorized: its values must be >= 0, as after a ReLU or a pooling of "
                  "one; pass another with --sub-layer)");
    }
    sub_fit_seconds = seconds_since(sub_fit_start);
    sub_fit_g_rows = sub_forwards.g_rows;
    progress->finish(sub_fit_g_rows, sub_fit_seconds);
    std::printf("sub-fit    %lld sub-concepts of concept %lld (rank %lld) from its %lld top crops "
                "in %.3f s: NMF %lld iterations%s, relative error %.4g\n",
                static_cast<long long>(sub_rank), static_cast<long long>(parent),
                static_cast<long long>(rank_of[static_cast<std::size_t>(parent)]),
                static_cast<long long>(sub->concepts.crops), sub_fit_seconds,
                static_cast<long long>(sub->concepts.nmf.iterations),
                sub->concepts.nmf.converged ? " (converged)" : " (max-iter)",
                sub->concepts.nmf.relative_error);
    std::fflush(stdout);

    const auto sub_importance_start = Clock::now();
    sub_forwards.counts_h = true;
    progress.emplace(show_progress, terminal, "sub-importance",
                     n * args.nb_design * (sub_rank + 1), "h evaluations");
    Buffer<float> sub_importance_device(ctx, sub_rank);
    craft::concept_importance(ctx, earlier, sub->concepts.W.data(), sub_rank, images, targets,
                              sub_importance_device.data(), sub_options);
    sub_importances = to_host(ctx, sub_importance_device.data(), sub_rank);
    sub_importance_seconds = seconds_since(sub_importance_start);
    progress->finish(sub_forwards.h_rows, sub_importance_seconds);
    for (float v : sub_importances) {
      if (!std::isfinite(v)) throw std::runtime_error("the sub-concept importances are not finite");
    }
    sub_ranking = rank_by_importance(sub_importances);
    std::printf("sub-import %lld designs, %lld h evaluations at %s in %.3f s\n",
                static_cast<long long>(args.nb_design),
                static_cast<long long>(sub_forwards.h_rows), sub_layer.c_str(),
                sub_importance_seconds);
    print_ranking("sub-concept", sub_ranking, sub_importances);
    std::fflush(stdout);

    // Each sub-concept's top crops: rows of the sub-concepts' U, which
    // follow sub->crop_ids, the parent's crop ids.
    const auto sub_crops_start = Clock::now();
    sub_top_crops.resize(static_cast<std::size_t>(sub_rank));
    for (std::int64_t c = 0; c < sub_rank; ++c) {
      for (std::int64_t row : craft::top_crops(ctx, sub->concepts, c, args.crops_per_concept)) {
        sub_top_crops[static_cast<std::size_t>(c)].push_back(
            place_of(sub->crop_ids[static_cast<std::size_t>(row)]));
      }
    }
    const std::string sub_sheet_path = out.path("subconcepts.png");
    const std::vector<std::string> sub_labels =
        sheet_labels("sub-concept", sub_ranking, sub_importances);
    sub_label_width = sheet_label_width(sub_labels, label_scale);
    out.write("subconcepts.png",
              encode_png(crop_sheet(set, sub_ranking, sub_top_crops, grid.patch,
                                    args.crops_per_concept, crop_factor, 2, sub_labels,
                                    sub_label_width, label_scale)));
    sub_crops_seconds = seconds_since(sub_crops_start);
    std::printf("sub-crops  %lld sub-concepts x %lld crops -> %s\n",
                static_cast<long long>(sub_rank),
                static_cast<long long>(std::min(args.crops_per_concept, sub->concepts.crops)),
                sub_sheet_path.c_str());
    std::fflush(stdout);
  }

  // concepts.json
  const double total_seconds = seconds_since(start);
  JsonWriter json;
  begin_result_json(json, model_file);
  json.key("layer");
  json.value(layer);
  json.key("layer_is_default");
  json.value(!args.layer.has_value());
  json.key("layer_shape");
  int_array(json, {activations.c, activations.h, activations.w});
  json.key("input_shape");
  int_array(json, {in.c, in.h, in.w});
  json.key("scale");
  json.value(args.scale);
  json.key("device");
  json.value(args.device);
  json.key("num_classes");
  json.value(classes);
  json.key("class");
  json.value(args.class_id);
  if (!names.empty()) {
    json.key("class_name");
    json.value(names[static_cast<std::size_t>(args.class_id)]);
  }
  json.key("data");
  json.value(fs::absolute(set.images_file).lexically_normal().string());
  json.key("images_in_class");
  json.value(in_class);
  json.key("num_images");
  json.value(n);
  json.key("image_indices");
  int_array(json, indices);
  json.key("predicted_in_class");
  json.value(predicted_in_class);
  json.key("patch_size");
  json.value(grid.patch);
  json.key("stride");
  json.value(grid.stride);
  json.key("crop_grid");
  int_array(json, {grid.rows, grid.cols});
  json.key("num_crops");
  json.value(concepts.crops);
  json.key("rank");
  json.value(r);
  json.key("nmf");
  nmf_report(json, concepts.nmf);
  json.key("importances");
  float_array(json, importances);
  json.key("ranking");
  int_array(json, ranking);
  json.key("drawn");
  int_array(json, drawn);
  // The concept bank W: r rows (concept ids) of the layer's channels, so
  // that the concepts can be reused (nmf::transform against them).
  json.key("bank");
  json.begin_array();
  const std::vector<float> bank = to_host(ctx, concepts.W.data(), r * concepts.features);
  for (std::int64_t c = 0; c < r; ++c) {
    float_array(json, std::vector<float>(bank.begin() + c * concepts.features,
                                         bank.begin() + (c + 1) * concepts.features));
  }
  json.end_array();
  json.key("concepts");
  json.begin_array();
  for (std::int64_t c = 0; c < r; ++c) {
    json.begin_object();
    json.key("concept");
    json.value(c);
    json.key("rank");
    json.value(rank_of[static_cast<std::size_t>(c)]);
    json.key("importance");
    json.value(importances[static_cast<std::size_t>(c)]);
    json.key("top_crops");
    crop_list(json, top_crops[static_cast<std::size_t>(c)]);
    json.end_object();
  }
  json.end_array();
  if (sub) {
    json.key("subconcepts");
    json.begin_object();
    json.key("concept");
    json.value(parent);
    json.key("concept_rank");
    json.value(rank_of[static_cast<std::size_t>(parent)]);
    json.key("concept_is_default");
    json.value(!args.sub_concept.has_value());
    json.key("layer");
    json.value(sub_layer);
    json.key("layer_is_default");
    json.value(!args.sub_layer.has_value());
    json.key("layer_shape");
    int_array(json, {sub_activations.c, sub_activations.h, sub_activations.w});
    json.key("num_crops");
    json.value(sub->concepts.crops);
    json.key("crop_ids");
    int_array(json, sub->crop_ids);
    json.key("rank");
    json.value(sub->concepts.rank);
    json.key("nmf");
    nmf_report(json, sub->concepts.nmf);
    json.key("importances");
    float_array(json, sub_importances);
    json.key("ranking");
    int_array(json, sub_ranking);
    json.key("subconcepts");
    json.begin_array();
    for (std::int64_t c = 0; c < sub_rank; ++c) {
      json.begin_object();
      json.key("subconcept");
      json.value(c);
      json.key("rank");
      json.value(static_cast<std::int64_t>(
          std::find(sub_ranking.begin(), sub_ranking.end(), c) - sub_ranking.begin() + 1));
      json.key("importance");
      json.value(sub_importances[static_cast<std::size_t>(c)]);
      json.key("top_crops");
      crop_list(json, sub_top_crops[static_cast<std::size_t>(c)]);
      json.end_object();
    }
    json.end_array();
    json.key("subconcepts_png");
    json.value("subconcepts.png");
    json.key("subconcepts_png_label_width");
    json.value(sub_label_width);
    json.end_object();
  }
  json.key("concepts_png");
  json.value("concepts.png");
  json.key("crops_per_concept");
  json.value(args.crops_per_concept);
  json.key("crop_display_factor");
  json.value(crop_factor);
  json.key("concepts_png_label_width");
  json.value(label_width);
  json.key("map_images");
  int_array(json, std::vector<std::int64_t>(indices.begin(), indices.begin() + map_count));
  if (!maps_path.empty()) {
    json.key("concept_maps_png");
    json.value("concept_maps.png");
  }
  json.key("options");
  json.begin_object();
  json.key("patch_size");
  json.value(options.patch_size);
  json.key("concepts");
  json.value(options.nmf.rank);
  json.key("max_iter");
  json.value(options.nmf.max_iter);
  json.key("tol");
  json.value(options.nmf.tol);
  json.key("nmf_init");
  json.value(nmf::to_string(options.nmf.init));
  json.key("alpha_w");
  json.value(options.alpha_w);
  json.key("nb_design");
  json.value(options.nb_design);
  json.key("sampler");
  json.value(cuxplain::to_string(options.sampler));
  json.key("skip");
  json.value(options.skip);
  json.key("estimator");
  json.value(cuxplain::to_string(options.estimator));
  json.key("map_interpolation");
  json.value(cuxplain::to_string(options.map_interpolation));
  json.key("batch_size");
  json.value(options.batch_size);
  json.key("seed");
  json.value(static_cast<std::uint64_t>(args.seed));
  json.key("subconcepts");
  json.value(sub_rank);
  if (sub_rank > 0) {
    json.key("sub_concept");
    json.value(parent);
    json.key("sub_crops");
    json.value(args.sub_crops.value_or(200));
    json.key("sub_layer");
    json.value(sub_layer);
  }
  json.end_object();
  json.key("forwards");
  json.begin_object();
  json.key("fit_g_rows");
  json.value(fit_g_rows);
  json.key("importance_h_rows");
  json.value(forwards.h_rows);
  json.key("subconcepts_fit_g_rows");
  json.value(sub_fit_g_rows);
  json.key("subconcepts_importance_h_rows");
  json.value(sub_forwards.h_rows);
  json.end_object();
  json.key("seconds");
  json.begin_object();
  const std::pair<const char*, double> seconds[] = {
      {"load_model", load_model_seconds},
      {"load_data", load_data_seconds},
      {"predict", predict_seconds},
      {"fit", fit_seconds},
      {"importance", importance_seconds},
      {"top_crops", crops_seconds},
      {"maps", maps_seconds},
      {"subconcepts_fit", sub_fit_seconds},
      {"subconcepts_importance", sub_importance_seconds},
      {"subconcepts_crops", sub_crops_seconds}};
  for (const auto& [name, value] : seconds) {
    json.key(name);
    json.number(value, 6);
  }
  json.key("total");
  json.number(total_seconds, 6);
  json.end_object();
  json.end_object();
  out.write("concepts.json", json.str());
  std::printf("json       %s\n", out.path("concepts.json").c_str());
  std::printf("time       %.3f s\n", total_seconds);
  // A report that did not reach stdout fails the run before --out changes.
  check_stdout();
  out.commit();
  return 0;
}

}  // namespace cuxplain::cli
