//===- Json.h - a small strict JSON reader and writer -----------*- C++ -*-===//
//
// Enough JSON (RFC 8259) for safetensors headers and the runtime's config
// files: a value tree, a strict parser, and a compact writer. Strict means
// the parser accepts exactly RFC 8259 (no comments, no trailing commas, no
// NaN, no leading zeros, no control characters in strings, valid UTF-8
// only) and additionally rejects duplicate object keys, which RFC 8259
// leaves undefined and which would make a header ambiguous.
//
// Numbers keep their source text, so integers beyond 2^53 (byte offsets in
// large files) are read exactly through `asInt64`.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FORMATS_JSON_H
#define UOE_FORMATS_JSON_H

#include "support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uoe::rt {

/// A JSON value: null, boolean, number, string, array or object. Objects
/// keep their members in source (or insertion) order. Value semantics
/// (copyable); thread-compatible.
class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  /// null.
  JsonValue() = default;
  static JsonValue boolean(bool value);
  /// A number; a non-finite `value` has no JSON form and gives null.
  static JsonValue number(double value);
  /// An integer number, kept exact.
  static JsonValue integer(int64_t value);
  static JsonValue string(std::string value);
  static JsonValue array(Array elements = {});
  static JsonValue object(Object members = {});

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isNumber() const { return kind_ == Kind::Number; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  // Accessors. Calling one on a value of another kind is a programming
  // error and aborts; check the kind first.
  bool asBool() const;
  /// The number as a double (nearest to the source text).
  double asDouble() const;
  /// The number if its source text is an integer (no fraction, no
  /// exponent) that fits in int64_t; nullopt otherwise, and for non-numbers.
  std::optional<int64_t> asInt64() const;
  /// The number's text as written in the source (or produced by `number` /
  /// `integer`).
  const std::string &numberText() const;
  const std::string &asString() const;
  const Array &asArray() const;
  Array &asArray();
  const Object &asObject() const;
  Object &asObject();

  /// The member of an object named `key`, or null if there is none or this
  /// is not an object.
  const JsonValue *find(std::string_view key) const;
  /// Sets member `key` of an object, replacing an existing one or
  /// appending. Aborts if this is not an object.
  void set(std::string key, JsonValue value);
  /// Appends to an array. Aborts if this is not an array.
  void push(JsonValue value);

private:
  friend class JsonParser;
  void requireKind(Kind kind) const;

  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0.0;
  std::string text_; // String contents, or the number's source text.
  Array array_;
  Object object_;
};

/// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF).
bool isValidUtf8(std::string_view text);

/// "null", "boolean", "number", "string", "array", "object".
const char *jsonKindName(JsonValue::Kind kind);

/// Parses `text` as one JSON value surrounded by optional whitespace.
/// InvalidArgument on any deviation from RFC 8259 (or a duplicate key, or
/// nesting deeper than 256), with a message like "line 3, column 14:
/// expected ':' after an object key". Thread-safe.
StatusOr<JsonValue> parseJson(std::string_view text);

/// The compact JSON text of `value` (no whitespace; members in order;
/// strings escaped with \" \\ \b \f \n \r \t and \u00XX for other control
/// characters; other characters written as UTF-8). Thread-safe.
std::string formatJson(const JsonValue &value);

} // namespace uoe::rt

#endif // UOE_FORMATS_JSON_H
