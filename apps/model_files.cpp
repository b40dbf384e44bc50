#include "model_files.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <cuxplain/core/error.hpp>

#include "args.hpp"
#include "json.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

/// Where the default model and image live: next to the installed program
/// (<prefix>/bin/cuxplain -> <prefix>/share/cuxplain), then this source tree's
/// models/.
std::vector<fs::path> data_directories() {
  std::vector<fs::path> dirs;
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  const fs::path subdir(CUXPLAIN_INSTALL_DATA_SUBDIR);
  if (subdir.is_absolute()) {
    dirs.push_back(subdir);
  } else if (!error && !exe.empty()) {
    dirs.push_back(exe.parent_path().parent_path() / subdir);
  }
  dirs.emplace_back(CUXPLAIN_SOURCE_MODELS_DIR);
  return dirs;
}

}  // namespace

ResolvedFile resolve(const std::optional<std::string>& given, const char* option,
                     const char* default_name) {
  if (given) {
    std::error_code error;
    if (fs::is_directory(*given, error)) {
      throw UsageError(std::string(option) + ": '" + *given + "' is a directory, not a file");
    }
    if (!fs::is_regular_file(*given, error)) {
      throw UsageError(std::string(option) + ": no such file '" + *given + "'");
    }
    return {*given, false};
  }
  std::string tried;
  for (const fs::path& dir : data_directories()) {
    const fs::path candidate = dir / default_name;
    std::error_code error;
    if (fs::is_regular_file(candidate, error)) return {candidate.lexically_normal().string(), true};
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  throw std::runtime_error(std::string("the default ") + default_name + " was not found (tried " +
                           tried + "); pass " + option);
}

namespace {

/// The names a label file's JSON holds: an array of strings, an object with
/// such a "class_names" array, or Keras's imagenet_class_index.json (keys
/// "0".."K-1", each a name or [wordnet id, name]). Throws std::runtime_error
/// saying what is wrong.
std::vector<std::string> names_from_json(const Json& root) {
  const auto strings = [](const Json& list) {
    std::vector<std::string> names;
    for (const Json& name : list) {
      if (!name.is_string()) throw std::runtime_error("a class name is not a string");
      names.push_back(name.get<std::string>());
    }
    return names;
  };
  if (root.is_array()) return strings(root);
  if (!root.is_object()) throw std::runtime_error("neither an array nor an object");
  if (root.contains("class_names")) {
    if (!root["class_names"].is_array()) throw std::runtime_error("\"class_names\" is no array");
    return strings(root["class_names"]);
  }
  std::vector<std::string> names(root.size());
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string key = std::to_string(k);
    if (!root.contains(key)) {
      throw std::runtime_error("no \"class_names\" array, and no key \"" + key +
                               "\" of a class index");
    }
    const Json& entry = root[key];
    if (entry.is_string()) {
      names[k] = entry.get<std::string>();
    } else if (entry.is_array() && !entry.empty() && entry.back().is_string()) {
      names[k] = entry.back().get<std::string>();  // [wordnet id, name]
    } else {
      throw std::runtime_error("class \"" + key + "\" is neither a name nor [id, name]");
    }
  }
  return names;
}

/// The names of a label file: JSON (names_from_json) when it starts with
/// '[' or '{', otherwise one name a line (a final newline and '\r's dropped).
std::vector<std::string> read_names(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open it");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  const std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (content[first] == '[' || content[first] == '{')) {
    return names_from_json(Json::parse(content));
  }
  std::vector<std::string> names;
  std::istringstream lines(content);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  return names;
}

}  // namespace

std::vector<std::string> class_names(const std::string& model_path,
                                     const std::optional<std::string>& labels,
                                     std::int64_t classes, std::string& names_used) {
  if (labels) {
    // Given on the command line: any problem fails the run.
    std::vector<std::string> names;
    try {
      names = read_names(*labels);
    } catch (const std::exception& e) {
      throw std::runtime_error("--labels '" + *labels + "': " + e.what());
    }
    if (static_cast<std::int64_t>(names.size()) != classes) {
      throw std::runtime_error("--labels '" + *labels + "' has " + std::to_string(names.size()) +
                               " class names, the model has " + std::to_string(classes) +
                               " outputs");
    }
    names_used = *labels;
    return names;
  }
  fs::path sidecar(model_path);
  sidecar.replace_extension(".json");
  std::error_code error;
  if (!fs::is_regular_file(sidecar, error)) return {};
  std::vector<std::string> names;
  try {
    std::ifstream in(sidecar, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const Json root = Json::parse(text.str());
    // A sidecar may hold other keys (the model's metadata) and no names.
    if (root.is_object() && !root.contains("class_names") && !root.contains("0")) return {};
    names = names_from_json(root);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuxplain: warning: ignoring %s: %s\n", sidecar.string().c_str(),
                 e.what());
    return {};
  }
  if (static_cast<std::int64_t>(names.size()) != classes) {
    std::fprintf(stderr,
                 "cuxplain: warning: ignoring the class names of %s: %zu names, the model has "
                 "%lld outputs\n",
                 sidecar.string().c_str(), names.size(), static_cast<long long>(classes));
    return {};
  }
  names_used = sidecar.string();
  return names;
}

Json top_classes_json(const std::vector<float>& scores, const std::vector<std::string>& names,
                      std::size_t k) {
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
                    });
  Json top = Json::array();
  for (std::size_t i = 0; i < k; ++i) {
    Json entry;
    entry["class"] = order[i];
    if (!names.empty()) entry["name"] = names[order[i]];
    entry["logit"] = json_float(scores[order[i]]);
    top.push_back(std::move(entry));
  }
  return top;
}

std::string class_label(int id, const std::vector<std::string>& names) {
  std::string label = std::to_string(id);
  if (id >= 0 && static_cast<std::size_t>(id) < names.size()) {
    label += " (" + names[static_cast<std::size_t>(id)] + ")";
  }
  return label;
}

void expect_class_scores(const std::string& model_path, const nn::Shape& output) {
  if (output.h == 1 && output.w == 1) return;
  throw std::runtime_error("the model '" + model_path + "' outputs " + nn::to_string(output) +
                           " per image; cuxplain needs one output of class scores, N x K (a "
                           "flat vector per image, as after Flatten and Gemm)");
}

nn::OnnxModel read_model(const std::string& path, bool* channels_last) {
  if (channels_last != nullptr) *channels_last = false;
  nn::OnnxModel model = nn::read_onnx(path);
  const nn::Shape in = model.builder.shape(model.tensors.front().second);
  const bool nhwc = in.c > 4 && in.w >= 1 && in.w <= 4 && in.h > 1;
  if (!nhwc) return model;
  try {
    nn::OnnxModel transposed = nn::read_onnx(path, nn::OnnxInput::channels_last_as_nchw);
    if (channels_last != nullptr) *channels_last = true;
    return transposed;
  } catch (const Error&) {
    return model;  // an N x C x L input: as exported (and refused by the command)
  }
}

Context make_context(const std::string& device) {
  if (device != "cuda") return Context::host();
  try {
    return Context::cuda();
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + "\n(--device cpu runs on the CPU)");
  }
}

Json result_json(const ResolvedFile& model) {
  Json json;
  json["program"] = std::string("cuxplain ") + CUXPLAIN_VERSION;
  json["model"] = std::filesystem::absolute(model.path).lexically_normal().string();
  json["model_is_default"] = model.is_default;
  return json;
}

}  // namespace cuxplain::cli
