//===- json_fuzzer.cpp - fuzzes the strict JSON parser --------------------===//
//
// The input is JSON text for parseJson (formats/Json.h), which reads
// safetensors headers and the runtime's config files. An error Status is
// fine; a crash, a sanitizer report, a leak or a timeout is a bug. A value
// parsed successfully is walked (every accessor of its kind) and must
// round-trip: formatJson's text parses again and formats to the same text.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "formats/Json.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace uoe;
using rt::JsonValue;

namespace {

uint64_t walk(const JsonValue &value) {
  uint64_t sum = static_cast<uint64_t>(value.kind());
  switch (value.kind()) {
  case JsonValue::Kind::Null:
    break;
  case JsonValue::Kind::Bool:
    sum += value.asBool();
    break;
  case JsonValue::Kind::Number: {
    double d = value.asDouble();
    sum += d == d;
    sum += value.asInt64().value_or(0) & 0xff;
    sum += value.numberText().size();
    break;
  }
  case JsonValue::Kind::String:
    sum += value.asString().size();
    break;
  case JsonValue::Kind::Array:
    for (const JsonValue &element : value.asArray())
      sum += walk(element);
    break;
  case JsonValue::Kind::Object:
    for (const JsonValue::Member &member : value.asObject()) {
      if (value.find(member.first) != &member.second) {
        std::fprintf(stderr, "find misses the member '%s'\n",
                     member.first.c_str());
        std::abort();
      }
      sum += member.first.size() + walk(member.second);
    }
    break;
  }
  return sum;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  uint64_t sum = rt::isValidUtf8(text);
  rt::StatusOr<JsonValue> value = rt::parseJson(text);
  fuzz::report("parseJson", value.status());
  if (!value.ok()) {
    fuzz::keep(sum + value.status().message().size());
    return 0;
  }
  sum += walk(*value) + std::string_view(rt::jsonKindName(value->kind())).size();
  std::string formatted = rt::formatJson(*value);
  rt::StatusOr<JsonValue> reparsed = rt::parseJson(formatted);
  if (!reparsed.ok()) {
    std::fprintf(stderr, "formatJson's output does not parse: %s\n%s\n",
                 reparsed.status().toString().c_str(), formatted.c_str());
    std::abort();
  }
  std::string again = rt::formatJson(*reparsed);
  if (again != formatted) {
    std::fprintf(stderr, "formatJson does not round-trip:\n%s\n%s\n",
                 formatted.c_str(), again.c_str());
    std::abort();
  }
  fuzz::keep(sum);
  return 0;
}
