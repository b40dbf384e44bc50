#pragma once
// What the commands share: finding the default model, its class names, the
// backend asked for, the result JSON's first keys.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "json.hpp"

namespace cuxplain::cli {


/// The embedded default model and the bundled sample image.
constexpr const char* kDefaultModel = "fashion_mnist_cnn.onnx";
constexpr const char* kDefaultImage = "sample_fashion_mnist.png";

/// A file given on the command line, or the default found on disk.
struct ResolvedFile {
  std::string path;
  bool is_default = false;
};

/// `given` when it names a regular file (a UsageError naming `option`
/// otherwise), or the default `default_name` next to the installed program
/// (<prefix>/share/cuxplain), then in this source tree's models/ (a
/// std::runtime_error listing both when neither has it).
ResolvedFile resolve(const std::optional<std::string>& given, const char* option,
                     const char* default_name);

/// Class names: from `labels` (--labels) when given, a JSON file (an array
/// of names, {"class_names": [...]} or Keras's imagenet_class_index.json
/// {"0": ["n01440764", "tench"], ...}) or a text file of one name a line,
/// whose names must number `classes` (std::runtime_error naming the file
/// otherwise); else from the model's sidecar (FILE.json next to FILE.onnx)
/// in the same JSON forms when it exists and names `classes` classes; empty
/// otherwise (with a warning on stderr when the sidecar is malformed).
/// names_used: the file the names came from.
std::vector<std::string> class_names(const std::string& model_path,
                                     const std::optional<std::string>& labels,
                                     std::int64_t classes, std::string& names_used);

/// The k highest scores, highest first (ties: the lower class), each as
/// {"class", "name" (with names), "logit"}: scores.json's "top_classes".
Json top_classes_json(const std::vector<float>& scores, const std::vector<std::string>& names,
                      std::size_t k);

/// "3 (Dress)", or "3" without names.
std::string class_label(int id, const std::vector<std::string>& names);

/// The model contract of both commands: the graph output is one vector of
/// class scores per image (N x K, an nn::Shape K x 1 x 1). Throws
/// std::runtime_error naming the model file and its output shape otherwise
/// (a feature map is not K = C * H * W classes).
void expect_class_scores(const std::string& model_path, const nn::Shape& output);

/// The model at `path` as the commands read it: images N x C x H x W. A
/// graph input N x H x W x C whose C is 1, 3 or 4 and whose H is more than 4
/// (read as exported it would have more channels than an image, so no NCHW
/// model the commands can run is taken for it) is channels-last, as Keras
/// models are exported: read with nn::OnnxInput::channels_last_as_nchw, the
/// network transposes the NCHW image to the graph's layout itself.
/// channels_last: set to whether it was.
nn::OnnxModel read_model(const std::string& path, bool* channels_last = nullptr);

/// Context::host() for "cpu", Context::cuda() for "cuda" (its error says
/// that --device cpu runs on the CPU).
Context make_context(const std::string& device);

/// A result file's JSON object with what every command reports first:
/// "program" (name and version), "model" (absolute path) and
/// "model_is_default".
Json result_json(const ResolvedFile& model);

}  // namespace cuxplain::cli
