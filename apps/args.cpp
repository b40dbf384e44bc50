// The command line on CLI11: one App with the explain and concepts
// subcommands, each option bound to its field of ExplainArgs or ConceptsArgs
// with its range, the enumerations read from the library's name tables
// (enum_names), and the help generated from the same declarations.
#include "args.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>
#include <sstream>

#include "fashion_mnist.hpp"

namespace cuxplain::cli {
namespace {

const char kUsage[] =
    "usage: cuxplain explain [--method sobol|hsic|eva|all] [--model FILE.onnx] [--image FILE]\n"
    "                        [--target N] [--device cpu|cuda] [--out DIR] [--grid-size G]\n"
    "                        [--nb-design N] [--batch-size B] [--seed S] [options]\n"
    "       cuxplain concepts --class N [--images N] [--data DIR] [--model FILE.onnx]\n"
    "                         [--layer TENSOR] [--patch P] [--concepts R] [--device cpu|cuda]\n"
    "                         [--subconcepts S] [--out DIR] [options]\n"
    "       cuxplain evaluate [--method M,...] [--metrics deletion,insertion,mufidelity,...]\n"
    "                         [--images N] [--data DIR] [--device cpu|cuda] [--out DIR]\n"
    "       cuxplain --help | --version\n"
    "Run 'cuxplain --help' for every option.\n";

const char kHelpHeader[] =
    "usage: cuxplain explain [options]\n"
    "       cuxplain concepts --class N [options]\n"
    "       cuxplain evaluate [options]\n"
    "       cuxplain --help | --version\n";

const char kExplainDescription[] =
    "Explains an image classifier's decision on one image with black-box\n"
    "attribution (Sobol, HSIC) and verified perturbation analysis (EVA). With no\n"
    "option it explains the bundled Fashion-MNIST sample with the embedded model\n"
    "on the CPU. For each method it writes, in the output directory,\n"
    "<method>.png (the image, enlarged, with the heatmap blended over it) and\n"
    "adds the method's G x G scores to scores.json.";

const char kExplainFooter[] =
    "Outputs: <method>.png is the image enlarged (nearest) to at least 280 pixels\n"
    "on its longer side, with the bicubic-upsampled scores, normalized to [0, 1]\n"
    "over the map, blended over it in a blue-to-red colormap. scores.json holds\n"
    "the model, image and device, the prediction, and per method: method,\n"
    "grid_size, target (and its name), predicted class, the G x G scores (rows of\n"
    "cells, top to bottom), seconds, forwards (model evaluations, or boxes for\n"
    "eva) and the options used. With --metrics, explain prints a table, adds\n"
    "\"metrics\" to each method in scores.json and draws the deletion and\n"
    "insertion curves in curves.png.\n";

const char kEvaluateDescription[] =
    "Scores attribution methods with the metrics on the first N images of the\n"
    "Fashion-MNIST test set: each method explains every image (its time is\n"
    "measured), then each metric scores the maps. Prints a table of the mean\n"
    "of each metric (and its standard error) with the methods' times, and\n"
    "writes metrics.json (per method: seconds, and per metric the mean, the\n"
    "standard deviation, every image's value and, for deletion and insertion,\n"
    "the mean curve and its pixel counts) and curves.png (the mean deletion and\n"
    "insertion curves of every method). Every option of explain but --image\n"
    "and --target applies.";

const char kEvaluateFooter[] = "";

// Option groups hold one line; what they share is said in kMethodsNote.
const char kBaselinesGroup[] = "Baselines (--method occlusion,rise,kernelshap, or baselines)";
const char kMetricsGroup[] = "Metrics (--metrics, a comma list)";

const char kMethodsNote[] =
    "Baselines: occlusion and rise give pixel maps, kernelshap G x G cell\n"
    "scores. Metrics: explain scores the image, evaluate the test images; each\n"
    "method's map is its pixel map, or its grid resized to the image as\n"
    "xplique does: bicubic, or nearest for kernelshap's cells.\n\n";

const char kConceptsDescription[] =
    "Extracts CRAFT concepts (Fel et al., CVPR 2023) of one class: the model is\n"
    "cut at a layer into g (image -> activations) and h (activations -> logits);\n"
    "every patch x patch crop of the Fashion-MNIST test images of the class\n"
    "(or of the images of --image-dir), resized back to the model's input size,\n"
    "goes through g, and the crops' spatially averaged\n"
    "activations are factorized by NMF into R concepts. Each concept's\n"
    "importance for the class is its Sobol total index in concept space (h on\n"
    "the images' activations with the concepts masked), averaged over the\n"
    "images; its map on an image is where the image's activations express it.\n"
    "With --class alone it runs the embedded model on the CPU.";

const char kConceptsFooter[] =
    "Outputs: concepts.png has one row per drawn concept, most important first,\n"
    "holding the K crops that express it most, cut from the 28 x 28 images and\n"
    "enlarged (nearest) to at least 40 pixels, grayscale, separated by gray\n"
    "lines. concept_maps.png has one row per map image: the image, then each\n"
    "drawn concept's map (bicubic from the layer's grid) blended over it in a\n"
    "blue-to-red colormap, on a scale from 0 to the row's largest value.\n"
    "concepts.json holds the model, layer, data, class, the images used (their\n"
    "indices in the test set), the crop grid, the NMF's iterations and relative\n"
    "error, every concept's importance and rank, the importance ranking, per\n"
    "concept its top crops (crop id, test-set image index, top, left), the\n"
    "options and the timings. With --subconcepts S, subconcepts.png has one row\n"
    "per sub-concept, the most important first, holding the --crops crops of the\n"
    "split concept that express it most, drawn as in concepts.png, and\n"
    "concepts.json a \"subconcepts\" object: the concept split, the sub-layer and\n"
    "its shape, the crops used, the NMF's iterations and relative error, the\n"
    "importances, their ranking and per sub-concept its top crops (the parent's\n"
    "crop id, test-set image index, top, left).\n";

const char kExitStatus[] =
    "\n"
    "Exit status: 0 on success, 2 on a bad command line (with the usage), 1 when\n"
    "the run fails (unreadable model, image or data set, a library error).\n";

/// The help of a subcommand: its usage, description, option groups (in the
/// order they were declared) and footer, options in two columns.
class HelpFormatter final : public CLI::Formatter {
 public:
  HelpFormatter() { column_width(23); }

  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    std::ostringstream out;
    out << "usage: cuxplain " << app->get_name()
        << (app->get_name() == "concepts" ? " --class N" : "") << " [options]\n\n";
    out << app->get_description() << "\n\n";
    out << make_groups(app, CLI::AppFormatMode::Normal) << "\n";
    out << app->get_footer();
    return out.str();
  }

  /// A group's heading and options; make_groups puts one blank line between.
  std::string make_group(std::string group, bool is_positional,
                         std::vector<const CLI::Option*> options) const override {
    std::string out = group + ":\n";
    for (const CLI::Option* option : options) out += make_option(option, is_positional);
    return out;
  }

  std::string make_option_opts(const CLI::Option* option) const override {
    return option->get_option_text().empty() ? "" : " " + option->get_option_text();
  }
};

/// "N" or "FILE" after an option's name in the help.
CLI::Option* value_text(CLI::Option* option, const char* text) { return option->option_text(text); }

/// A number as a message shows it (0, 0.5).
std::string format_bound(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

const CLI::Validator kNonEmpty(
    [](std::string& value) -> std::string {
      return value.empty() ? std::string("takes a non-empty value, got ''") : std::string();
    },
    "TEXT");

/// A number the model reads as a float: finite, within float's range, and
/// above `low` (or at least it, when `inclusive`).
CLI::Validator finite_number(double low = -std::numeric_limits<double>::infinity(),
                             bool inclusive = true) {
  return CLI::Validator(
      [low, inclusive](std::string& value) -> std::string {
        std::istringstream in(value);
        double parsed = 0.0;
        in >> parsed;
        if (in.fail() || !in.eof() || !std::isfinite(parsed) ||
            std::abs(parsed) > std::numeric_limits<float>::max()) {
          return "takes a finite number, got '" + value + "'";
        }
        if (inclusive ? parsed < low : parsed <= low) {
          return "must be " + std::string(inclusive ? ">= " : "> ") + format_bound(low) +
                 ", got " + value;
        }
        return {};
      },
      "NUMBER");
}

/// Names and values of a choice, in the order messages list them.
template <class Enum>
using Names = std::vector<std::pair<std::string, Enum>>;

/// The library's names of Enum (those `keep` accepts), in declaration order.
template <class Enum, class Keep>
Names<Enum> names_of(Keep keep) {
  Names<Enum> names;
  for (const EnumName<Enum>& entry : enum_names<Enum>()) {
    if (keep(entry.value)) names.emplace_back(entry.name, entry.value);
  }
  return names;
}

template <class Enum>
Names<Enum> names_of() {
  return names_of<Enum>([](Enum) { return true; });
}

/// "a, b or c"-style list of the names, as errors give them.
template <class Enum>
std::string listed(const Names<Enum>& names) {
  std::string text;
  for (const auto& entry : names) text += (text.empty() ? "" : ", ") + entry.first;
  return text;
}

/// An option choosing among `names`, bound to `value`: a name is read as its
/// enumerator, anything else is an error listing the names.
template <class Enum>
CLI::Option* choice(CLI::App& app, const std::string& flag, Enum& value, const Names<Enum>& names,
                    const std::string& help) {
  const CLI::Validator to_enumerator(
      [names](std::string& text) -> std::string {
        for (const auto& [name, enumerator] : names) {
          if (text == name) {
            text = std::to_string(static_cast<int>(enumerator));
            return {};
          }
        }
        return "must be one of " + listed(names) + ", got '" + text + "'";
      },
      "NAME");
  return app.add_option(flag, value, help)->transform(to_enumerator);
}

constexpr std::int64_t kBig = std::int64_t{1} << 30;

/// A run's common outputs: --out, --alpha, --progress, --no-progress.
template <class Args>
void add_output_options(CLI::App& app, Args& args) {
  value_text(app.add_option("--out", args.out_dir,
                            "output directory, created when missing (default\n"
                            "./cuxplain-out); changed only by a run that\n"
                            "succeeds, and then only the files it writes")
                 ->check(kNonEmpty),
             "DIR")
      ->group("Output");
  value_text(app.add_option("--alpha", args.alpha, "heatmap opacity in the overlays, 0..1 "
                                                   "(default 0.5)")
                 ->check(finite_number(0.0) & CLI::Range(0.0, 1.0)),
             "A")
      ->group("Output");
  app.add_flag_callback("--progress", [&args] { args.progress = ProgressMode::on; },
                        "progress line on stderr even when it is not a terminal")
      ->trigger_on_parse()
      ->group("Output");
  app.add_flag_callback("--no-progress", [&args] { args.progress = ProgressMode::off; },
                        "no progress line (default: shown on a terminal)")
      ->trigger_on_parse()
      ->group("Output");
}

void add_baselines_and_metrics(CLI::App& app, ExplainArgs& args,
                               std::vector<std::function<void()>>& set, bool single_image);

/// "a,b,c" as finite floats; UsageError naming the option and the value.
std::vector<float> float_list(const char* option, const std::string& text, bool positive) {
  std::vector<float> values;
  std::string item;
  std::istringstream items(text);
  const auto bad = [&](const std::string& why) {
    return UsageError(std::string(option) + " takes " + why + ", got '" + text + "'");
  };
  while (std::getline(items, item, ',')) {
    std::istringstream in(item);
    double parsed = 0.0;
    in >> parsed;
    if (item.empty() || in.fail() || !in.eof() || !std::isfinite(parsed) ||
        std::abs(parsed) > std::numeric_limits<float>::max()) {
      throw bad("comma-separated finite numbers, one per channel");
    }
    if (positive && !(parsed > 0.0)) throw bad("numbers > 0");
    values.push_back(static_cast<float>(parsed));
  }
  if (values.empty() || text.back() == ',') {
    throw bad("comma-separated finite numbers, one per channel");
  }
  if (values.size() > 4) throw bad("at most 4 numbers (one per channel)");
  return values;
}

/// The preprocessing options of every command (preprocess.hpp) and
/// --labels, in the Input group, bound to `p` and `labels`.
void add_preprocess_options(CLI::App& app, Preprocess& p, std::optional<std::string>& labels,
                            std::vector<std::function<void()>>& set) {
  auto* mean = app.add_option("--mean", "per-channel mean subtracted after the scaling, in the\n"
                                        "model's channel order: 1 value or one per channel\n"
                                        "(ImageNet: 0.485,0.456,0.406; default none)");
  value_text(mean->check(kNonEmpty), "R,G,B")->group("Input");
  auto* std_dev = app.add_option("--std", "per-channel divisor after --mean, > 0 (ImageNet:\n"
                                          "0.229,0.224,0.225; default none)");
  value_text(std_dev->check(kNonEmpty), "R,G,B")->group("Input");
  auto* resize = app.add_option("--resize", "resize the shorter side to N, the longer to\n"
                                            "int(N * long / short), as torchvision's Resize(N)\n"
                                            "on a tensor (bilinear, antialias=True); then\n"
                                            "--center-crop. Without --resize and --center-crop\n"
                                            "the image is resized to the model's H x W");
  value_text(resize->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 16)), "N")
      ->group("Input");
  auto* crop = app.add_option("--center-crop", "crop the H x W centre (one number: square), as\n"
                                               "torchvision's CenterCrop (zero padding when the\n"
                                               "image is smaller); the result must be the\n"
                                               "model's H x W");
  value_text(crop->check(kNonEmpty), "H[,W]")->group("Input");
  value_text(app.add_option("--channel-order", "rgb (default) or bgr: the order of the\n"
                                               "model's 3 input channels")
                 ->check(CLI::IsMember({"rgb", "bgr"}))
                 ->each([&p](const std::string& order) { p.bgr = order == "bgr"; }),
             "rgb|bgr")
      ->group("Input");
  auto* names = app.add_option("--labels", "class names: a JSON file (an array of names,\n"
                                           "{\"class_names\": [...]}, or Keras's\n"
                                           "imagenet_class_index.json {\"0\": [\"n01440764\",\n"
                                           "\"tench\"], ...}) or a text file of one name a line\n"
                                           "(default: the model's sidecar FILE.json)");
  value_text(names->check(kNonEmpty), "FILE")->group("Input");

  set.emplace_back([&p, &labels, mean, std_dev, resize, crop, names] {
    if (mean->count() > 0) p.mean = float_list("--mean", mean->as<std::string>(), false);
    if (std_dev->count() > 0) p.stddev = float_list("--std", std_dev->as<std::string>(), true);
    if (resize->count() > 0) p.resize = resize->as<std::int64_t>();
    if (names->count() > 0) labels = names->as<std::string>();
    if (crop->count() > 0) {
      const std::string text = crop->as<std::string>();
      std::vector<std::int64_t> sides;
      std::string item;
      std::istringstream items(text);
      while (std::getline(items, item, ',')) {
        std::size_t used = 0;
        long long side = 0;
        try {
          side = std::stoll(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (item.empty() || used != item.size() || side < 1 || side > (1 << 16)) {
          sides.clear();
          break;
        }
        sides.push_back(side);
      }
      if (sides.empty() || sides.size() > 2 || text.back() == ',') {
        throw UsageError("--center-crop takes H or H,W, whole numbers in 1..65536, got '" + text +
                         "'");
      }
      p.crop_h = sides.front();
      p.crop_w = sides.back();
    }
  });
}

/// The explain subcommand's options (evaluate's, without --image and
/// --target, when not single_image), bound to `args`; `set` runs after a
/// parse to copy the options that have no value of their own (optionals).
void add_explain(CLI::App& app, ExplainArgs& args, std::vector<std::function<void()>>& set,
                 bool single_image) {
  // Input
  auto* model = app.add_option("--model", "ONNX classifier: one float input N x C x H x W (or\n"
                                          "channels-last N x H x W x C, C of 1, 3 or 4), one\n"
                                          "output N x K (default: the embedded\n"
                                          "fashion_mnist_cnn.onnx). Class names come from FILE\n"
                                          "with .json in place of .onnx, when it has a\n"
                                          "\"class_names\" array (or from --labels).");
  value_text(model->check(kNonEmpty), "FILE")->group("Input");
  CLI::Option* image = nullptr;
  CLI::Option* target = nullptr;
  if (single_image) image = app.add_option("--image", "PNG, JPEG, BMP, GIF, TGA, PNM, PSD or HDR (default: the\n"
                                          "bundled sample_fashion_mnist.png). Converted to the\n"
                                          "model's channels (1: luma, 3: RGB) and resized to its\n"
                                          "H x W when they differ (bilinear; a triangle filter\n"
                                          "when shrinking), unless --resize or --center-crop\n"
                                          "shape it. At most 2^26 = 67108864 pixels\n"
                                          "(e.g. 8192 x 8192), checked from the header before\n"
                                          "decoding.");
  if (image) value_text(image->check(kNonEmpty), "FILE")->group("Input");
  value_text(app.add_option("--scale", args.scale, "model input = pixel / S, pixels 0..255 (default 255,\n"
                                                  "the embedded model's [0, 1] input)")
                 ->check(finite_number(0.0, false)),
             "S")
      ->group("Input");
  add_preprocess_options(app, args.preprocess, args.labels_path, set);
  if (single_image) {
    target = app.add_option("--target", "class to explain (default: the predicted class)");
    value_text(target->check(CLI::Range(0, std::numeric_limits<int>::max())), "N")
        ->group("Input");
  }
  value_text(app.add_option("--device", args.device, "backend that runs the model and the methods\n"
                                                     "(default cpu)")
                 ->check(CLI::IsMember({"cpu", "cuda"})),
             "cpu|cuda")
      ->group("Input");

  // Methods
  auto names = std::make_shared<std::vector<std::string>>();
  auto* method = app.add_option("--method", *names,
                                single_image ? "sobol, hsic, eva or all (default all), and the\n"
                                               "baselines below; a comma-separated list or a\n"
                                               "repeated flag runs several"
                                             : "as explain, default all six (all,baselines)");
  value_text(method->delimiter(',')->check(
                 CLI::IsMember({"sobol", "hsic", "eva", "occlusion", "rise", "kernelshap", "all",
                                "baselines"})),
             "M")
      ->group("Methods");
  auto* grid = app.add_option("--grid-size", "explain the image on G x G cells (default 7 when the\n"
                                             "model input is 28 x 28, 8 otherwise)");
  value_text(grid->check(CLI::Range(1, 4096)), "G")->group("Methods");
  auto* nb_design = app.add_option("--nb-design",
                                   "design size. sobol: a power of two, default 32; the\n"
                                   "model runs N (G^2 + 1) times. hsic: default 500; the\n"
                                   "model runs N times. (eva has no design: G^2 + 1 boxes)");
  value_text(nb_design->check(CLI::Range(std::int64_t{2}, kBig)), "N")->group("Methods");
  value_text(app.add_option("--batch-size", args.batch_size,
                            "images per model call (sobol, hsic), boxes per bound\n"
                            "pass (eva) (default 256)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "B")
      ->group("Methods");
  value_text(choice(app, "--sampler", args.sampler, names_of<Sampler>(),
                    "sobol, sobol_owen, halton, lhs or monte_carlo (sobol,\n"
                    "hsic; default sobol)"),
             "S")
      ->group("Methods");
  value_text(app.add_option("--skip", args.skip, "leading points of the sequence skipped (default 1)")
                 ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max())),
             "K")
      ->group("Methods");
  value_text(app.add_option("--seed", args.seed,
                            "seed of sobol_owen, lhs and monte_carlo (default 0)"),
             "S")
      ->group("Methods");
  value_text(choice(app, "--perturbation", args.perturbation, names_of<Perturbation>(),
                    "inpainting, blurring or amplitude (sobol, hsic;\n"
                    "default inpainting)"),
             "P")
      ->group("Methods");
  value_text(app.add_option("--baseline", args.baseline,
                            "inpainting value, in model input units (default 0)")
                 ->check(finite_number()),
             "V")
      ->group("Methods");
  value_text(app.add_option("--blur-size", args.blur_size,
                            "blurring box size in pixels (default 10)")
                 ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20)),
             "K")
      ->group("Methods");
  value_text(app.add_option("--sigma", args.sigma, "amplitude scale (default 1)")
                 ->check(finite_number()),
             "S")
      ->group("Methods");
  value_text(choice(app, "--mask-interpolation", args.mask_interpolation,
                    names_of<Interpolation>([](Interpolation i) {
                      return i == Interpolation::nearest || i == Interpolation::nearest_exact ||
                             i == Interpolation::bilinear;
                    }),
                    "nearest, nearest_exact or bilinear: how cells map to\n"
                    "pixels (default nearest_exact); eva takes nearest or\n"
                    "nearest_exact and uses nearest_exact with bilinear"),
             "I")
      ->group("Methods");

  // Sobol, HSIC, EVA
  value_text(choice(app, "--estimator", args.estimator, names_of<Estimator>(),
                    "jansen, homma, janon, glen or saltelli (default\n"
                    "jansen)"),
             "E")
      ->group("Sobol");
  app.add_flag("--first-order", args.first_order,
               "also first-order indices (N more model runs), as\n"
               "\"first_order\" in scores.json")
      ->group("Sobol");
  value_text(choice(app, "--hsic-kernel", args.hsic_kernel, names_of<HsicKernel>(),
                    "input kernel: binary, rbf or sobolev (default binary)"),
             "K")
      ->group("HSIC");
  app.add_flag("--continuous-masks", args.continuous_masks,
               "continuous masks instead of 0/1 ones (with rbf or\n"
               "sobolev)")
      ->group("HSIC");
  value_text(choice(app, "--hsic-width", args.hsic_width, names_of<Bandwidth>(),
                    "output kernel width: median_output (|median| of the\n"
                    "outputs, xplique's; default) or median_distance (the\n"
                    "median distance between outputs)"),
             "W")
      ->group("HSIC");
  value_text(app.add_option("--epsilon", args.epsilon,
                            "radius of the L-inf ball around the image, in model\n"
                            "input units (default 0.05)")
                 ->check(finite_number(0.0)),
             "E")
      ->group("EVA");
  app.add_flag_callback("--no-clamp", [&args] { args.clamp = false; },
                        "do not intersect the ball with the input range\n"
                        "[0, 255 / S] (normalized by --mean and --std: the\n"
                        "lowest and highest over the channels)")
      ->group("EVA");
  app.add_flag("--sound", args.sound,
               "outward-rounded float32 bounds that hold for the exact\n"
               "network (slower)")
      ->group("EVA");
  add_baselines_and_metrics(app, args, set, single_image);
  add_output_options(app, args);

  set.emplace_back([&args, model, image, target, names, grid, nb_design, single_image] {
    if (model->count() > 0) args.model_path = model->as<std::string>();
    if (image && image->count() > 0) args.image_path = image->as<std::string>();
    if (target && target->count() > 0) args.target = target->as<int>();
    if (grid->count() > 0) args.grid_size = grid->as<std::int64_t>();
    if (nb_design->count() > 0) args.nb_design = nb_design->as<std::int64_t>();
    if (names->empty()) {
      names->push_back("all");
      if (!single_image) names->push_back("baselines");
    }
    const auto named = [&](const char* name) {
      return std::find(names->begin(), names->end(), name) != names->end();
    };
    // A fixed order whatever the command line's.
    for (Method m : {Method::sobol, Method::hsic, Method::eva, Method::occlusion, Method::rise,
                     Method::kernelshap}) {
      const bool baseline = m == Method::occlusion || m == Method::rise || m == Method::kernelshap;
      if (named(to_string(m)) || named(baseline ? "baselines" : "all")) args.methods.push_back(m);
    }
  });
}

const Names<Metric> kMetricNames = {{"deletion", Metric::deletion},
                                    {"insertion", Metric::insertion},
                                    {"mufidelity", Metric::mufidelity},
                                    {"average", Metric::average},
                                    {"complexity", Metric::complexity},
                                    {"sparseness", Metric::sparseness},
                                    {"stability", Metric::stability}};

void add_baselines_and_metrics(CLI::App& app, ExplainArgs& args,
                               std::vector<std::function<void()>>& set, bool single_image) {
  value_text(app.add_option("--patch-size", args.patch_size,
                            "occlusion patch side in pixels (default 3)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "P")
      ->group(kBaselinesGroup);
  value_text(app.add_option("--patch-stride", args.patch_stride,
                            "occlusion patch stride (default 3)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "S")
      ->group(kBaselinesGroup);
  value_text(app.add_option("--occlusion-value", args.occlusion_value,
                            "occluded value, in model input units (default 0)")
                 ->check(finite_number()),
             "V")
      ->group(kBaselinesGroup);
  auto* samples = app.add_option("--nb-samples",
                                 "rise masks (default 4000) or kernelshap coalitions\n"
                                 "(default 800); rise draws --grid-size cells");
  value_text(samples->check(CLI::Range(std::int64_t{2}, kBig)), "N")->group(kBaselinesGroup);
  value_text(app.add_option("--preservation", args.preservation,
                            "rise: probability a cell is kept (default 0.5)")
                 ->check(finite_number(0.0, false) & CLI::Range(0.0, 1.0)),
             "P")
      ->group(kBaselinesGroup);
  value_text(choice(app, "--convention", args.convention, names_of<Convention>(),
                    "paper or xplique (default paper): rise's shifts and\n"
                    "normalization, the metrics' tie order, areas and mask\n"
                    "sharing, as metrics.hpp and baselines.hpp document\n"
                    "(--baseline is kernelshap's absent-cell value; --seed\n"
                    "seeds rise, kernelshap and the random metrics)"),
             "C")
      ->group(kBaselinesGroup);

  auto metrics = std::make_shared<std::vector<std::string>>();
  std::string metric_list;
  for (const auto& entry : kMetricNames) metric_list += (metric_list.empty() ? "" : ", ") + entry.first;
  const CLI::Validator known_metric(
      [metric_list](std::string& text) -> std::string {
        for (const auto& entry : kMetricNames) {
          if (text == entry.first) return {};
        }
        return "must be one of " + metric_list + ", got '" + text + "'";
      },
      "METRIC");
  value_text(app.add_option("--metrics", *metrics,
                            single_image
                                ? "deletion, insertion, mufidelity, average (Average\n"
                                  "Drop, Increase and Gain), complexity, sparseness,\n"
                                  "stability (re-runs the method 20 times an image)"
                                : "as explain, default deletion,insertion,mufidelity")
                 ->delimiter(',')
                 ->check(known_metric),
             "M")
      ->group(kMetricsGroup);
  value_text(app.add_option("--steps", args.steps, "deletion/insertion points - 1 (default 10)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "K")
      ->group(kMetricsGroup);
  value_text(app.add_option("--max-percentage", args.max_percentage,
                            "share of the pixels perturbed at the end (default 1)")
                 ->check(finite_number(0.0, false) & CLI::Range(0.0, 1.0)),
             "F")
      ->group(kMetricsGroup);
  value_text(app.add_option("--metric-baseline", args.metric_baseline,
                            "value of deleted / not yet inserted pixels and of\n"
                            "mufidelity's removed cells (default 0)")
                 ->check(finite_number()),
             "V")
      ->group(kMetricsGroup);
  value_text(app.add_option("--mu-grid", args.mu_grid, "mufidelity grid (default 9)")
                 ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096})),
             "G")
      ->group(kMetricsGroup);
  value_text(app.add_option("--mu-samples", args.mu_samples, "mufidelity subsets (default 200)")
                 ->check(CLI::Range(std::int64_t{2}, kBig)),
             "N")
      ->group(kMetricsGroup);
  value_text(app.add_option("--subset-percent", args.subset_percent,
                            "mufidelity's removal probability (default 0.2)")
                 ->check(finite_number(0.0) & CLI::Range(0.0, 1.0)),
             "F")
      ->group(kMetricsGroup);
  value_text(choice(app, "--activation", args.activation, names_of<OutputActivation>(),
                    "none, softmax or sigmoid: the score the metrics read\n"
                    "(default none, the raw output, as xplique)"),
             "A")
      ->group(kMetricsGroup);
  value_text(app.add_option("--stability-samples", args.stability_samples,
                            "stability's neighbours (default 20)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "N")
      ->group(kMetricsGroup);
  value_text(app.add_option("--radius", args.radius, "stability's noise (default 0.1)")
                 ->check(finite_number(0.0, false)),
             "R")
      ->group(kMetricsGroup);
  value_text(app.add_option("--metric-batch-size", args.metric_batch_size,
                            "perturbed images per model call in the metrics\n"
                            "(default 64, xplique's)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "B")
      ->group(kMetricsGroup);

  set.emplace_back([&args, samples, metrics, single_image] {
    if (samples->count() > 0) args.nb_samples = samples->as<std::int64_t>();
    if (metrics->empty() && !single_image) *metrics = {"deletion", "insertion", "mufidelity"};
    for (const auto& [name, metric] : kMetricNames) {
      if (std::find(metrics->begin(), metrics->end(), name) != metrics->end()) {
        args.metrics.push_back(metric);
      }
    }
  });
}

void add_evaluate(CLI::App& app, EvaluateArgs& args, std::vector<std::function<void()>>& set) {
  args.data_dir = kFashionMnistDir;
  value_text(app.add_option("--images", args.images, "the first N test images (default 100)")
                 ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20)),
             "N")
      ->group("Input");
  value_text(app.add_option("--data", args.data_dir,
                            "the data set's directory (default\n"
                            "/usr/share/datasets/fashion-mnist)")
                 ->check(kNonEmpty),
             "DIR")
      ->group("Input");
  const Names<bool> target_modes = {{"predicted", false}, {"label", true}};
  value_text(app.add_option("--target", args.label_targets,
                            "predicted (the model's class, default) or label")
                 ->transform(CLI::Validator(
                     [target_modes](std::string& text) -> std::string {
                       for (const auto& [name, label] : target_modes) {
                         if (text == name) {
                           text = label ? "1" : "0";
                           return {};
                         }
                       }
                       return "must be one of predicted, label, got '" + text + "'";
                     },
                     "T")),
             "T")
      ->group("Input");
  add_explain(app, args.explain, set, /*single_image=*/false);
  app.add_flag("--save-maps", args.save_maps,
               "also write every method's n x h x w maps (the ones\n"
               "the metrics read) to metrics.json, as \"maps\"")
      ->group("Output");
}

void add_concepts(CLI::App& app, ConceptsArgs& args, std::vector<std::function<void()>>& set) {
  // Input
  value_text(app.add_option("--class", args.class_id,
                            "the class explained: its test images are used, 0..9\n"
                            "(with --image-dir, the folder's class, 0 to the\n"
                            "model's classes - 1; required unless --list-layers)")
                 ->check(CLI::Range(0, std::numeric_limits<int>::max())),
             "N")
      ->group("Input");
  value_text(app.add_option("--images", args.max_images,
                            "at most N test images of the class, the first in the\n"
                            "test set's order (default 500; the set has 1000 a\n"
                            "class), or the first N files of --image-dir")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "N")
      ->group("Input");
  auto* image_dir = app.add_option("--image-dir",
                                   "a folder of images of the class, read instead of the\n"
                                   "test set: every .png, .jpg, .jpeg, .bmp, .gif, .tga,\n"
                                   ".pnm, .pgm, .ppm, .psd, .hdr or .pic file in it (not\n"
                                   "hidden ones), in name order, with --resize,\n"
                                   "--center-crop, --mean, --std; a file that does not\n"
                                   "decode fails the run, naming it");
  value_text(image_dir->check(kNonEmpty), "DIR")->group("Input");
  value_text(app.add_option("--data", args.data_dir,
                            "directory with t10k-images-idx3-ubyte and\n"
                            "t10k-labels-idx1-ubyte, gzip-compressed (.gz) or raw\n"
                            "(default /usr/share/datasets/fashion-mnist, from the\n"
                            "Debian package dataset-fashion-mnist); each file at\n"
                            "most 1 GiB, decompressed")
                 ->check(kNonEmpty),
             "DIR")
      ->group("Input");
  auto* model = app.add_option("--model", "ONNX classifier with a 1 x 28 x 28 input (any C x H x W\n"
                                          "with --image-dir) and one output of at least N + 1\n"
                                          "class scores (default: the embedded\n"
                                          "fashion_mnist_cnn.onnx); class names as for explain");
  value_text(model->check(kNonEmpty), "FILE")->group("Input");
  auto* layer = app.add_option("--layer", "ONNX tensor the model is cut at; its values must be\n"
                                          ">= 0 (after a ReLU or a pooling of one). Default: the\n"
                                          "last tensor with a spatial grid (H x W > 1) before\n"
                                          "the output, for the embedded model\n"
                                          "/features/features.7/MaxPool_output_0,\n"
                                          "32 x 7 x 7");
  value_text(layer->check(kNonEmpty), "TENSOR")->group("Input");
  app.add_flag("--list-layers", args.list_layers,
               "print the model's tensors and shapes and exit")
      ->group("Input");
  value_text(app.add_option("--scale", args.scale, "model input = pixel / S (default 255)")
                 ->check(finite_number(0.0, false)),
             "S")
      ->group("Input");
  add_preprocess_options(app, args.preprocess, args.labels_path, set);
  value_text(app.add_option("--device", args.device, "backend (default cpu)")
                 ->check(CLI::IsMember({"cpu", "cuda"})),
             "cpu|cuda")
      ->group("Input");

  // CRAFT
  value_text(app.add_option("--patch", args.patch,
                            "crop side in pixels, 2 to the model input's side (28\n"
                            "for the embedded model); crops start every int(0.8 P)\n"
                            "pixels (default 10: 3 x 3 crops a 28 x 28 image)")
                 ->check(CLI::Range(std::int64_t{2}, kBig)),
             "P")
      ->group("CRAFT");
  value_text(app.add_option("--concepts", args.rank,
                            "number of concepts, the NMF's rank, 1 to the layer's\n"
                            "channels (default 10)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "R")
      ->group("CRAFT");
  value_text(app.add_option("--max-iter", args.max_iter, "NMF iterations at most (default 200)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "K")
      ->group("CRAFT");
  value_text(app.add_option("--alpha-w", args.alpha_w,
                            "NMF L2 penalty, scikit-learn's alpha_W (default 0.01)")
                 ->check(finite_number(0.0)),
             "A")
      ->group("CRAFT");
  value_text(choice(app, "--nmf-solver", args.nmf_solver, names_of<nmf::Solver>(),
                    "mu (multiplicative updates, the default) or cd\n"
                    "(coordinate descent, scikit-learn's and so xplique's)"),
             "S")
      ->group("CRAFT");
  // The crop resize's short names; concepts.json records the library's.
  const Names<craft::CropResize> resizes = {
      {"tensorflow", craft::CropResize::tensorflow_bicubic},
      {"opencv", craft::CropResize::opencv_bicubic}};
  value_text(choice(app, "--crop-resize", args.crop_resize, resizes,
                    "how crops are resized to the image: tensorflow\n"
                    "(tf.image.resize bicubic, xplique's; default) or\n"
                    "opencv (cv2 INTER_CUBIC)"),
             "M")
      ->group("CRAFT");
  value_text(app.add_option("--nb-design", args.nb_design,
                            "importance design points, a power of two >= 2;\n"
                            "h runs N (R + 1) times an image (default 32)")
                 ->check(CLI::Range(std::int64_t{2}, kBig)),
             "N")
      ->group("CRAFT");
  value_text(choice(app, "--sampler", args.sampler, names_of<Sampler>(),
                    "importance design: halton, sobol, sobol_owen, lhs or\n"
                    "monte_carlo (default halton)"),
             "S")
      ->group("CRAFT");
  value_text(choice(app, "--estimator", args.estimator, names_of<Estimator>(),
                    "jansen, homma, janon, glen or saltelli (default jansen)"),
             "E")
      ->group("CRAFT");
  value_text(app.add_option("--batch-size", args.batch_size,
                            "images or crops per g call, activations per h call\n"
                            "(default 64)")
                 ->check(CLI::Range(std::int64_t{1}, kBig)),
             "B")
      ->group("CRAFT");
  value_text(app.add_option("--seed", args.seed,
                            "seed of the NMF's initialization and of the seeded\n"
                            "samplers (default 0)"),
             "S")
      ->group("CRAFT");

  // Sub-concepts
  value_text(app.add_option("--subconcepts", args.subconcepts,
                            "split one concept into S sub-concepts at an earlier\n"
                            "layer: its crops that express it most go through\n"
                            "the model cut there and are factorized with the same\n"
                            "NMF options; each sub-concept's importance for the\n"
                            "class is its Sobol total index at that layer (h runs\n"
                            "nb-design (S + 1) more times an image). 1 to the\n"
                            "sub-layer's channels and to the crops used; 0 turns\n"
                            "it off (default 0)")
                 ->check(CLI::Range(std::int64_t{0}, kBig)),
             "S")
      ->group("Sub-concepts (CRAFT's recursion)");
  auto* sub_concept = app.add_option("--sub-concept",
                                     "the concept split, an id in 0..R-1 (default: the most\n"
                                     "important one)");
  value_text(sub_concept->check(CLI::Range(std::int64_t{0}, kBig)), "ID")
      ->group("Sub-concepts (CRAFT's recursion)");
  auto* sub_crops = app.add_option("--sub-crops",
                                   "how many of its crops, the most expressive first\n"
                                   "(default 200; at most the crop count)");
  value_text(sub_crops->check(CLI::Range(std::int64_t{1}, kBig)), "K")
      ->group("Sub-concepts (CRAFT's recursion)");
  auto* sub_layer = app.add_option("--sub-layer",
                                   "the earlier tensor, before --layer, values >= 0.\n"
                                   "Default: for the embedded model\n"
                                   "/features/features.3/MaxPool_output_0, 16 x 14 x 14;\n"
                                   "otherwise the last tensor with a spatial grid before\n"
                                   "--layer that has at least S channels");
  value_text(sub_layer->check(kNonEmpty), "TENSOR")->group("Sub-concepts (CRAFT's recursion)");

  // Output
  auto* top = app.add_option("--top", "concepts drawn, the most important first: a number or\n"
                                      "all (default 5)");
  value_text(top->check(CLI::IsMember({"all"}) | CLI::Range(std::int64_t{1}, kBig)), "T")
      ->group("Output");
  value_text(app.add_option("--crops", args.crops_per_concept,
                            "crops shown per concept in concepts.png (default 10)")
                 ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000})),
             "K")
      ->group("Output");
  value_text(app.add_option("--map-images", args.map_images,
                            "images drawn in concept_maps.png, the first of the\n"
                            "class; 0 skips the maps (default 4)")
                 ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000})),
             "K")
      ->group("Output");
  add_output_options(app, args);

  set.emplace_back([&args, model, layer, sub_concept, sub_crops, sub_layer, top, image_dir] {
    if (model->count() > 0) args.model_path = model->as<std::string>();
    if (image_dir->count() > 0) args.image_dir = image_dir->as<std::string>();
    if (layer->count() > 0) args.layer = layer->as<std::string>();
    if (sub_concept->count() > 0) args.sub_concept = sub_concept->as<std::int64_t>();
    if (sub_crops->count() > 0) args.sub_crops = sub_crops->as<std::int64_t>();
    if (sub_layer->count() > 0) args.sub_layer = sub_layer->as<std::string>();
    if (top->count() > 0) {
      const std::string value = top->as<std::string>();
      args.top_all = value == "all";
      if (!args.top_all) args.top = top->as<std::int64_t>();
    }
  });
}

/// The whole command line: the App with both subcommands bound to `command`.
class Parser {
 public:
  explicit Parser(Command& command) : app_("", "cuxplain") {
    app_.require_subcommand(1);
    app_.set_help_flag();  // help is found before parsing (parse_command_line)
    const std::tuple<std::string, const char*, const char*> commands[] = {
        {"explain", kExplainDescription, kExplainFooter},
        {"concepts", kConceptsDescription, kConceptsFooter},
        {"evaluate", kEvaluateDescription, kEvaluateFooter}};
    for (const auto& [name, description, footer] : commands) {
      CLI::App* sub = app_.add_subcommand(name, description);
      sub->formatter(std::make_shared<HelpFormatter>());
      sub->footer((name == "concepts" ? std::string() : std::string(kMethodsNote)) + footer +
                  kExitStatus);
      if (name == "explain") {
        add_explain(*sub, command.explain, set_, /*single_image=*/true);
      } else if (name == "evaluate") {
        add_evaluate(*sub, command.evaluate, set_);
      } else {
        command.concepts.data_dir = kFashionMnistDir;
        add_concepts(*sub, command.concepts, set_);
      }
      // Listed last, with the output options (parse_command_line finds it).
      sub->set_help_flag("-h,--help", "this help")->group("Output");
    }
  }

  void parse(std::vector<std::string> args) {
    const std::string command = args.front();
    std::reverse(args.begin(), args.end());  // CLI11 reads the vector from its end
    try {
      app_.parse(args);
    } catch (const CLI::ExtrasError&) {
      const std::vector<std::string> extras = app_.get_subcommand(command)->remaining();
      throw UsageError("unknown option '" + (extras.empty() ? std::string() : extras.front()) +
                       "'");
    } catch (const CLI::ParseError& e) {
      // "--name: must be ..." reads "--name must be ...".
      std::string message = e.what();
      const std::size_t colon = message.find(": ");
      if (message.rfind("--", 0) == 0 && colon != std::string::npos &&
          message.find(' ') == colon + 1) {
        message.erase(colon, 1);
      }
      throw UsageError(message);
    }
    for (const auto& set : set_) set();
  }

  std::string help(const std::string& command) const {
    return app_.get_subcommand(command)->help();
  }

 private:
  CLI::App app_;
  std::vector<std::function<void()>> set_;
};

bool is_power_of_two(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

bool is_help(const std::string& arg) { return arg == "-h" || arg == "--help" || arg == "help"; }

std::string quoted(const std::string& s) { return "'" + s + "'"; }

/// The checks that span several options.
void check_explain(const ExplainArgs& args) {
  if (args.nb_design && args.runs(Method::sobol) && !is_power_of_two(*args.nb_design)) {
    throw UsageError("--nb-design must be a power of two for sobol, got " +
                     std::to_string(*args.nb_design));
  }
}

void check_concepts(const ConceptsArgs& args) {
  if (args.class_id < 0 && !args.list_layers) {
    throw UsageError("cuxplain concepts needs --class N, the class 0..9 to explain");
  }
  if (args.image_dir && args.data_dir != kFashionMnistDir) {
    throw UsageError("--image-dir " + *args.image_dir + " and --data " + args.data_dir +
                     " both name the images; give one");
  }
  if (!args.image_dir && args.class_id > 9 && !args.list_layers) {
    throw UsageError("--class must be in 0..9 for the Fashion-MNIST test set, got " +
                     std::to_string(args.class_id) +
                     " (--image-dir reads images of another class)");
  }
  if (!is_power_of_two(args.nb_design)) {
    throw UsageError("--nb-design must be a power of two, got " + std::to_string(args.nb_design));
  }
  if (args.subconcepts == 0 && (args.sub_concept || args.sub_layer || args.sub_crops)) {
    throw UsageError(std::string(args.sub_concept ? "--sub-concept"
                                 : args.sub_layer ? "--sub-layer"
                                                  : "--sub-crops") +
                     " needs --subconcepts S (the number of sub-concepts)");
  }
  if (args.sub_concept && *args.sub_concept >= args.rank) {
    throw UsageError("--sub-concept must be a concept id in [0, " + std::to_string(args.rank) +
                     ") (--concepts " + std::to_string(args.rank) + "), got " +
                     std::to_string(*args.sub_concept));
  }
}

}  // namespace

const char* to_string(Method method) {
  switch (method) {
    case Method::sobol: return "sobol";
    case Method::hsic: return "hsic";
    case Method::eva: return "eva";
    case Method::occlusion: return "occlusion";
    case Method::rise: return "rise";
    case Method::kernelshap: return "kernelshap";
  }
  return "unknown";
}

const char* to_string(Metric metric) {
  for (const auto& [name, value] : kMetricNames) {
    if (value == metric) return name.c_str();
  }
  return "unknown";
}

bool ExplainArgs::runs(Method method) const {
  return std::find(methods.begin(), methods.end(), method) != methods.end();
}

bool ExplainArgs::scores(Metric metric) const {
  return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

Command parse_command_line(const std::vector<std::string>& args) {
  Command command;
  if (args.empty()) throw UsageError("no command given");
  const std::string& first = args[0];
  if (is_help(first)) {
    command.kind = Command::Kind::help;
    return command;
  }
  if (first == "--version") {
    command.kind = Command::Kind::version;
    return command;
  }
  if (first != "explain" && first != "concepts" && first != "evaluate") {
    throw UsageError(first.rfind("-", 0) == 0 ? "unknown option " + quoted(first)
                                              : "unknown command " + quoted(first));
  }
  // A help flag anywhere asks for the command's help, whatever else is there.
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      command.kind = Command::Kind::help;
      command.help_topic = first;
      return command;
    }
  }
  Parser parser(command);
  parser.parse(args);
  if (first == "explain") {
    command.kind = Command::Kind::explain;
    check_explain(command.explain);
  } else if (first == "evaluate") {
    command.kind = Command::Kind::evaluate;
    check_explain(command.evaluate.explain);
  } else {
    command.kind = Command::Kind::concepts;
    check_concepts(command.concepts);
  }
  return command;
}

const char* usage_text() { return kUsage; }

std::string help_text() {
  Command unused;
  const Parser parser(unused);
  return std::string(kHelpHeader) + "\n" + parser.help("explain") + "\n" +
         parser.help("concepts") + "\n" + parser.help("evaluate");
}

std::string help_text(const std::string& command) {
  if (command != "explain" && command != "concepts" && command != "evaluate") return help_text();
  Command unused;
  return Parser(unused).help(command);
}

}  // namespace cuxplain::cli
