#include "json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace cuxplain::cli {
namespace {

void expect_finite(const Json& value, const std::string& where) {
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    throw std::runtime_error("cannot write " + where + ": the number is not finite");
  }
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) expect_finite(member, where + "." + key);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      expect_finite(value[i], where + "[" + std::to_string(i) + "]");
    }
  }
}

}  // namespace

double json_float(float value) {
  if (!std::isfinite(value)) return value;  // json_text reports it
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text - 1, value);
  *result.ptr = '\0';
  return std::strtod(text, nullptr);
}

double json_rounded(double value, int digits) {
  if (!std::isfinite(value)) return value;
  char text[40];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return std::strtod(text, nullptr);
}

std::string json_text(const Json& document) {
  expect_finite(document, "the JSON document");
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace cuxplain::cli
