#include "model_files.hpp"

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

std::vector<std::string> class_names(const std::string& model_path, std::int64_t classes,
                                     std::string& sidecar_used) {
  fs::path sidecar(model_path);
  sidecar.replace_extension(".json");
  std::error_code error;
  if (!fs::is_regular_file(sidecar, error)) return {};
  std::ifstream in(sidecar, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<std::string> names;
  try {
    const Json root = Json::parse(text.str());
    if (!root.is_object() || !root.contains("class_names")) return {};
    const Json& list = root["class_names"];
    if (!list.is_array()) return {};
    for (const Json& name : list) {
      if (!name.is_string()) return {};
      names.push_back(name.get<std::string>());
    }
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
  sidecar_used = sidecar.string();
  return names;
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
