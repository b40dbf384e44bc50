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
#include <cctype>
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
#include "preprocess.hpp"
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
Image8 crop_sheet(const std::vector<Image8>& images, const std::vector<std::int64_t>& rows,
                  const std::vector<std::vector<CropPlace>>& crops, std::int64_t patch,
                  std::int64_t per_row, int factor, int line,
                  const std::vector<std::string>& labels, int label_width, int label_scale) {
  const int tile = static_cast<int>(patch) * factor;
  const int width = label_width + static_cast<int>(per_row) * (tile + line) + line;
  const int height = static_cast<int>(rows.size()) * (tile + line) + line;
  const int channels = images.front().channels;
  Image8 sheet = blank_image(width, height, channels, 128);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int row_top = line + static_cast<int>(r) * (tile + line);
    const int text_top = row_top + std::max(0, (tile - text_height(labels[r], label_scale)) / 2);
    draw_text(sheet, labels[r], line + label_scale, text_top, label_scale, 255);
    const std::vector<CropPlace>& places = crops[static_cast<std::size_t>(rows[r])];
    for (std::size_t k = 0; k < places.size() && static_cast<std::int64_t>(k) < per_row; ++k) {
      const CropPlace& place = places[k];
      const Image8& image = images[static_cast<std::size_t>(place.position)];
      Image8 cut = blank_image(static_cast<int>(patch), static_cast<int>(patch), channels, 0);
      for (std::int64_t y = 0; y < patch; ++y) {
        for (std::int64_t x = 0; x < patch; ++x) {
          for (int ch = 0; ch < channels; ++ch) {
            cut.pixels[static_cast<std::size_t>((y * patch + x) * channels + ch)] =
                image.pixels[static_cast<std::size_t>(
                    ((place.top + y) * image.width + place.left + x) * channels + ch)];
          }
        }
      }
      paste(sheet, enlarge(cut, factor),
            label_width + line + static_cast<int>(k) * (tile + line), row_top);
    }
  }
  return sheet;
}

/// An 8-bit image as RGB (gray repeated).
Image8 rgb_image(const Image8& image) {
  if (image.channels == 3) return image;
  Image8 rgb = blank_image(image.width, image.height, 3, 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(image.width) * image.height; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      rgb.pixels[i * 3 + k] = image.pixels[i * static_cast<std::size_t>(image.channels)];
    }
  }
  return rgb;
}

Json nmf_json(const nmf::Result& result) {
  Json json;
  json["iterations"] = result.iterations;
  json["converged"] = result.converged;
  json["relative_error"] = result.relative_error;
  json["loss"] = result.loss;
  return json;
}

Json crops_json(const std::vector<CropPlace>& places) {
  Json list = Json::array();
  for (const CropPlace& place : places) {
    Json crop;
    crop["crop"] = place.crop;
    crop["image"] = place.image;
    crop["top"] = place.top;
    crop["left"] = place.left;
    list.push_back(std::move(crop));
  }
  return list;
}

Json floats_json(const std::vector<float>& values) {
  Json array = Json::array();
  for (float v : values) array.push_back(json_float(v));
  return array;
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


/// What the run has set up before any concept: the model cut at the layer
/// (and the sub-layer), the images of the class on the device, the options.
struct Session {
  explicit Session(const ConceptsArgs& a) : args(a) {}
  const ConceptsArgs& args;
  Context ctx = Context::host();
  bool show_progress = false, terminal = false;
  ResolvedFile model_file;
  std::string layer, sub_layer;
  nn::Shape in, activations, sub_activations;
  nn::Network g, h, sub_g, sub_h;
  std::int64_t classes = 0;
  std::string sidecar;
  std::vector<std::string> names;
  FashionMnist set;
  std::string data;                   // the test set's images file, or --image-dir
  std::vector<std::string> files;     // --image-dir: the images used, by name
  std::vector<Image8> display;        // the images used as the model sees them, 8-bit
  std::vector<std::int64_t> indices;  // test-set (or folder) indices of the images used
  std::int64_t in_class = 0, n = 0, predicted_in_class = 0;
  craft::CropGrid grid;
  std::int64_t crops = 0, sub_crops = 0;
  Buffer<float> device_images;
  ConstImageView images;
  std::vector<int> targets;
  craft::CraftOptions options;
  double load_model_seconds = 0.0, load_data_seconds = 0.0, predict_seconds = 0.0;
  int crop_factor = 1, label_scale = 1;
  std::optional<Progress> progress;

  /// Crop `id`'s place among the images used.
  CropPlace place_of(std::int64_t id) const {
    CropPlace place;
    place.crop = id;
    place.position = id / grid.per_image();
    place.image = indices[static_cast<std::size_t>(place.position)];
    place.top = grid.top(id);
    place.left = grid.left(id);
    return place;
  }
};

/// One level of concepts (the concepts at the layer, or the sub-concepts of
/// one of them at the sub-layer): its factorization, the importances and
/// their ranking, each concept's top crops and the crop sheet.
struct Level {
  craft::Concepts concepts;
  std::vector<std::int64_t> crop_ids;  // sub-concepts: the parent's crops they factorize
  std::vector<float> importances;
  std::vector<std::int64_t> ranking, rank_of;
  std::vector<std::vector<CropPlace>> top_crops;
  Forwards forwards;
  std::int64_t fit_g_rows = 0;
  double fit_seconds = 0.0, importance_seconds = 0.0, crops_seconds = 0.0;
  int label_width = 0;
};

/// How a level names itself in the report and its files.
struct LevelNames {
  const char* what;              // "concept", "sub-concept"
  const char* fit;               // progress labels
  const char* importance;
  const char* sheet;             // the crop sheet's file
  const char* importance_label;  // report lines
  const char* sheet_label;
};

constexpr LevelNames kConcepts{"concept", "fit", "importance", "concepts.png", "importance",
                               "concepts  "};
constexpr LevelNames kSubConcepts{"sub-concept", "sub-fit", "sub-importance", "subconcepts.png",
                                  "sub-import", "sub-crops "};

/// Runs a level: `fit` factorizes (g counted as progress over `crops` crops)
/// and prints its report line; then the importances through h, the ranking,
/// and the sheet of `drawn_of(ranking)` rows.
template <class Fit, class Drawn>
Level run_level(Session& s, const LevelNames& names, const craft::SplitModel& split,
                std::int64_t crops, const craft::CraftOptions& options, const std::string& where,
                Fit&& fit, Drawn&& drawn_of, OutputDir& out) {
  Level level;
  const craft::SplitModel model = counted(split, level.forwards, s.progress);

  const auto fit_start = Clock::now();
  s.progress.emplace(s.show_progress, s.terminal, names.fit, crops, "crops");
  fit(model, level);
  level.fit_seconds = seconds_since(fit_start);
  level.fit_g_rows = level.forwards.g_rows;
  s.progress->finish(level.fit_g_rows, level.fit_seconds);
  const std::int64_t r = level.concepts.rank;

  const auto importance_start = Clock::now();
  level.forwards.counts_h = true;
  s.progress.emplace(s.show_progress, s.terminal, names.importance,
                     s.n * s.args.nb_design * (r + 1), "h evaluations");
  Buffer<float> importances(s.ctx, r);
  craft::concept_importance(s.ctx, model, level.concepts.W.data(), r, s.images, s.targets,
                            importances.data(), options);
  level.importances = to_host(s.ctx, importances.data(), r);
  level.importance_seconds = seconds_since(importance_start);
  s.progress->finish(level.forwards.h_rows, level.importance_seconds);
  for (float v : level.importances) {
    if (!std::isfinite(v)) {
      throw std::runtime_error(std::string("the ") + names.what + " importances are not finite");
    }
  }
  level.ranking = rank_by_importance(level.importances);
  level.rank_of.resize(static_cast<std::size_t>(r));
  for (std::int64_t k = 0; k < r; ++k) level.rank_of[static_cast<std::size_t>(level.ranking[k])] = k + 1;
  std::printf("%-10s %lld designs, %lld h evaluations%s in %.3f s\n", names.importance_label,
              static_cast<long long>(s.args.nb_design),
              static_cast<long long>(level.forwards.h_rows), where.c_str(),
              level.importance_seconds);
  print_ranking(names.what, level.ranking, level.importances);
  std::fflush(stdout);

  // Each concept's top crops (rows of U: crop ids, or the parent's through
  // crop_ids), and the crop sheet.
  const auto crops_start = Clock::now();
  level.top_crops.resize(static_cast<std::size_t>(r));
  for (std::int64_t c = 0; c < r; ++c) {
    for (std::int64_t row : craft::top_crops(s.ctx, level.concepts, c, s.args.crops_per_concept)) {
      const std::int64_t id =
          level.crop_ids.empty() ? row : level.crop_ids[static_cast<std::size_t>(row)];
      level.top_crops[static_cast<std::size_t>(c)].push_back(s.place_of(id));
    }
  }
  const std::vector<std::int64_t> rows = drawn_of(level.ranking);
  const std::vector<std::string> labels = sheet_labels(names.what, rows, level.importances);
  level.label_width = sheet_label_width(labels, s.label_scale);
  out.write(names.sheet, encode_png(crop_sheet(s.display, rows, level.top_crops, s.grid.patch,
                                               s.args.crops_per_concept, s.crop_factor, 2, labels,
                                               level.label_width, s.label_scale)));
  level.crops_seconds = seconds_since(crops_start);
  std::printf("%s %lld %ss x %lld crops -> %s\n", names.sheet_label,
              static_cast<long long>(rows.size()), names.what,
              static_cast<long long>(std::min(s.args.crops_per_concept, level.concepts.crops)),
              out.path(names.sheet).c_str());
  std::fflush(stdout);
  return level;
}

/// The model, its layers and the cut networks; UsageError for a layer, class
/// or rank the model does not have.
void open_model(Session& s, const nn::OnnxModel& onnx) {
  const ConceptsArgs& args = s.args;
  expect_class_scores(s.model_file.path, onnx.builder.shape(onnx.output));
  s.layer = args.layer.value_or(default_layer(onnx));
  if (s.layer.empty()) {
    throw std::runtime_error("the model has no tensor with a spatial grid to cut at; pass "
                             "--layer (cuxplain concepts --list-layers lists the tensors)");
  }
  if (tensor_position(onnx, s.layer) < 0) {
    throw UsageError("--layer: the model has no tensor '" + s.layer +
                     "' (cuxplain concepts --list-layers lists them)");
  }
  const nn::NodeId cut = onnx.node(s.layer);
  if (cut > onnx.output) {
    throw UsageError("--layer " + s.layer + " comes after the model's output " +
                     onnx.output_name + ": the model cannot be cut there (cuxplain concepts "
                     "--list-layers marks the tensors after the output)");
  }
  if (args.subconcepts > 0) {
    s.sub_layer = resolve_sub_layer(onnx, args, s.model_file.is_default, s.layer);
  }
  s.in = onnx.builder.shape(onnx.tensors.front().second);
  if (!args.image_dir && (s.in.c != 1 || (!args.preprocess.geometric() &&
                                          (s.in.h != 28 || s.in.w != 28)))) {
    throw std::runtime_error("the model takes " + nn::to_string(s.in) +
                             " inputs; the Fashion-MNIST images are 1 x 28 x 28 (--image-dir "
                             "reads a folder of images instead)");
  }
  if (s.in.c > 4) {
    throw std::runtime_error("the model takes " + std::to_string(s.in.c) +
                             " channels; images convert to 1 to 4");
  }
  check_preprocess(args.preprocess, s.in.c);
  if (args.patch > std::min(s.in.h, s.in.w)) {
    throw UsageError("--patch " + std::to_string(args.patch) +
                     " is larger than the model input (" + std::to_string(s.in.h) + " x " +
                     std::to_string(s.in.w) + ")");
  }
  s.g = onnx.builder.build(s.ctx, cut);
  s.h = onnx.builder.build(s.ctx, cut, onnx.output);
  s.activations = s.g.output_shape();
  s.classes = s.h.output_shape().size();
  if (args.class_id >= s.classes) {
    throw UsageError("--class must be in [0, " + std::to_string(s.classes) +
                     ") for this model, got " + std::to_string(args.class_id));
  }
  if (args.rank > s.activations.c) {
    throw UsageError("--concepts must be at most the layer's " +
                     std::to_string(s.activations.c) + " channels, got " +
                     std::to_string(args.rank));
  }
  if (args.subconcepts > 0) {
    const nn::NodeId sub_cut = onnx.node(s.sub_layer);
    s.sub_g = onnx.builder.build(s.ctx, sub_cut);
    s.sub_h = onnx.builder.build(s.ctx, sub_cut, onnx.output);
    s.sub_activations = s.sub_g.output_shape();
  }
  s.names = class_names(s.model_file.path, args.labels_path, s.classes, s.sidecar);
}

/// The test images of the class, on the device; UsageError when they give
/// too few crops for the ranks asked for.
/// The Fashion-MNIST test images of the class: their indices, model inputs
/// (appended to `inputs`) and display images.
void read_test_set_images(Session& s, std::vector<float>& inputs) {
  const ConceptsArgs& args = s.args;
  s.set = read_fashion_mnist_test(args.data_dir);
  s.data = s.set.images_file;
  if (!args.preprocess.geometric() && (s.set.rows != s.in.h || s.set.cols != s.in.w)) {
    throw std::runtime_error("'" + s.set.images_file + "' holds " + std::to_string(s.set.rows) +
                             " x " + std::to_string(s.set.cols) + " images, the model takes " +
                             nn::to_string(s.in));
  }
  for (std::int64_t i = 0; i < s.set.count; ++i) {
    if (s.set.labels[static_cast<std::size_t>(i)] != args.class_id) continue;
    ++s.in_class;
    if (static_cast<std::int64_t>(s.indices.size()) < args.max_images) s.indices.push_back(i);
  }
  if (s.indices.empty()) {
    throw std::runtime_error("'" + s.set.labels_file + "' has no image of class " +
                             std::to_string(args.class_id));
  }
  Image8 gray;
  gray.width = static_cast<int>(s.set.cols);
  gray.height = static_cast<int>(s.set.rows);
  gray.channels = 1;
  for (const std::int64_t index : s.indices) {
    gray.pixels.assign(s.set.image(index), s.set.image(index) + s.set.rows * s.set.cols);
    const std::vector<float> input =
        preprocess_image(gray, s.in.c, s.in.h, s.in.w, args.scale, args.preprocess);
    inputs.insert(inputs.end(), input.begin(), input.end());
    s.display.push_back(preprocess_display(gray, args.preprocess, s.in.h, s.in.w));
  }
}

/// The file extensions --image-dir reads (stb's decoders), lower case.
bool has_image_extension(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".pnm", ".pgm",
                            ".ppm", ".psd", ".hdr", ".pic"}) {
    if (ext == known) return true;
  }
  return false;
}

/// --image-dir: its image files in name order (at most --images), decoded
/// to the model's channels and preprocessed.
void read_folder_images(Session& s, std::vector<float>& inputs) {
  const ConceptsArgs& args = s.args;
  const std::string& dir = *args.image_dir;
  s.data = dir;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw UsageError("--image-dir: '" + dir + "' is not a directory");
  }
  std::vector<std::string> names;
  std::int64_t skipped = 0;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const fs::path path = it->path();
    const std::string name = path.filename().string();
    if (name.empty() || name.front() == '.') continue;  // hidden files
    std::error_code kind_error;
    if (!fs::is_regular_file(path, kind_error)) continue;
    if (has_image_extension(path)) {
      names.push_back(name);
    } else {
      ++skipped;
    }
  }
  if (error) {
    throw std::runtime_error("cannot list --image-dir '" + dir + "': " + error.message());
  }
  if (names.empty()) {
    throw std::runtime_error("--image-dir '" + dir + "' has no image file (.png, .jpg, .jpeg, "
                             ".bmp, .gif, .tga, .pnm, .pgm, .ppm, .psd, .hdr, .pic)" +
                             (skipped > 0 ? "; " + std::to_string(skipped) +
                                                " other files were skipped"
                                          : std::string()));
  }
  std::sort(names.begin(), names.end());
  s.in_class = static_cast<std::int64_t>(names.size());
  if (static_cast<std::int64_t>(names.size()) > args.max_images) {
    names.resize(static_cast<std::size_t>(args.max_images));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string path = (fs::path(dir) / names[i]).string();
    // read_image names the file in its errors (undecodable, too large).
    const Image8 source = read_image(path, static_cast<int>(s.in.c));
    const std::vector<float> input =
        preprocess_image(source, s.in.c, s.in.h, s.in.w, args.scale, args.preprocess);
    inputs.insert(inputs.end(), input.begin(), input.end());
    s.display.push_back(preprocess_display(read_image(path, 3), args.preprocess, s.in.h, s.in.w));
    s.indices.push_back(static_cast<std::int64_t>(i));
  }
  s.files = std::move(names);
}

/// The images of the class, on the device; UsageError when they give too
/// few crops for the ranks asked for.
void read_class_images(Session& s) {
  const ConceptsArgs& args = s.args;
  std::vector<float> host_images;
  if (args.image_dir) {
    read_folder_images(s, host_images);
  } else {
    read_test_set_images(s, host_images);
  }
  s.n = static_cast<std::int64_t>(s.indices.size());
  s.grid = craft::crop_grid(s.in.h, s.in.w, args.patch);
  s.crops = s.n * s.grid.per_image();
  if (s.crops < args.rank) {
    throw UsageError("--concepts " + std::to_string(args.rank) +
                     " needs at least as many crops; " + std::to_string(s.n) + " image" +
                     (s.n > 1 ? "s give " : " gives ") + std::to_string(s.crops) +
                     " (raise --images or lower --patch)");
  }
  s.sub_crops = std::min(args.sub_crops.value_or(200), s.crops);
  if (args.subconcepts > s.sub_crops) {
    throw UsageError("--subconcepts " + std::to_string(args.subconcepts) +
                     " needs at least as many crops of the concept; it has " +
                     std::to_string(s.sub_crops) + " (--sub-crops, at most the " +
                     std::to_string(s.crops) + " crops)");
  }
  s.device_images = Buffer<float>(s.ctx, s.n * s.in.size());
  copy_to_device(s.ctx, s.device_images.data(), host_images.data(),
                 host_images.size() * sizeof(float));
  s.images = {s.device_images.data(), s.n, s.in.c, s.in.h, s.in.w, Layout::nchw};
  s.targets.assign(static_cast<std::size_t>(s.n), args.class_id);
}

/// How many of the images the model puts in the class.
std::int64_t count_predicted(const Session& s) {
  const std::int64_t batch = std::max<std::int64_t>(s.args.batch_size, 256);
  Buffer<float> acts(s.ctx, std::min(batch, s.n) * s.activations.size());
  Buffer<float> logits(s.ctx, std::min(batch, s.n) * s.classes);
  std::int64_t predicted = 0;
  for (std::int64_t first = 0; first < s.n; first += batch) {
    const std::int64_t count = std::min(batch, s.n - first);
    s.g.forward(s.ctx, s.device_images.data() + first * s.in.size(), count, acts.data());
    s.h.forward(s.ctx, acts.data(), count, logits.data());
    const std::vector<float> host = to_host(s.ctx, logits.data(), count * s.classes);
    for (std::int64_t i = 0; i < count; ++i) {
      const float* row = host.data() + i * s.classes;
      if (std::max_element(row, row + s.classes) - row == s.args.class_id) ++predicted;
    }
  }
  return predicted;
}

void print_setup(const Session& s) {
  const ConceptsArgs& args = s.args;
  std::printf("model      %s%s: %s -> %lld classes%s\n", s.model_file.path.c_str(),
              s.model_file.is_default ? " (embedded default)" : "", nn::to_string(s.in).c_str(),
              static_cast<long long>(s.classes),
              s.sidecar.empty() ? "" : (", names from " + s.sidecar).c_str());
  std::printf("layer      %s%s: %s\n", s.layer.c_str(), args.layer ? "" : " (default)",
              nn::to_string(s.activations).c_str());
  if (args.subconcepts > 0) {
    std::printf("sub-layer  %s%s: %s\n", s.sub_layer.c_str(), args.sub_layer ? "" : " (default)",
                nn::to_string(s.sub_activations).c_str());
  }
  std::printf("data       %s: %lld of the %lld %s of class %s; the model predicts "
              "the class on %lld\n",
              s.data.c_str(), static_cast<long long>(s.n), static_cast<long long>(s.in_class),
              args.image_dir ? "images of the folder" : "test images",
              class_label(args.class_id, s.names).c_str(),
              static_cast<long long>(s.predicted_in_class));
  std::printf("device     %s\n", args.device.c_str());
  std::printf("crops      %lld x %lld pixels every %lld: %lld x %lld per image, %lld crops\n",
              static_cast<long long>(s.grid.patch), static_cast<long long>(s.grid.patch),
              static_cast<long long>(s.grid.stride), static_cast<long long>(s.grid.rows),
              static_cast<long long>(s.grid.cols), static_cast<long long>(s.crops));
  std::fflush(stdout);
}

craft::CraftOptions craft_options(const ConceptsArgs& args) {
  craft::CraftOptions options;
  options.patch_size = args.patch;
  options.nmf.rank = args.rank;
  options.nmf.max_iter = args.max_iter;
  options.nmf.seed = args.seed;
  options.alpha_w = args.alpha_w;
  options.nmf.solver = args.nmf_solver;
  options.crop_resize = args.crop_resize;
  options.nb_design = args.nb_design;
  options.sampler = args.sampler;
  options.seed = args.seed;
  options.estimator = args.estimator;
  options.batch_size = args.batch_size;
  return options;
}

/// concept_maps.png: the first images, each with the drawn concepts' maps;
/// returns the seconds it took (0 without maps).
double draw_maps(const Session& s, const Level& level, const std::vector<std::int64_t>& drawn,
                 std::int64_t map_count, const craft::SplitModel& model, OutputDir& out) {
  const auto maps_start = Clock::now();
  const std::int64_t r = level.concepts.rank;
  const std::int64_t plane = s.in.h * s.in.w;
  Buffer<float> maps_device(s.ctx, map_count * r * plane);
  const ConstImageView first{s.device_images.data(), map_count, s.in.c, s.in.h, s.in.w,
                             Layout::nchw};
  craft::concept_maps(s.ctx, model, level.concepts.W.data(), r, first, maps_device.data(),
                      s.options);
  const std::vector<float> maps = to_host(s.ctx, maps_device.data(), map_count * r * plane);
  const int factor = display_factor(rgb_image(s.display.front()), 168);
  const int tile_w = static_cast<int>(s.in.w) * factor, tile_h = static_cast<int>(s.in.h) * factor;
  const int line = 2;
  const auto top = static_cast<int>(drawn.size());
  Image8 canvas = blank_image((top + 1) * (tile_w + line) + line,
                              static_cast<int>(map_count) * (tile_h + line) + line, 3, 128);
  for (std::int64_t i = 0; i < map_count; ++i) {
    const Image8 image = rgb_image(s.display[static_cast<std::size_t>(i)]);
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
      paste(canvas, render_overlay(image, values, s.in.h, factor, s.args.alpha, 0.0f, high),
            line + static_cast<int>(k + 1) * (tile_w + line), y);
    }
  }
  out.write("concept_maps.png", encode_png(canvas));
  const double seconds = seconds_since(maps_start);
  std::printf("maps       %lld images x %lld concepts in %.3f s -> %s\n",
              static_cast<long long>(map_count), static_cast<long long>(top), seconds,
              out.path("concept_maps.png").c_str());
  std::fflush(stdout);
  return seconds;
}

Json ints_json(const std::vector<std::int64_t>& values) { return Json(values); }

Json sub_concepts_json(const Session& s, const Level& sub, std::int64_t parent,
                       const Level& concepts) {
  const std::int64_t rank = sub.concepts.rank;
  Json json;
  json["concept"] = parent;
  json["concept_rank"] = concepts.rank_of[static_cast<std::size_t>(parent)];
  json["concept_is_default"] = !s.args.sub_concept.has_value();
  json["layer"] = s.sub_layer;
  json["layer_is_default"] = !s.args.sub_layer.has_value();
  json["layer_shape"] = {s.sub_activations.c, s.sub_activations.h, s.sub_activations.w};
  json["num_crops"] = sub.concepts.crops;
  json["crop_ids"] = ints_json(sub.crop_ids);
  json["rank"] = rank;
  json["nmf"] = nmf_json(sub.concepts.nmf);
  json["importances"] = floats_json(sub.importances);
  json["ranking"] = ints_json(sub.ranking);
  Json list = Json::array();
  for (std::int64_t c = 0; c < rank; ++c) {
    Json entry;
    entry["subconcept"] = c;
    entry["rank"] = sub.rank_of[static_cast<std::size_t>(c)];
    entry["importance"] = json_float(sub.importances[static_cast<std::size_t>(c)]);
    entry["top_crops"] = crops_json(sub.top_crops[static_cast<std::size_t>(c)]);
    list.push_back(std::move(entry));
  }
  json["subconcepts"] = std::move(list);
  json["subconcepts_png"] = "subconcepts.png";
  json["subconcepts_png_label_width"] = sub.label_width;
  return json;
}

Json concepts_json(const Session& s, const Level& level, const std::vector<std::int64_t>& drawn,
                   std::int64_t map_count, const std::optional<Level>& sub, std::int64_t parent,
                   const std::vector<std::pair<const char*, double>>& seconds,
                   double total_seconds) {
  const ConceptsArgs& args = s.args;
  const craft::Concepts& concepts = level.concepts;
  const std::int64_t r = concepts.rank;
  Json json = result_json(s.model_file);
  json["layer"] = s.layer;
  json["layer_is_default"] = !args.layer.has_value();
  json["layer_shape"] = {s.activations.c, s.activations.h, s.activations.w};
  json["input_shape"] = {s.in.c, s.in.h, s.in.w};
  json["scale"] = args.scale;
  if (!args.preprocess.is_default()) json["preprocess"] = preprocess_json(args.preprocess);
  json["device"] = args.device;
  json["num_classes"] = s.classes;
  json["class"] = args.class_id;
  if (!s.names.empty()) json["class_name"] = s.names[static_cast<std::size_t>(args.class_id)];
  json["data"] = fs::absolute(s.data).lexically_normal().string();
  if (args.image_dir) json["image_files"] = s.files;
  json["images_in_class"] = s.in_class;
  json["num_images"] = s.n;
  json["image_indices"] = ints_json(s.indices);
  json["predicted_in_class"] = s.predicted_in_class;
  json["patch_size"] = s.grid.patch;
  json["stride"] = s.grid.stride;
  json["crop_grid"] = {s.grid.rows, s.grid.cols};
  json["num_crops"] = concepts.crops;
  json["rank"] = r;
  json["nmf"] = nmf_json(concepts.nmf);
  json["importances"] = floats_json(level.importances);
  json["ranking"] = ints_json(level.ranking);
  json["drawn"] = ints_json(drawn);
  // The concept bank W: r rows (concept ids) of the layer's channels, so
  // that the concepts can be reused (nmf::transform against them).
  const std::vector<float> bank = to_host(s.ctx, concepts.W.data(), r * concepts.features);
  Json rows = Json::array();
  for (std::int64_t c = 0; c < r; ++c) {
    rows.push_back(floats_json(std::vector<float>(bank.begin() + c * concepts.features,
                                                  bank.begin() + (c + 1) * concepts.features)));
  }
  json["bank"] = std::move(rows);
  Json list = Json::array();
  for (std::int64_t c = 0; c < r; ++c) {
    Json entry;
    entry["concept"] = c;
    entry["rank"] = level.rank_of[static_cast<std::size_t>(c)];
    entry["importance"] = json_float(level.importances[static_cast<std::size_t>(c)]);
    entry["top_crops"] = crops_json(level.top_crops[static_cast<std::size_t>(c)]);
    list.push_back(std::move(entry));
  }
  json["concepts"] = std::move(list);
  if (sub) json["subconcepts"] = sub_concepts_json(s, *sub, parent, level);
  json["concepts_png"] = "concepts.png";
  json["crops_per_concept"] = args.crops_per_concept;
  json["crop_display_factor"] = s.crop_factor;
  json["concepts_png_label_width"] = level.label_width;
  json["map_images"] =
      ints_json(std::vector<std::int64_t>(s.indices.begin(), s.indices.begin() + map_count));
  if (map_count > 0) json["concept_maps_png"] = "concept_maps.png";
  const craft::CraftOptions& options = s.options;
  Json used;
  used["patch_size"] = options.patch_size;
  used["concepts"] = options.nmf.rank;
  used["max_iter"] = options.nmf.max_iter;
  used["tol"] = options.nmf.tol;
  used["nmf_init"] = nmf::to_string(options.nmf.init);
  used["nmf_solver"] = nmf::to_string(options.nmf.solver);
  used["crop_resize"] = craft::to_string(options.crop_resize);
  used["alpha_w"] = json_float(options.alpha_w);
  used["nb_design"] = options.nb_design;
  used["sampler"] = to_string(options.sampler);
  used["skip"] = options.skip;
  used["estimator"] = to_string(options.estimator);
  used["map_interpolation"] = to_string(options.map_interpolation);
  used["batch_size"] = options.batch_size;
  used["seed"] = static_cast<std::uint64_t>(args.seed);
  used["subconcepts"] = args.subconcepts;
  if (args.subconcepts > 0) {
    used["sub_concept"] = parent;
    used["sub_crops"] = args.sub_crops.value_or(200);
    used["sub_layer"] = s.sub_layer;
  }
  json["options"] = std::move(used);
  Json forwards;
  forwards["fit_g_rows"] = level.fit_g_rows;
  forwards["importance_h_rows"] = level.forwards.h_rows;
  forwards["subconcepts_fit_g_rows"] = sub ? sub->fit_g_rows : 0;
  forwards["subconcepts_importance_h_rows"] = sub ? sub->forwards.h_rows : 0;
  json["forwards"] = std::move(forwards);
  Json timings;
  for (const auto& [name, value] : seconds) timings[name] = json_rounded(value, 6);
  timings["total"] = json_rounded(total_seconds, 6);
  json["seconds"] = std::move(timings);
  return json;
}

}  // namespace

int run_concepts(const ConceptsArgs& args) {
  const auto start = Clock::now();
  Session s(args);
  s.model_file = resolve(args.model_path, "--model", kDefaultModel);
  const nn::OnnxModel onnx = read_model(s.model_file.path);
  if (args.list_layers) return list_layers(s.model_file, onnx);
  s.terminal = isatty(STDERR_FILENO) != 0;
  s.show_progress = args.progress == ProgressMode::on ||
                    (args.progress == ProgressMode::automatic && s.terminal);
  s.ctx = make_context(args.device);
  open_model(s, onnx);
  s.load_model_seconds = seconds_since(start);

  const auto data_start = Clock::now();
  read_class_images(s);
  s.load_data_seconds = seconds_since(data_start);
  const auto predict_start = Clock::now();
  s.predicted_in_class = count_predicted(s);
  s.predict_seconds = seconds_since(predict_start);
  print_setup(s);
  s.options = craft_options(args);
  s.crop_factor = static_cast<int>(std::max<std::int64_t>(1, (40 + s.grid.patch - 1) / s.grid.patch));
  // Labels twice the font's size once the crops are that tall.
  s.label_scale = s.grid.patch * s.crop_factor >= 36 ? 2 : 1;

  // The files go to a staging directory, and into --out only when every
  // step has succeeded (commit below).
  OutputDir out(args.out_dir);

  // Concepts at the layer; the sheet draws the --top most important.
  const craft::SplitModel model = craft::split_model(s.ctx, s.g, s.h);
  std::vector<std::int64_t> drawn;
  const Level concepts = run_level(
      s, kConcepts, model, s.crops, s.options, "",
      [&](const craft::SplitModel& counted_model, Level& level) {
        const auto fit_start = Clock::now();
        try {
          level.concepts = craft::fit(s.ctx, counted_model, s.images, s.options);
        } catch (const Error& e) {
          throw Error(std::string(e.what()) + "\n(the layer " + s.layer +
                      " is factorized: its values must be >= 0, as after a ReLU or a pooling "
                      "of one; cuxplain concepts --list-layers lists the tensors)");
        }
        const craft::Concepts& c = level.concepts;
        std::printf("fit        %lld concepts in %.3f s: NMF %lld iterations%s, relative "
                    "error %.4g\n",
                    static_cast<long long>(c.rank), seconds_since(fit_start),
                    static_cast<long long>(c.nmf.iterations),
                    c.nmf.converged ? " (converged)" : " (max-iter)", c.nmf.relative_error);
        std::fflush(stdout);
      },
      [&](const std::vector<std::int64_t>& ranking) {
        const auto r = static_cast<std::int64_t>(ranking.size());
        const std::int64_t top = args.top_all ? r : std::min<std::int64_t>(args.top.value_or(5), r);
        drawn.assign(ranking.begin(), ranking.begin() + top);
        return drawn;
      },
      out);

  // Concept maps of the first images.
  const std::int64_t map_count = std::min(args.map_images, s.n);
  const double maps_seconds =
      map_count > 0 ? draw_maps(s, concepts, drawn, map_count, model, out) : 0.0;

  // Sub-concepts of one concept at the sub-layer (CRAFT's recursion); the
  // sheet draws them all.
  const std::int64_t parent = args.sub_concept.value_or(concepts.ranking.front());
  std::optional<Level> sub;
  if (args.subconcepts > 0) {
    craft::CraftOptions sub_options = s.options;
    sub_options.nmf.rank = args.subconcepts;
    sub = run_level(
        s, kSubConcepts, craft::split_model(s.ctx, s.sub_g, s.sub_h), s.sub_crops, sub_options,
        " at " + s.sub_layer,
        [&](const craft::SplitModel& counted_model, Level& level) {
          const auto fit_start = Clock::now();
          craft::SubConcepts result;
          try {
            result = craft::fit_subconcepts(s.ctx, counted_model, s.images, concepts.concepts,
                                            parent, s.sub_crops, sub_options);
          } catch (const Error& e) {
            throw Error(std::string(e.what()) + "\n(the sub-layer " + s.sub_layer +
                        " is factorized: its values must be >= 0, as after a ReLU or a pooling "
                        "of one; pass another with --sub-layer)");
          }
          level.concepts = std::move(result.concepts);
          level.crop_ids = std::move(result.crop_ids);
          const craft::Concepts& c = level.concepts;
          std::printf("sub-fit    %lld sub-concepts of concept %lld (rank %lld) from its %lld top "
                      "crops in %.3f s: NMF %lld iterations%s, relative error %.4g\n",
                      static_cast<long long>(args.subconcepts), static_cast<long long>(parent),
                      static_cast<long long>(concepts.rank_of[static_cast<std::size_t>(parent)]),
                      static_cast<long long>(c.crops), seconds_since(fit_start),
                      static_cast<long long>(c.nmf.iterations),
                      c.nmf.converged ? " (converged)" : " (max-iter)", c.nmf.relative_error);
          std::fflush(stdout);
        },
        [](const std::vector<std::int64_t>& ranking) { return ranking; }, out);
  }

  // concepts.json
  const double total_seconds = seconds_since(start);
  const std::vector<std::pair<const char*, double>> seconds = {
      {"load_model", s.load_model_seconds},
      {"load_data", s.load_data_seconds},
      {"predict", s.predict_seconds},
      {"fit", concepts.fit_seconds},
      {"importance", concepts.importance_seconds},
      {"top_crops", concepts.crops_seconds},
      {"maps", maps_seconds},
      {"subconcepts_fit", sub ? sub->fit_seconds : 0.0},
      {"subconcepts_importance", sub ? sub->importance_seconds : 0.0},
      {"subconcepts_crops", sub ? sub->crops_seconds : 0.0}};
  out.write("concepts.json", json_text(concepts_json(s, concepts, drawn, map_count, sub, parent,
                                                     seconds, total_seconds)));
  std::printf("json       %s\n", out.path("concepts.json").c_str());
  std::printf("time       %.3f s\n", total_seconds);
  // A report that did not reach stdout fails the run before --out changes.
  check_stdout();
  out.commit();
  return 0;
}

}  // namespace cuxplain::cli
