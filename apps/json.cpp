#include "json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace cuxplain::cli {
namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
/// (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t length = 0;
  std::uint32_t code = 0, min = 0;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) length = 2, code = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0) length = 3, code = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0) length = 4, code = b0 & 0x07, min = 0x10000;
  else return 0;
  if (i + length > s.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  JsonValue document() {
    JsonValue value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the document");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at byte " + std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (text_.compare(pos_, w.size(), w) == 0) {
      pos_ += w.size();
      return true;
    }
    return false;
  }

  JsonValue parse_value(int depth) {
    if (depth > 512) fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    JsonValue value;
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      value.type = JsonValue::Type::object;
      if (consume('}')) return value;
      do {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string key");
        std::string name = parse_string();
        expect(':');
        value.object.emplace_back(std::move(name), parse_value(depth + 1));
      } while (consume(','));
      expect('}');
    } else if (c == '[') {
      ++pos_;
      value.type = JsonValue::Type::array;
      if (consume(']')) return value;
      do {
        value.array.push_back(parse_value(depth + 1));
      } while (consume(','));
      expect(']');
    } else if (c == '"') {
      value.type = JsonValue::Type::string;
      value.string = parse_string();
    } else if (literal("true")) {
      value.type = JsonValue::Type::boolean;
      value.boolean = true;
    } else if (literal("false")) {
      value.type = JsonValue::Type::boolean;
    } else if (literal("null")) {
      value.type = JsonValue::Type::null;
    } else {
      value.type = JsonValue::Type::number;
      value.number = parse_number();
    }
    return value;
  }

  double parse_number() {
    const std::size_t begin = pos_;
    const auto digits = [&] {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - start;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      fail("invalid value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) fail("digits expected after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("digits expected in the exponent");
    }
    return std::strtod(text_.substr(begin, pos_ - begin).c_str(), nullptr);
  }

  std::uint32_t hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    std::uint32_t code = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<std::uint32_t>(h - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return code;
  }

  std::string parse_string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        const std::size_t length = utf8_sequence(text_, pos_);
        if (length == 0) fail("invalid UTF-8");
        out.append(text_, pos_, length);
        pos_ += length;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t code = hex4();
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (!literal("\\u")) fail("unpaired surrogate");
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("unpaired surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code <= 0xDFFF) {
            fail("unpaired surrogate");
          }
          append_utf8(out, code);
          break;
        }
        default: fail(std::string("invalid escape \\") + e);
      }
    }
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text, i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

void JsonWriter::before_value() {
  if (levels_.empty()) {
    if (!text_.empty()) throw std::logic_error("JsonWriter: one document, one top-level value");
    return;
  }
  Level& level = levels_.back();
  if (level.object && !has_key_) throw std::logic_error("JsonWriter: a value without a key");
  if (!level.object && has_key_) throw std::logic_error("JsonWriter: a key inside an array");
  if (level.count > 0) text_ += ',';
  if (level.inline_items) {
    if (level.count > 0) text_ += ' ';
  } else {
    text_ += '\n';
    text_.append(2 * levels_.size(), ' ');
  }
  if (level.object) {
    text_ += json_quote(pending_key_);
    text_ += ": ";
  }
  has_key_ = false;
  ++level.count;
}

void JsonWriter::begin_object() {
  before_value();
  text_ += '{';
  const bool inline_items = !levels_.empty() && levels_.back().inline_items;
  levels_.push_back({true, inline_items, 0});
}

void JsonWriter::begin_array(bool inline_items) {
  before_value();
  text_ += '[';
  inline_items = inline_items || (!levels_.empty() && levels_.back().inline_items);
  levels_.push_back({false, inline_items, 0});
}

void JsonWriter::end_object() {
  if (levels_.empty() || !levels_.back().object || has_key_) {
    throw std::logic_error("JsonWriter: end_object without an open object");
  }
  const Level level = levels_.back();
  levels_.pop_back();
  if (level.count > 0 && !level.inline_items) {
    text_ += '\n';
    text_.append(2 * levels_.size(), ' ');
  }
  text_ += '}';
  if (levels_.empty()) text_ += '\n';
}

void JsonWriter::end_array() {
  if (levels_.empty() || levels_.back().object) {
    throw std::logic_error("JsonWriter: end_array without an open array");
  }
  const Level level = levels_.back();
  levels_.pop_back();
  if (level.count > 0 && !level.inline_items) {
    text_ += '\n';
    text_.append(2 * levels_.size(), ' ');
  }
  text_ += ']';
  if (levels_.empty()) text_ += '\n';
}

void JsonWriter::key(const std::string& name) {
  if (levels_.empty() || !levels_.back().object || has_key_) {
    throw std::logic_error("JsonWriter: key outside an object");
  }
  pending_key_ = name;
  has_key_ = true;
}

void JsonWriter::value(const std::string& text) {
  before_value();
  text_ += json_quote(text);
}

void JsonWriter::value(const char* text) { value(std::string(text)); }

void JsonWriter::value(bool flag) {
  before_value();
  text_ += flag ? "true" : "false";
}

void JsonWriter::value(std::int64_t number) {
  before_value();
  text_ += std::to_string(number);
}

void JsonWriter::value(std::uint64_t number) {
  before_value();
  text_ += std::to_string(number);
}

void JsonWriter::number(double number, int digits) {
  if (!std::isfinite(number)) {
    throw std::runtime_error("scores.json: the value of \"" + pending_key_ +
                             "\" is not finite (" + std::to_string(number) + ")");
  }
  before_value();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, number);
  text_ += buffer;
}

void JsonWriter::value(float number) {
  // The shortest form that reads back as the same float (at most 9 digits).
  int digits = 6;
  for (; digits < 9; ++digits) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, static_cast<double>(number));
    if (std::strtof(buffer, nullptr) == number) break;
  }
  this->number(number, digits);
}

void JsonWriter::value(double number) {
  int digits = 15;
  for (; digits < 17; ++digits) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, number);
    if (std::strtod(buffer, nullptr) == number) break;
  }
  this->number(number, digits);
}

void JsonWriter::null() {
  before_value();
  text_ += "null";
}

const std::string& JsonWriter::str() const {
  if (!levels_.empty()) throw std::logic_error("JsonWriter: the document is not closed");
  return text_;
}

const JsonValue* JsonValue::find(const std::string& name) const {
  for (const auto& [member, value] : object) {
    if (member == name) return &value;
  }
  return nullptr;
}

JsonValue parse_json(const std::string& text) { return Parser(text).document(); }

}  // namespace cuxplain::cli
