//===- Json.cpp - a small strict JSON reader and writer -------------------===//
//
// A recursive-descent parser over the RFC 8259 grammar with a nesting
// limit (so hostile input cannot overflow the stack), and the writer.
// Numbers are converted with std::from_chars / std::to_chars, which unlike
// strtod / printf do not depend on the C locale.
//
//===----------------------------------------------------------------------===//

#include "formats/Json.h"

#include <charconv>
#include <cmath>
#include <unordered_set>

namespace uoe::rt {

//===----------------------------------------------------------------------===//
// JsonValue
//===----------------------------------------------------------------------===//

const char *jsonKindName(JsonValue::Kind kind) {
  switch (kind) {
  case JsonValue::Kind::Null:
    return "null";
  case JsonValue::Kind::Bool:
    return "boolean";
  case JsonValue::Kind::Number:
    return "number";
  case JsonValue::Kind::String:
    return "string";
  case JsonValue::Kind::Array:
    return "array";
  case JsonValue::Kind::Object:
    return "object";
  }
  return "unknown";
}

JsonValue JsonValue::boolean(bool value) {
  JsonValue result;
  result.kind_ = Kind::Bool;
  result.bool_ = value;
  return result;
}

JsonValue JsonValue::number(double value) {
  JsonValue result;
  if (!std::isfinite(value))
    return result;
  char buffer[64];
  std::to_chars_result end =
      std::to_chars(buffer, buffer + sizeof(buffer), value);
  result.kind_ = Kind::Number;
  result.number_ = value;
  result.text_.assign(buffer, end.ptr);
  return result;
}

JsonValue JsonValue::integer(int64_t value) {
  JsonValue result;
  result.kind_ = Kind::Number;
  result.number_ = static_cast<double>(value);
  result.text_ = std::to_string(value);
  return result;
}

JsonValue JsonValue::string(std::string value) {
  JsonValue result;
  result.kind_ = Kind::String;
  result.text_ = std::move(value);
  return result;
}

JsonValue JsonValue::array(Array elements) {
  JsonValue result;
  result.kind_ = Kind::Array;
  result.array_ = std::move(elements);
  return result;
}

JsonValue JsonValue::object(Object members) {
  JsonValue result;
  result.kind_ = Kind::Object;
  result.object_ = std::move(members);
  return result;
}

void JsonValue::requireKind(Kind kind) const {
  if (kind_ != kind)
    fatalUsageError(strCat("JSON value is a ", jsonKindName(kind_), ", not a ",
                           jsonKindName(kind)));
}

bool JsonValue::asBool() const {
  requireKind(Kind::Bool);
  return bool_;
}

double JsonValue::asDouble() const {
  requireKind(Kind::Number);
  return number_;
}

std::optional<int64_t> JsonValue::asInt64() const {
  if (kind_ != Kind::Number)
    return std::nullopt;
  int64_t value = 0;
  const char *begin = text_.data();
  const char *end = begin + text_.size();
  std::from_chars_result parsed = std::from_chars(begin, end, value);
  // The whole text must be the integer: "1.0" and "1e3" are not integers.
  if (parsed.ec != std::errc() || parsed.ptr != end)
    return std::nullopt;
  return value;
}

const std::string &JsonValue::numberText() const {
  requireKind(Kind::Number);
  return text_;
}

const std::string &JsonValue::asString() const {
  requireKind(Kind::String);
  return text_;
}

const JsonValue::Array &JsonValue::asArray() const {
  requireKind(Kind::Array);
  return array_;
}

JsonValue::Array &JsonValue::asArray() {
  requireKind(Kind::Array);
  return array_;
}

const JsonValue::Object &JsonValue::asObject() const {
  requireKind(Kind::Object);
  return object_;
}

JsonValue::Object &JsonValue::asObject() {
  requireKind(Kind::Object);
  return object_;
}

const JsonValue *JsonValue::find(std::string_view key) const {
  if (kind_ != Kind::Object)
    return nullptr;
  for (const Member &member : object_)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

void JsonValue::set(std::string key, JsonValue value) {
  requireKind(Kind::Object);
  for (Member &member : object_) {
    if (member.first == key) {
      member.second = std::move(value);
      return;
    }
  }
  object_.emplace_back(std::move(key), std::move(value));
}

void JsonValue::push(JsonValue value) {
  requireKind(Kind::Array);
  array_.push_back(std::move(value));
}

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

/// The length of the valid UTF-8 sequence starting at text[pos] (which
/// must be >= 0x80), or 0 if it is invalid: a stray continuation byte, a
/// truncated sequence, an overlong form, a surrogate, or > U+10FFFF.
static size_t utf8SequenceLength(std::string_view text, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  size_t length;
  uint32_t codePoint;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    codePoint = lead & 0x1fu;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    codePoint = lead & 0x0fu;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    codePoint = lead & 0x07u;
  } else {
    return 0; // Continuation byte, or 0xc0/0xc1/0xf5+ which are never valid.
  }
  if (pos + length > text.size())
    return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xc0u) != 0x80u)
      return 0;
    codePoint = (codePoint << 6) | (byte(pos + i) & 0x3fu);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (codePoint < kMinForLength[length] || codePoint > 0x10ffff ||
      (codePoint >= 0xd800 && codePoint <= 0xdfff))
    return 0;
  return length;
}

static void appendUtf8(std::string &out, uint32_t codePoint) {
  if (codePoint < 0x80) {
    out += static_cast<char>(codePoint);
  } else if (codePoint < 0x800) {
    out += static_cast<char>(0xc0 | (codePoint >> 6));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  } else if (codePoint < 0x10000) {
    out += static_cast<char>(0xe0 | (codePoint >> 12));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (codePoint >> 18));
    out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  }
}

bool isValidUtf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t length = utf8SequenceLength(text, pos);
    if (length == 0)
      return false;
    pos += length;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

static constexpr int kMaxDepth = 256;

/// The recursive-descent parser; a friend of JsonValue so that numbers keep
/// their source text.
class JsonParser {
public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  StatusOr<JsonValue> parseDocument() {
    skipWhitespace();
    UOE_ASSIGN_OR_RETURN(JsonValue value, parseValue(0));
    skipWhitespace();
    if (pos_ != text_.size())
      return error("unexpected characters after the JSON value");
    return value;
  }

private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }

  void skipWhitespace() {
    while (!atEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                        text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  /// An error at the current position, with a 1-based line and column
  /// (columns count bytes).
  Status error(std::string_view what) const { return errorAt(pos_, what); }
  Status errorAt(size_t pos, std::string_view what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return invalidArgumentError(strCat("malformed JSON at line ", line,
                                       ", column ", column, ": ", what));
  }

  /// Describes the character at the current position for error messages.
  std::string describeCurrent() const {
    if (atEnd())
      return "end of input";
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x7f)
      return strCat("'", static_cast<char>(c), "'");
    return strCat("byte 0x", "0123456789abcdef"[c >> 4],
                  "0123456789abcdef"[c & 15]);
  }

  StatusOr<JsonValue> parseValue(int depth) {
    if (depth > kMaxDepth)
      return error(strCat("nesting deeper than ", kMaxDepth, " levels"));
    switch (peek()) {
    case '{':
      return parseObject(depth);
    case '[':
      return parseArray(depth);
    case '"': {
      UOE_ASSIGN_OR_RETURN(std::string text, parseString());
      return JsonValue::string(std::move(text));
    }
    case 't':
      return parseKeyword("true", JsonValue::boolean(true));
    case 'f':
      return parseKeyword("false", JsonValue::boolean(false));
    case 'n':
      return parseKeyword("null", JsonValue());
    default:
      if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
        return parseNumber();
      return error(strCat("expected a value, found ", describeCurrent()));
    }
  }

  StatusOr<JsonValue> parseKeyword(std::string_view word, JsonValue value) {
    if (text_.substr(pos_, word.size()) != word)
      return error(strCat("invalid literal (expected '", word, "')"));
    pos_ += word.size();
    return value;
  }

  StatusOr<JsonValue> parseObject(int depth) {
    ++pos_; // '{'
    JsonValue result = JsonValue::object();
    JsonValue::Object &members = result.asObject();
    // A set, so that headers with thousands of keys stay linear.
    std::unordered_set<std::string> keys;
    skipWhitespace();
    if (peek() == '}') {
      ++pos_;
      return result;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"')
        return error(
            strCat("expected a string key, found ", describeCurrent()));
      size_t keyPos = pos_;
      UOE_ASSIGN_OR_RETURN(std::string key, parseString());
      if (!keys.insert(key).second)
        return errorAt(keyPos, strCat("duplicate key \"", key, "\""));
      skipWhitespace();
      if (peek() != ':')
        return error(strCat("expected ':' after an object key, found ",
                            describeCurrent()));
      ++pos_;
      skipWhitespace();
      UOE_ASSIGN_OR_RETURN(JsonValue value, parseValue(depth + 1));
      members.emplace_back(std::move(key), std::move(value));
      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return result;
      }
      return error(strCat("expected ',' or '}' in an object, found ",
                          describeCurrent()));
    }
  }

  StatusOr<JsonValue> parseArray(int depth) {
    ++pos_; // '['
    JsonValue result = JsonValue::array();
    skipWhitespace();
    if (peek() == ']') {
      ++pos_;
      return result;
    }
    while (true) {
      skipWhitespace();
      UOE_ASSIGN_OR_RETURN(JsonValue element, parseValue(depth + 1));
      result.push(std::move(element));
      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return result;
      }
      return error(
          strCat("expected ',' or ']' in an array, found ", describeCurrent()));
    }
  }

  /// Four hex digits of a \u escape.
  StatusOr<uint32_t> parseHex4() {
    if (text_.size() - pos_ < 4)
      return error("truncated \\u escape");
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) {
      char c = text_[pos_ + i];
      uint32_t digit;
      if (c >= '0' && c <= '9')
        digit = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        digit = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        digit = static_cast<uint32_t>(c - 'A' + 10);
      else
        return errorAt(pos_ + i, "invalid hex digit in a \\u escape");
      value = value * 16 + digit;
    }
    pos_ += 4;
    return value;
  }

  StatusOr<std::string> parseString() {
    ++pos_; // '"'
    std::string out;
    while (true) {
      if (atEnd())
        return error("unterminated string");
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20)
        return error("unescaped control character in a string");
      if (c >= 0x80) {
        size_t length = utf8SequenceLength(text_, pos_);
        if (length == 0)
          return error("invalid UTF-8 in a string");
        out.append(text_.substr(pos_, length));
        pos_ += length;
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      size_t escapePos = pos_;
      ++pos_;
      if (atEnd())
        return error("unterminated string");
      char escape = text_[pos_++];
      switch (escape) {
      case '"':
      case '\\':
      case '/':
        out += escape;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        UOE_ASSIGN_OR_RETURN(uint32_t unit, parseHex4());
        if (unit >= 0xdc00 && unit <= 0xdfff)
          return errorAt(escapePos, "unpaired low surrogate in a \\u escape");
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate must be followed by an escaped low surrogate;
          // together they encode one code point above U+FFFF.
          if (text_.substr(pos_, 2) != "\\u")
            return errorAt(escapePos,
                           "unpaired high surrogate in a \\u escape");
          pos_ += 2;
          UOE_ASSIGN_OR_RETURN(uint32_t low, parseHex4());
          if (low < 0xdc00 || low > 0xdfff)
            return errorAt(escapePos,
                           "high surrogate not followed by a low surrogate");
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        }
        appendUtf8(out, unit);
        break;
      }
      default:
        return errorAt(escapePos, "invalid escape sequence in a string");
      }
    }
  }

  StatusOr<JsonValue> parseNumber() {
    // Check the RFC 8259 grammar first (from_chars alone would accept
    // "01", "1.", ".5" variants and "inf"):
    //   number = [ "-" ] ( "0" / digit1-9 *digit ) [ "." 1*digit ]
    //            [ ( "e" / "E" ) [ "+" / "-" ] 1*digit ]
    size_t start = pos_;
    auto isDigit = [&](size_t i) {
      return i < text_.size() && text_[i] >= '0' && text_[i] <= '9';
    };
    size_t i = pos_;
    if (text_[i] == '-')
      ++i;
    if (!isDigit(i))
      return errorAt(i, "expected a digit in a number");
    if (text_[i] == '0') {
      ++i;
      if (isDigit(i))
        return errorAt(i, "leading zeros are not allowed in a number");
    } else {
      while (isDigit(i))
        ++i;
    }
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      if (!isDigit(i))
        return errorAt(i, "expected a digit after the decimal point");
      while (isDigit(i))
        ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      ++i;
      if (i < text_.size() && (text_[i] == '+' || text_[i] == '-'))
        ++i;
      if (!isDigit(i))
        return errorAt(i, "expected a digit in the exponent");
      while (isDigit(i))
        ++i;
    }
    std::string_view literal = text_.substr(start, i - start);
    double value = 0.0;
    std::from_chars_result parsed =
        std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (parsed.ec == std::errc::result_out_of_range) {
      // Too large for a double: RFC 8259 allows rejecting it. Tiny values
      // that underflow are accepted as the nearest double (zero or a
      // subnormal); libstdc++ reports those as out of range too.
      bool tiny = false;
      size_t e = literal.find_first_of("eE");
      if (e != std::string_view::npos && literal.size() > e + 1 &&
          literal[e + 1] == '-')
        tiny = true;
      if (!tiny)
        return errorAt(start, "number is too large for a double");
      value = literal[0] == '-' ? -0.0 : 0.0;
    } else if (parsed.ec != std::errc() ||
               parsed.ptr != literal.data() + literal.size()) {
      return errorAt(start, "invalid number");
    }
    pos_ = i;
    // Keep the source text, so that large integers stay exact.
    JsonValue result;
    result.kind_ = JsonValue::Kind::Number;
    result.number_ = value;
    result.text_ = std::string(literal);
    return result;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

static void appendQuoted(std::string &out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out += "0123456789abcdef"[(c >> 4) & 15];
        out += "0123456789abcdef"[c & 15];
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

static void appendJson(std::string &out, const JsonValue &value) {
  switch (value.kind()) {
  case JsonValue::Kind::Null:
    out += "null";
    return;
  case JsonValue::Kind::Bool:
    out += value.asBool() ? "true" : "false";
    return;
  case JsonValue::Kind::Number:
    out += value.numberText();
    return;
  case JsonValue::Kind::String:
    appendQuoted(out, value.asString());
    return;
  case JsonValue::Kind::Array: {
    out += '[';
    bool first = true;
    for (const JsonValue &element : value.asArray()) {
      if (!first)
        out += ',';
      first = false;
      appendJson(out, element);
    }
    out += ']';
    return;
  }
  case JsonValue::Kind::Object: {
    out += '{';
    bool first = true;
    for (const JsonValue::Member &member : value.asObject()) {
      if (!first)
        out += ',';
      first = false;
      appendQuoted(out, member.first);
      out += ':';
      appendJson(out, member.second);
    }
    out += '}';
    return;
  }
  }
}

std::string formatJson(const JsonValue &value) {
  std::string out;
  appendJson(out, value);
  return out;
}

StatusOr<JsonValue> parseJson(std::string_view text) {
  return JsonParser(text).parseDocument();
}

} // namespace uoe::rt
