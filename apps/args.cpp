#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

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

const char kExplainHelp[] =
    "Explains an image classifier's decision on one image with black-box\n"
    "attribution (Sobol, HSIC) and verified perturbation analysis (EVA). With no\n"
    "option it explains the bundled Fashion-MNIST sample with the embedded model\n"
    "on the CPU. For each method it writes, in the output directory,\n"
    "<method>.png (the image, enlarged, with the heatmap blended over it) and\n"
    "adds the method's G x G scores to scores.json.\n"
    "\n"
    "Input:\n"
    "  --model FILE         ONNX classifier: one float input N x C x H x W, one\n"
    "                       output N x K (default: the embedded\n"
    "                       fashion_mnist_cnn.onnx). Class names come from FILE\n"
    "                       with .json in place of .onnx, when it has a\n"
    "                       \"class_names\" array.\n"
    "  --image FILE         PNG, JPEG, BMP, GIF, TGA, PNM, PSD or HDR (default: the\n"
    "                       bundled sample_fashion_mnist.png). Converted to the\n"
    "                       model's channels (1: luma, 3: RGB) and resized to its\n"
    "                       H x W when they differ (bilinear; a triangle filter\n"
    "                       when shrinking). At most 2^26 = 67108864 pixels\n"
    "                       (e.g. 8192 x 8192), checked from the header before\n"
    "                       decoding.\n"
    "  --scale S            model input = pixel / S, pixels 0..255 (default 255,\n"
    "                       the embedded model's [0, 1] input)\n"
    "  --target N           class to explain (default: the predicted class)\n"
    "  --device cpu|cuda    backend that runs the model and the methods\n"
    "                       (default cpu)\n"
    "\n"
    "Methods:\n"
    "  --method M           sobol, hsic, eva or all (default all), and the\n"
    "                       baselines below; a comma-separated list or a\n"
    "                       repeated flag runs several\n"
    "  --grid-size G        explain the image on G x G cells (default 7 when the\n"
    "                       model input is 28 x 28, 8 otherwise)\n"
    "  --nb-design N        design size. sobol: a power of two, default 32; the\n"
    "                       model runs N (G^2 + 1) times. hsic: default 500; the\n"
    "                       model runs N times. (eva has no design: G^2 + 1 boxes)\n"
    "  --batch-size B       images per model call (sobol, hsic), boxes per bound\n"
    "                       pass (eva) (default 256)\n"
    "  --sampler S          sobol, sobol_owen, halton, lhs or monte_carlo (sobol,\n"
    "                       hsic; default sobol)\n"
    "  --skip K             leading points of the sequence skipped (default 1)\n"
    "  --seed S             seed of sobol_owen, lhs and monte_carlo (default 0)\n"
    "  --perturbation P     inpainting, blurring or amplitude (sobol, hsic;\n"
    "                       default inpainting)\n"
    "  --baseline V         inpainting value, in model input units (default 0)\n"
    "  --blur-size K        blurring box size in pixels (default 10)\n"
    "  --sigma S            amplitude scale (default 1)\n"
    "  --mask-interpolation I\n"
    "                       nearest, nearest_exact or bilinear: how cells map to\n"
    "                       pixels (default nearest_exact); eva takes nearest or\n"
    "                       nearest_exact and uses nearest_exact with bilinear\n"
    "  Sobol:\n"
    "  --estimator E        jansen, homma, janon, glen or saltelli (default\n"
    "                       jansen)\n"
    "  --first-order        also first-order indices (N more model runs), as\n"
    "                       \"first_order\" in scores.json\n"
    "  HSIC:\n"
    "  --hsic-kernel K      input kernel: binary, rbf or sobolev (default binary)\n"
    "  --continuous-masks   continuous masks instead of 0/1 ones (with rbf or\n"
    "                       sobolev)\n"
    "  --hsic-width W       output kernel width: median_output (|median| of the\n"
    "                       outputs, xplique's; default) or median_distance (the\n"
    "                       median distance between outputs)\n"
    "  EVA:\n"
    "  --epsilon E          radius of the L-inf ball around the image, in model\n"
    "                       input units (default 0.05)\n"
    "  --no-clamp           do not intersect the ball with the input range\n"
    "                       [0, 255 / S]\n"
    "  --sound              outward-rounded float32 bounds that hold for the exact\n"
    "                       network (slower)\n"
    "\n"
    "Output:\n"
    "  --out DIR            output directory, created when missing (default\n"
    "                       ./cuxplain-out); changed only by a run that\n"
    "                       succeeds, and then only the files it writes\n"
    "  --alpha A            heatmap opacity in the overlays, 0..1 (default 0.5)\n"
    "  --progress           progress line on stderr even when it is not a terminal\n"
    "  --no-progress        no progress line (default: shown on a terminal)\n"
    "  -h, --help           this help\n"
    "  --version            the program's version\n"
    "\n"
    "Outputs: <method>.png is the image enlarged (nearest) to at least 280 pixels\n"
    "on its longer side, with the bicubic-upsampled scores, normalized to [0, 1]\n"
    "over the map, blended over it in a blue-to-red colormap. scores.json holds\n"
    "the model, image and device, the prediction, and per method: method,\n"
    "grid_size, target (and its name), predicted class, the G x G scores (rows of\n"
    "cells, top to bottom), seconds, forwards (model evaluations, or boxes for\n"
    "eva) and the options used.\n";

const char kConceptsHelp[] =
    "Extracts CRAFT concepts (Fel et al., CVPR 2023) of one class: the model is\n"
    "cut at a layer into g (image -> activations) and h (activations -> logits);\n"
    "every patch x patch crop of the Fashion-MNIST test images of the class,\n"
    "resized back to 28 x 28, goes through g, and the crops' spatially averaged\n"
    "activations are factorized by NMF into R concepts. Each concept's\n"
    "importance for the class is its Sobol total index in concept space (h on\n"
    "the images' activations with the concepts masked), averaged over the\n"
    "images; its map on an image is where the image's activations express it.\n"
    "With --class alone it runs the embedded model on the CPU.\n"
    "\n"
    "Input:\n"
    "  --class N            the class whose test images are used, 0..9 (required\n"
    "                       unless --list-layers)\n"
    "  --images N           at most N test images of the class, the first in the\n"
    "                       test set's order (default 500; the set has 1000 a\n"
    "                       class)\n"
    "  --data DIR           directory with t10k-images-idx3-ubyte and\n"
    "                       t10k-labels-idx1-ubyte, gzip-compressed (.gz) or raw\n"
    "                       (default /usr/share/datasets/fashion-mnist, from the\n"
    "                       Debian package dataset-fashion-mnist); each file at\n"
    "                       most 1 GiB, decompressed\n"
    "  --model FILE         ONNX classifier with a 1 x 28 x 28 input and one output\n"
    "                       of at least N + 1 class scores (default: the embedded\n"
    "                       fashion_mnist_cnn.onnx); class names as for explain\n"
    "  --layer TENSOR       ONNX tensor the model is cut at; its values must be\n"
    "                       >= 0 (after a ReLU or a pooling of one). Default: the\n"
    "                       last tensor with a spatial grid (H x W > 1) before\n"
    "                       the output, for the embedded model\n"
    "                       /features/features.7/MaxPool_output_0,\n"
    "                       32 x 7 x 7\n"
    "  --list-layers        print the model's tensors and shapes and exit\n"
    "  --scale S            model input = pixel / S (default 255)\n"
    "  --device cpu|cuda    backend (default cpu)\n"
    "\n"
    "CRAFT:\n"
    "  --patch P            crop side in pixels, 2..28; crops start every\n"
    "                       int(0.8 P) pixels (default 10: 3 x 3 crops an image)\n"
    "  --concepts R         number of concepts, the NMF's rank, 1 to the layer's\n"
    "                       channels (default 10)\n"
    "  --max-iter K         NMF iterations at most (default 200)\n"
    "  --alpha-w A          NMF L2 penalty, scikit-learn's alpha_W (default 0.01)\n"
    "  --nmf-solver S       mu (multiplicative updates, the default) or cd\n"
    "                       (coordinate descent, scikit-learn's and so xplique's)\n"
    "  --crop-resize M      how crops are resized to the image: tensorflow\n"
    "                       (tf.image.resize bicubic, xplique's; default) or\n"
    "                       opencv (cv2 INTER_CUBIC)\n"
    "  --nb-design N        importance design points, a power of two >= 2;\n"
    "                       h runs N (R + 1) times an image (default 32)\n"
    "  --sampler S          importance design: halton, sobol, sobol_owen, lhs or\n"
    "                       monte_carlo (default halton)\n"
    "  --estimator E        jansen, homma, janon, glen or saltelli (default jansen)\n"
    "  --batch-size B       images or crops per g call, activations per h call\n"
    "                       (default 64)\n"
    "  --seed S             seed of the NMF's initialization and of the seeded\n"
    "                       samplers (default 0)\n"
    "\n"
    "Sub-concepts (CRAFT's recursion):\n"
    "  --subconcepts S      split one concept into S sub-concepts at an earlier\n"
    "                       layer: its crops that express it most go through\n"
    "                       the model cut there and are factorized with the same\n"
    "                       NMF options; each sub-concept's importance for the\n"
    "                       class is its Sobol total index at that layer (h runs\n"
    "                       nb-design (S + 1) more times an image). 1 to the\n"
    "                       sub-layer's channels and to the crops used; 0 turns\n"
    "                       it off (default 0)\n"
    "  --sub-concept ID     the concept split, an id in 0..R-1 (default: the most\n"
    "                       important one)\n"
    "  --sub-crops K        how many of its crops, the most expressive first\n"
    "                       (default 200; at most the crop count)\n"
    "  --sub-layer TENSOR   the earlier tensor, before --layer, values >= 0.\n"
    "                       Default: for the embedded model\n"
    "                       /features/features.3/MaxPool_output_0, 16 x 14 x 14;\n"
    "                       otherwise the last tensor with a spatial grid before\n"
    "                       --layer that has at least S channels\n"
    "\n"
    "Output:\n"
    "  --out DIR            output directory, created when missing (default\n"
    "                       ./cuxplain-out); changed only by a run that\n"
    "                       succeeds, and then only the files it writes\n"
    "  --top T              concepts drawn, the most important first: a number or\n"
    "                       all (default 5)\n"
    "  --crops K            crops shown per concept in concepts.png (default 10)\n"
    "  --map-images K       images drawn in concept_maps.png, the first of the\n"
    "                       class; 0 skips the maps (default 4)\n"
    "  --alpha A            map opacity in concept_maps.png, 0..1 (default 0.5)\n"
    "  --progress           progress line on stderr even when it is not a terminal\n"
    "  --no-progress        no progress line (default: shown on a terminal)\n"
    "\n"
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

const char kBaselineMetricHelp[] =
    "\n"
    "Baselines (--method occlusion,rise,kernelshap, or baselines for the three;\n"
    "occlusion and rise give pixel maps, kernelshap G x G cell scores):\n"
    "  --patch-size P       occlusion patch side in pixels (default 3)\n"
    "  --patch-stride S     occlusion patch stride (default 3)\n"
    "  --occlusion-value V  occluded value, in model input units (default 0)\n"
    "  --nb-samples N       rise masks (default 4000) or kernelshap coalitions\n"
    "                       (default 800); rise draws --grid-size cells\n"
    "  --preservation P     rise: probability a cell is kept (default 0.5)\n"
    "  --convention C       paper or xplique (default paper): rise's shifts and\n"
    "                       normalization, the metrics' tie order, areas and mask\n"
    "                       sharing, as metrics.hpp and baselines.hpp document\n"
    "  (--baseline is kernelshap's absent-cell value; --seed seeds rise,\n"
    "  kernelshap and the random metrics)\n"
    "\n"
    "Metrics (--metrics, a comma list; explain scores the image, evaluate the\n"
    "test images; each method's map is its pixel map, or its grid resized to\n"
    "the image as xplique does: bicubic, or nearest for kernelshap's cells):\n"
    "  --metrics M          deletion, insertion, mufidelity, average (Average\n"
    "                       Drop, Increase and Gain), complexity, sparseness,\n"
    "                       stability (re-runs the method 20 times an image)\n"
    "  --steps K            deletion/insertion points - 1 (default 10)\n"
    "  --max-percentage F   share of the pixels perturbed at the end (default 1)\n"
    "  --metric-baseline V  value of deleted / not yet inserted pixels and of\n"
    "                       mufidelity's removed cells (default 0)\n"
    "  --mu-grid G          mufidelity grid (default 9)\n"
    "  --mu-samples N       mufidelity subsets (default 200)\n"
    "  --subset-percent F   mufidelity's removal probability (default 0.2)\n"
    "  --activation A       none, softmax or sigmoid: the score the metrics read\n"
    "                       (default none, the raw output, as xplique)\n"
    "  --stability-samples N, --radius R\n"
    "                       stability's neighbours (default 20) and noise (0.1)\n"
    "  --metric-batch-size B\n"
    "                       perturbed images per model call in the metrics\n"
    "                       (default 64, xplique's)\n"
    "With --metrics, explain prints a table, adds \"metrics\" to each method in\n"
    "scores.json and draws the deletion and insertion curves in curves.png.\n";

const char kEvaluateHelp[] =
    "Scores attribution methods with the metrics on the first N images of the\n"
    "Fashion-MNIST test set: each method explains every image (its time is\n"
    "measured), then each metric scores the maps. Prints a table of the mean\n"
    "of each metric (and its standard error) with the methods' times, and\n"
    "writes metrics.json (per method: seconds, and per metric the mean, the\n"
    "standard deviation, every image's value and, for deletion and insertion,\n"
    "the mean curve and its pixel counts) and curves.png (the mean deletion and\n"
    "insertion curves of every method). Every option of explain but --image and\n"
    "--target applies, and:\n"
    "  --method M           as explain, default all six (all,baselines)\n"
    "  --metrics M          default deletion,insertion,mufidelity\n"
    "  --images N           the first N test images (default 100)\n"
    "  --data DIR           the data set's directory (default\n"
    "                       /usr/share/datasets/fashion-mnist)\n"
    "  --target T           predicted (the model's class, default) or label\n"
    "  --save-maps          also write every method's n x h x w maps (the ones\n"
    "                       the metrics read) to metrics.json, as \"maps\"\n";

const char kExitStatus[] =
    "\n"
    "Exit status: 0 on success, 2 on a bad command line (with the usage), 1 when\n"
    "the run fails (unreadable model, image or data set, a library error).\n";

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::int64_t parse_int(const std::string& name, const std::string& value, std::int64_t min,
                       std::int64_t max) {
  errno = 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE) {
    throw UsageError(name + " takes an integer, got " + quoted(value));
  }
  if (parsed < min || parsed > max) {
    throw UsageError(name + " must be " +
                     (max == std::numeric_limits<std::int64_t>::max()
                          ? ">= " + std::to_string(min)
                          : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]") +
                     ", got " + value);
  }
  return parsed;
}

std::uint64_t parse_seed(const std::string& name, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || end != value.c_str() + value.size() || errno == ERANGE) {
    throw UsageError(name + " takes an integer in [0, 2^64), got " + quoted(value));
  }
  return parsed;
}

double parse_real(const std::string& name, const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE ||
      !std::isfinite(parsed) || std::abs(parsed) > std::numeric_limits<float>::max()) {
    throw UsageError(name + " takes a finite number, got " + quoted(value));
  }
  return parsed;
}

template <class Enum>
Enum parse_choice(const std::string& name, const std::string& value,
                  const std::vector<std::pair<const char*, Enum>>& choices) {
  std::string names;
  for (const auto& [choice, parsed] : choices) {
    if (value == choice) return parsed;
    names += (names.empty() ? "" : ", ") + std::string(choice);
  }
  throw UsageError(name + " must be one of " + names + ", got " + quoted(value));
}

void add_methods(ExplainArgs& args, const std::string& value) {
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = value.find(',', begin);
    const std::string name = value.substr(begin, comma == std::string::npos ? comma : comma - begin);
    std::vector<Method> add;
    if (name == "all") add = {Method::sobol, Method::hsic, Method::eva};
    else if (name == "baselines") add = {Method::occlusion, Method::rise, Method::kernelshap};
    else if (name == "sobol") add = {Method::sobol};
    else if (name == "hsic") add = {Method::hsic};
    else if (name == "eva") add = {Method::eva};
    else if (name == "occlusion") add = {Method::occlusion};
    else if (name == "rise") add = {Method::rise};
    else if (name == "kernelshap") add = {Method::kernelshap};
    else throw UsageError("--method must be sobol, hsic, eva, occlusion, rise, kernelshap, all "
                          "or baselines, got " + quoted(name));
    for (Method m : add) {
      if (!args.runs(m)) args.methods.push_back(m);
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
}

void add_metrics(ExplainArgs& args, const std::string& value) {
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = value.find(',', begin);
    const std::string name = value.substr(begin, comma == std::string::npos ? comma : comma - begin);
    const Metric metric = parse_choice<Metric>(
        "--metrics", name,
        {{"deletion", Metric::deletion},
         {"insertion", Metric::insertion},
         {"mufidelity", Metric::mufidelity},
         {"average", Metric::average},
         {"complexity", Metric::complexity},
         {"sparseness", Metric::sparseness},
         {"stability", Metric::stability}});
    if (!args.scores(metric)) args.metrics.push_back(metric);
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
}

template <class Args>
struct OptionSpec {
  bool takes_value;
  std::function<void(Args&, const std::string&)> handle;
};

template <class Args>
using OptionMap = std::map<std::string, OptionSpec<Args>>;

/// Applies args[first..] to `result`: --name VALUE, --name=VALUE or a flag.
template <class Args>
void apply_options(const std::vector<std::string>& args, std::size_t first,
                   const OptionMap<Args>& options, Args& result) {
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument " + quoted(arg));
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const auto found = options.find(name);
    if (found == options.end()) throw UsageError("unknown option " + quoted(name));
    const OptionSpec<Args>& spec = found->second;
    std::string value;
    if (equals != std::string::npos) {
      if (!spec.takes_value) throw UsageError(name + " takes no value");
      value = arg.substr(equals + 1);
    } else if (spec.takes_value) {
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
        throw UsageError("missing value for " + name);
      }
      value = args[++i];
    }
    spec.handle(result, value);
  }
}

const OptionMap<ExplainArgs>& explain_options() {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  static const OptionMap<ExplainArgs> options = {
      {"--method", {true, [](ExplainArgs& a, const std::string& v) { add_methods(a, v); }}},
      {"--model", {true, [](ExplainArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--model takes a file name, got ''");
         a.model_path = v;
       }}},
      {"--image", {true, [](ExplainArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--image takes a file name, got ''");
         a.image_path = v;
       }}},
      {"--scale", {true, [](ExplainArgs& a, const std::string& v) {
         a.scale = parse_real("--scale", v);
         if (!(a.scale > 0.0)) throw UsageError("--scale must be > 0, got " + v);
       }}},
      {"--target", {true, [](ExplainArgs& a, const std::string& v) {
         a.target = static_cast<int>(
             parse_int("--target", v, 0, std::numeric_limits<int>::max()));
       }}},
      {"--device", {true, [](ExplainArgs& a, const std::string& v) {
         if (v != "cpu" && v != "cuda") {
           throw UsageError("--device must be cpu or cuda, got " + quoted(v));
         }
         a.device = v;
       }}},
      {"--out", {true, [](ExplainArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--out takes a directory, got ''");
         a.out_dir = v;
       }}},
      {"--grid-size", {true, [](ExplainArgs& a, const std::string& v) {
         a.grid_size = parse_int("--grid-size", v, 1, 4096);
       }}},
      {"--nb-design", {true, [](ExplainArgs& a, const std::string& v) {
         a.nb_design = parse_int("--nb-design", v, 2, std::int64_t{1} << 30);
       }}},
      {"--batch-size", {true, [](ExplainArgs& a, const std::string& v) {
         a.batch_size = parse_int("--batch-size", v, 1, std::int64_t{1} << 30);
       }}},
      {"--sampler", {true, [](ExplainArgs& a, const std::string& v) {
         a.sampler = parse_choice<Sampler>("--sampler", v,
                                           {{"sobol", Sampler::sobol},
                                            {"sobol_owen", Sampler::sobol_owen},
                                            {"halton", Sampler::halton},
                                            {"lhs", Sampler::lhs},
                                            {"monte_carlo", Sampler::monte_carlo}});
       }}},
      {"--skip", {true, [](ExplainArgs& a, const std::string& v) {
         a.skip = parse_int("--skip", v, 0, kMax);
       }}},
      {"--seed", {true, [](ExplainArgs& a, const std::string& v) {
         a.seed = parse_seed("--seed", v);
       }}},
      {"--perturbation", {true, [](ExplainArgs& a, const std::string& v) {
         a.perturbation = parse_choice<Perturbation>(
             "--perturbation", v,
             {{"inpainting", Perturbation::inpainting},
              {"blurring", Perturbation::blurring},
              {"amplitude", Perturbation::amplitude}});
       }}},
      {"--baseline", {true, [](ExplainArgs& a, const std::string& v) {
         a.baseline = static_cast<float>(parse_real("--baseline", v));
       }}},
      {"--blur-size", {true, [](ExplainArgs& a, const std::string& v) {
         a.blur_size = parse_int("--blur-size", v, 1, 1 << 20);
       }}},
      {"--sigma", {true, [](ExplainArgs& a, const std::string& v) {
         a.sigma = static_cast<float>(parse_real("--sigma", v));
       }}},
      {"--mask-interpolation", {true, [](ExplainArgs& a, const std::string& v) {
         a.mask_interpolation = parse_choice<Interpolation>(
             "--mask-interpolation", v,
             {{"nearest", Interpolation::nearest},
              {"nearest_exact", Interpolation::nearest_exact},
              {"bilinear", Interpolation::bilinear}});
       }}},
      {"--estimator", {true, [](ExplainArgs& a, const std::string& v) {
         a.estimator = parse_choice<Estimator>("--estimator", v,
                                               {{"jansen", Estimator::jansen},
                                                {"homma", Estimator::homma},
                                                {"janon", Estimator::janon},
                                                {"glen", Estimator::glen},
                                                {"saltelli", Estimator::saltelli}});
       }}},
      {"--first-order", {false, [](ExplainArgs& a, const std::string&) { a.first_order = true; }}},
      {"--hsic-kernel", {true, [](ExplainArgs& a, const std::string& v) {
         a.hsic_kernel = parse_choice<HsicKernel>("--hsic-kernel", v,
                                                  {{"binary", HsicKernel::binary},
                                                   {"rbf", HsicKernel::rbf},
                                                   {"sobolev", HsicKernel::sobolev}});
       }}},
      {"--continuous-masks",
       {false, [](ExplainArgs& a, const std::string&) { a.continuous_masks = true; }}},
      {"--hsic-width", {true, [](ExplainArgs& a, const std::string& v) {
         a.hsic_width = parse_choice<Bandwidth>(
             "--hsic-width", v,
             {{"median_output", Bandwidth::median_output},
              {"median_distance", Bandwidth::median_distance}});
       }}},
      {"--epsilon", {true, [](ExplainArgs& a, const std::string& v) {
         a.epsilon = static_cast<float>(parse_real("--epsilon", v));
         if (a.epsilon < 0.0f) throw UsageError("--epsilon must be >= 0, got " + v);
       }}},
      {"--no-clamp", {false, [](ExplainArgs& a, const std::string&) { a.clamp = false; }}},
      {"--sound", {false, [](ExplainArgs& a, const std::string&) { a.sound = true; }}},
      {"--alpha", {true, [](ExplainArgs& a, const std::string& v) {
         a.alpha = static_cast<float>(parse_real("--alpha", v));
         if (a.alpha < 0.0f || a.alpha > 1.0f) {
           throw UsageError("--alpha must be in [0, 1], got " + v);
         }
       }}},
      {"--progress",
       {false, [](ExplainArgs& a, const std::string&) { a.progress = ProgressMode::on; }}},
      {"--no-progress",
       {false, [](ExplainArgs& a, const std::string&) { a.progress = ProgressMode::off; }}},
  };
  return options;
}

bool is_power_of_two(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

/// explain's options with those of the baselines and the metrics.
const OptionMap<ExplainArgs>& explain_and_metric_options() {
  constexpr std::int64_t kBig = std::int64_t{1} << 30;
  static const OptionMap<ExplainArgs> options = [] {
    OptionMap<ExplainArgs> all = explain_options();
    const OptionMap<ExplainArgs> extra = {
        {"--patch-size", {true, [](ExplainArgs& a, const std::string& v) {
           a.patch_size = parse_int("--patch-size", v, 1, kBig);
         }}},
        {"--patch-stride", {true, [](ExplainArgs& a, const std::string& v) {
           a.patch_stride = parse_int("--patch-stride", v, 1, kBig);
         }}},
        {"--occlusion-value", {true, [](ExplainArgs& a, const std::string& v) {
           a.occlusion_value = static_cast<float>(parse_real("--occlusion-value", v));
         }}},
        {"--nb-samples", {true, [](ExplainArgs& a, const std::string& v) {
           a.nb_samples = parse_int("--nb-samples", v, 2, kBig);
         }}},
        {"--preservation", {true, [](ExplainArgs& a, const std::string& v) {
           a.preservation = static_cast<float>(parse_real("--preservation", v));
           if (!(a.preservation > 0.0f && a.preservation <= 1.0f)) {
             throw UsageError("--preservation must be in (0, 1], got " + v);
           }
         }}},
        {"--convention", {true, [](ExplainArgs& a, const std::string& v) {
           a.convention = parse_choice<Convention>(
               "--convention", v, {{"paper", Convention::paper}, {"xplique", Convention::xplique}});
         }}},
        {"--metrics", {true, [](ExplainArgs& a, const std::string& v) { add_metrics(a, v); }}},
        {"--steps", {true, [](ExplainArgs& a, const std::string& v) {
           a.steps = parse_int("--steps", v, 1, kBig);
         }}},
        {"--max-percentage", {true, [](ExplainArgs& a, const std::string& v) {
           a.max_percentage = parse_real("--max-percentage", v);
           if (!(a.max_percentage > 0.0 && a.max_percentage <= 1.0)) {
             throw UsageError("--max-percentage must be in (0, 1], got " + v);
           }
         }}},
        {"--metric-baseline", {true, [](ExplainArgs& a, const std::string& v) {
           a.metric_baseline = static_cast<float>(parse_real("--metric-baseline", v));
         }}},
        {"--mu-grid", {true, [](ExplainArgs& a, const std::string& v) {
           a.mu_grid = parse_int("--mu-grid", v, 1, 4096);
         }}},
        {"--mu-samples", {true, [](ExplainArgs& a, const std::string& v) {
           a.mu_samples = parse_int("--mu-samples", v, 2, kBig);
         }}},
        {"--subset-percent", {true, [](ExplainArgs& a, const std::string& v) {
           a.subset_percent = static_cast<float>(parse_real("--subset-percent", v));
           if (!(a.subset_percent >= 0.0f && a.subset_percent <= 1.0f)) {
             throw UsageError("--subset-percent must be in [0, 1], got " + v);
           }
         }}},
        {"--activation", {true, [](ExplainArgs& a, const std::string& v) {
           a.activation = parse_choice<OutputActivation>(
               "--activation", v,
               {{"none", OutputActivation::none},
                {"softmax", OutputActivation::softmax},
                {"sigmoid", OutputActivation::sigmoid}});
         }}},
        {"--stability-samples", {true, [](ExplainArgs& a, const std::string& v) {
           a.stability_samples = parse_int("--stability-samples", v, 1, kBig);
         }}},
        {"--radius", {true, [](ExplainArgs& a, const std::string& v) {
           a.radius = static_cast<float>(parse_real("--radius", v));
           if (!(a.radius > 0.0f)) throw UsageError("--radius must be > 0, got " + v);
         }}},
        {"--metric-batch-size", {true, [](ExplainArgs& a, const std::string& v) {
           a.metric_batch_size = parse_int("--metric-batch-size", v, 1, kBig);
         }}},
    };
    all.insert(extra.begin(), extra.end());
    return all;
  }();
  return options;
}

/// Methods in the fixed order sobol, hsic, eva, occlusion, rise, kernelshap.
void order_methods(ExplainArgs& args) {
  std::vector<Method> ordered;
  for (Method m : {Method::sobol, Method::hsic, Method::eva, Method::occlusion, Method::rise,
                   Method::kernelshap}) {
    if (args.runs(m)) ordered.push_back(m);
  }
  args.methods = ordered;
}

ExplainArgs parse_explain(const std::vector<std::string>& args, std::size_t first) {
  ExplainArgs result;
  apply_options(args, first, explain_and_metric_options(), result);

  if (result.methods.empty()) add_methods(result, "all");
  // Keep a fixed order whatever the command line's.
  order_methods(result);

  if (result.nb_design && result.runs(Method::sobol) && !is_power_of_two(*result.nb_design)) {
    throw UsageError("--nb-design must be a power of two for sobol, got " +
                     std::to_string(*result.nb_design));
  }
  return result;
}

Sampler parse_sampler(const std::string& v) {
  return parse_choice<Sampler>("--sampler", v,
                               {{"sobol", Sampler::sobol},
                                {"sobol_owen", Sampler::sobol_owen},
                                {"halton", Sampler::halton},
                                {"lhs", Sampler::lhs},
                                {"monte_carlo", Sampler::monte_carlo}});
}

Estimator parse_estimator(const std::string& v) {
  return parse_choice<Estimator>("--estimator", v,
                                 {{"jansen", Estimator::jansen},
                                  {"homma", Estimator::homma},
                                  {"janon", Estimator::janon},
                                  {"glen", Estimator::glen},
                                  {"saltelli", Estimator::saltelli}});
}

const OptionMap<ConceptsArgs>& concepts_options() {
  constexpr std::int64_t kBig = std::int64_t{1} << 30;
  static const OptionMap<ConceptsArgs> options = {
      {"--class", {true, [](ConceptsArgs& a, const std::string& v) {
         a.class_id = static_cast<int>(parse_int("--class", v, 0, 9));
       }}},
      {"--list-layers",
       {false, [](ConceptsArgs& a, const std::string&) { a.list_layers = true; }}},
      {"--model", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--model takes a file name, got ''");
         a.model_path = v;
       }}},
      {"--layer", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--layer takes a tensor name, got ''");
         a.layer = v;
       }}},
      {"--data", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--data takes a directory, got ''");
         a.data_dir = v;
       }}},
      {"--images", {true, [](ConceptsArgs& a, const std::string& v) {
         a.max_images = parse_int("--images", v, 1, kBig);
       }}},
      {"--device", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v != "cpu" && v != "cuda") {
           throw UsageError("--device must be cpu or cuda, got " + quoted(v));
         }
         a.device = v;
       }}},
      {"--out", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--out takes a directory, got ''");
         a.out_dir = v;
       }}},
      {"--scale", {true, [](ConceptsArgs& a, const std::string& v) {
         a.scale = parse_real("--scale", v);
         if (!(a.scale > 0.0)) throw UsageError("--scale must be > 0, got " + v);
       }}},
      {"--patch", {true, [](ConceptsArgs& a, const std::string& v) {
         a.patch = parse_int("--patch", v, 2, 28);
       }}},
      {"--concepts", {true, [](ConceptsArgs& a, const std::string& v) {
         a.rank = parse_int("--concepts", v, 1, kBig);
       }}},
      {"--max-iter", {true, [](ConceptsArgs& a, const std::string& v) {
         a.max_iter = parse_int("--max-iter", v, 1, kBig);
       }}},
      {"--nmf-solver", {true, [](ConceptsArgs& a, const std::string& v) {
         a.nmf_solver = parse_choice<nmf::Solver>("--nmf-solver", v,
                                                  {{"mu", nmf::Solver::mu}, {"cd", nmf::Solver::cd}});
       }}},
      {"--crop-resize", {true, [](ConceptsArgs& a, const std::string& v) {
         a.crop_resize = parse_choice<craft::CropResize>(
             "--crop-resize", v,
             {{"tensorflow", craft::CropResize::tensorflow_bicubic},
              {"opencv", craft::CropResize::opencv_bicubic}});
       }}},
      {"--alpha-w", {true, [](ConceptsArgs& a, const std::string& v) {
         a.alpha_w = static_cast<float>(parse_real("--alpha-w", v));
         if (a.alpha_w < 0.0f) throw UsageError("--alpha-w must be >= 0, got " + v);
       }}},
      {"--nb-design", {true, [](ConceptsArgs& a, const std::string& v) {
         a.nb_design = parse_int("--nb-design", v, 2, kBig);
         if (!is_power_of_two(a.nb_design)) {
           throw UsageError("--nb-design must be a power of two, got " + v);
         }
       }}},
      {"--sampler", {true, [](ConceptsArgs& a, const std::string& v) {
         a.sampler = parse_sampler(v);
       }}},
      {"--estimator", {true, [](ConceptsArgs& a, const std::string& v) {
         a.estimator = parse_estimator(v);
       }}},
      {"--batch-size", {true, [](ConceptsArgs& a, const std::string& v) {
         a.batch_size = parse_int("--batch-size", v, 1, kBig);
       }}},
      {"--seed", {true, [](ConceptsArgs& a, const std::string& v) {
         a.seed = parse_seed("--seed", v);
       }}},
      {"--top", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v == "all") {
           a.top_all = true;
           a.top.reset();
         } else {
           a.top = parse_int("--top", v, 1, kBig);
           a.top_all = false;
         }
       }}},
      {"--crops", {true, [](ConceptsArgs& a, const std::string& v) {
         a.crops_per_concept = parse_int("--crops", v, 1, 1000);
       }}},
      {"--map-images", {true, [](ConceptsArgs& a, const std::string& v) {
         a.map_images = parse_int("--map-images", v, 0, 1000);
       }}},
      {"--subconcepts", {true, [](ConceptsArgs& a, const std::string& v) {
         a.subconcepts = parse_int("--subconcepts", v, 0, kBig);
       }}},
      {"--sub-concept", {true, [](ConceptsArgs& a, const std::string& v) {
         a.sub_concept = parse_int("--sub-concept", v, 0, kBig);
       }}},
      {"--sub-crops", {true, [](ConceptsArgs& a, const std::string& v) {
         a.sub_crops = parse_int("--sub-crops", v, 1, kBig);
       }}},
      {"--sub-layer", {true, [](ConceptsArgs& a, const std::string& v) {
         if (v.empty()) throw UsageError("--sub-layer takes a tensor name, got ''");
         a.sub_layer = v;
       }}},
      {"--alpha", {true, [](ConceptsArgs& a, const std::string& v) {
         a.alpha = static_cast<float>(parse_real("--alpha", v));
         if (a.alpha < 0.0f || a.alpha > 1.0f) {
           throw UsageError("--alpha must be in [0, 1], got " + v);
         }
       }}},
      {"--progress",
       {false, [](ConceptsArgs& a, const std::string&) { a.progress = ProgressMode::on; }}},
      {"--no-progress",
       {false, [](ConceptsArgs& a, const std::string&) { a.progress = ProgressMode::off; }}},
  };
  return options;
}

ConceptsArgs parse_concepts(const std::vector<std::string>& args, std::size_t first) {
  ConceptsArgs result;
  result.data_dir = kFashionMnistDir;
  apply_options(args, first, concepts_options(), result);
  if (result.class_id < 0 && !result.list_layers) {
    throw UsageError("cuxplain concepts needs --class N, the class 0..9 to explain");
  }
  if (result.subconcepts == 0 &&
      (result.sub_concept || result.sub_layer || result.sub_crops)) {
    throw UsageError(std::string(result.sub_concept ? "--sub-concept"
                                 : result.sub_layer ? "--sub-layer"
                                                    : "--sub-crops") +
                     " needs --subconcepts S (the number of sub-concepts)");
  }
  if (result.sub_concept && *result.sub_concept >= result.rank) {
    throw UsageError("--sub-concept must be a concept id in [0, " + std::to_string(result.rank) +
                     ") (--concepts " + std::to_string(result.rank) + "), got " +
                     std::to_string(*result.sub_concept));
  }
  return result;
}

const OptionMap<EvaluateArgs>& evaluate_options() {
  static const OptionMap<EvaluateArgs> options = [] {
    OptionMap<EvaluateArgs> all;
    // Every option of explain but the single image and its target.
    for (const auto& [name, spec] : explain_and_metric_options()) {
      if (name == "--image" || name == "--target") continue;
      const auto handle = spec.handle;
      all[name] = {spec.takes_value,
                   [handle](EvaluateArgs& a, const std::string& v) { handle(a.explain, v); }};
    }
    all["--images"] = {true, [](EvaluateArgs& a, const std::string& v) {
                         a.images = parse_int("--images", v, 1, std::int64_t{1} << 20);
                       }};
    all["--data"] = {true, [](EvaluateArgs& a, const std::string& v) {
                       if (v.empty()) throw UsageError("--data takes a directory, got ''");
                       a.data_dir = v;
                     }};
    all["--save-maps"] = {false, [](EvaluateArgs& a, const std::string&) { a.save_maps = true; }};
    all["--target"] = {true, [](EvaluateArgs& a, const std::string& v) {
                         a.label_targets = parse_choice<bool>(
                             "--target", v, {{"predicted", false}, {"label", true}});
                       }};
    return all;
  }();
  return options;
}

EvaluateArgs parse_evaluate(const std::vector<std::string>& args, std::size_t first) {
  EvaluateArgs result;
  result.data_dir = kFashionMnistDir;
  apply_options(args, first, evaluate_options(), result);
  ExplainArgs& e = result.explain;
  if (e.methods.empty()) {
    add_methods(e, "all");
    add_methods(e, "baselines");
  }
  order_methods(e);
  if (e.metrics.empty()) add_metrics(e, "deletion,insertion,mufidelity");
  if (e.nb_design && e.runs(Method::sobol) && !is_power_of_two(*e.nb_design)) {
    throw UsageError("--nb-design must be a power of two for sobol, got " +
                     std::to_string(*e.nb_design));
  }
  return result;
}

bool is_help(const std::string& arg) { return arg == "-h" || arg == "--help" || arg == "help"; }

const char kHelpHeader[] =
    "usage: cuxplain explain [options]\n"
    "       cuxplain concepts --class N [options]\n"
    "       cuxplain evaluate [options]\n"
    "       cuxplain --help | --version\n";

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
  switch (metric) {
    case Metric::deletion: return "deletion";
    case Metric::insertion: return "insertion";
    case Metric::mufidelity: return "mufidelity";
    case Metric::average: return "average";
    case Metric::complexity: return "complexity";
    case Metric::sparseness: return "sparseness";
    case Metric::stability: return "stability";
  }
  return "unknown";
}

bool ExplainArgs::scores(Metric metric) const {
  for (Metric m : metrics) {
    if (m == metric) return true;
  }
  return false;
}

bool ExplainArgs::runs(Method method) const {
  for (Method m : methods) {
    if (m == method) return true;
  }
  return false;
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
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      command.kind = Command::Kind::help;
      command.help_topic = first;
      return command;
    }
  }
  if (first == "explain") {
    command.kind = Command::Kind::explain;
    command.explain = parse_explain(args, 1);
  } else if (first == "evaluate") {
    command.kind = Command::Kind::evaluate;
    command.evaluate = parse_evaluate(args, 1);
  } else {
    command.kind = Command::Kind::concepts;
    command.concepts = parse_concepts(args, 1);
  }
  return command;
}

const char* usage_text() { return kUsage; }

std::string help_text() {
  return std::string(kHelpHeader) + "\ncuxplain explain [options]\n\n" + kExplainHelp +
         kBaselineMetricHelp + "\ncuxplain concepts --class N [options]\n\n" + kConceptsHelp +
         "\ncuxplain evaluate [options]\n\n" + kEvaluateHelp + kExitStatus;
}

std::string help_text(const std::string& command) {
  if (command == "concepts") {
    return std::string("usage: cuxplain concepts --class N [options]\n\n") + kConceptsHelp +
           kExitStatus;
  }
  if (command == "explain") {
    return std::string("usage: cuxplain explain [options]\n\n") + kExplainHelp +
           kBaselineMetricHelp + kExitStatus;
  }
  if (command == "evaluate") {
    return std::string("usage: cuxplain evaluate [options]\n\n") + kEvaluateHelp +
           kBaselineMetricHelp + kExitStatus;
  }
  return help_text();
}

}  // namespace cuxplain::cli
