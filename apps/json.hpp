#pragma once
// A small JSON writer (scores.json) and reader (a model's .json sidecar).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cuxplain::cli {

/// Builds an indented JSON document. Strings are escaped (control characters
/// as \u00XX, invalid UTF-8 bytes replaced by U+FFFD); numbers are printed
/// with enough digits to read back the same float or double, and a
/// non-finite number throws std::runtime_error naming its key, so that the
/// document is always valid JSON. Arrays opened with inline_items print
/// their items on one line.
class JsonWriter {
 public:
  void begin_object();
  void end_object();
  void begin_array(bool inline_items = false);
  void end_array();
  /// The key of the next value inside an object.
  void key(const std::string& name);

  void value(const std::string& text);
  void value(const char* text);
  void value(bool flag);
  void value(std::int64_t number);
  void value(int number) { value(static_cast<std::int64_t>(number)); }
  void value(std::uint64_t number);
  /// A float32 quantity: the shortest form (6 to 9 significant digits) that
  /// reads back as the same float.
  void value(float number);
  /// A double: the shortest of 15 to 17 significant digits that reads back
  /// as the same double.
  void value(double number);
  /// A number with `digits` significant digits (timings and the like).
  void number(double number, int digits);
  void null();

  /// The document; every array and object must be closed.
  const std::string& str() const;

 private:
  struct Level {
    bool object;
    bool inline_items;
    std::int64_t count;
  };
  void before_value();
  std::string text_;
  std::vector<Level> levels_;
  std::string pending_key_;
  bool has_key_ = false;
};

/// JSON string literal of `text`, quotes included (the writer's escaping).
std::string json_quote(const std::string& text);

/// A parsed JSON value.
struct JsonValue {
  enum class Type { null, boolean, number, string, array, object } type = Type::null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  /// The member `name` of an object, or nullptr.
  const JsonValue* find(const std::string& name) const;
};

/// Parses a complete JSON document (RFC 8259). Throws std::runtime_error with
/// the byte offset of the first error.
JsonValue parse_json(const std::string& text);

}  // namespace cuxplain::cli
