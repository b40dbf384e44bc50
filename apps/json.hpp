#pragma once
// The program's JSON (scores.json, concepts.json, a model's class-name
// sidecar) on nlohmann::json, its keys kept in the order they are added.
#include <string>

#include <nlohmann/json.hpp>

namespace cuxplain::cli {

using Json = nlohmann::ordered_json;

/// A float32 quantity (a score, a logit) as the shortest decimal that reads
/// back as the same float: 0.1, not the 0.10000000149011612 of its double.
double json_float(float value);

/// A measured quantity (seconds) with `digits` significant digits.
double json_rounded(double value, int digits);

/// The document as a file holds it: two-space indents, invalid UTF-8 (a
/// path's bytes) replaced by U+FFFD. A non-finite number throws
/// std::runtime_error naming its key, so that the file is always valid JSON.
std::string json_text(const Json& document);

}  // namespace cuxplain::cli
