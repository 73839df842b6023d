//===- JsonTest.cpp - tests of the strict JSON parser and writer ----------===//
//
// Valid documents of every kind, exact large integers, escapes and UTF-8,
// and a table of malformed documents each rejected with its reason and
// position; then the writer, checked by exact text and by re-parsing.
//
//===----------------------------------------------------------------------===//

#include "formats/Json.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

namespace uoe::rt {
namespace {

using test::hasError;

JsonValue parseOk(std::string_view text) {
  StatusOr<JsonValue> value = parseJson(text);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status().toString();
  return value.ok() ? std::move(value).value() : JsonValue();
}

TEST(JsonTest, Scalars) {
  EXPECT_TRUE(parseOk("null").isNull());
  EXPECT_TRUE(parseOk(" true ").asBool());
  EXPECT_FALSE(parseOk("\tfalse\n").asBool());
  EXPECT_EQ(parseOk("0").asDouble(), 0.0);
  EXPECT_TRUE(std::signbit(parseOk("-0").asDouble()));
  EXPECT_EQ(parseOk("-12").asInt64(), -12);
  EXPECT_EQ(parseOk("1.5e3").asDouble(), 1500.0);
  EXPECT_EQ(parseOk("2E-2").asDouble(), 0.02);
  EXPECT_EQ(parseOk("0.1").asDouble(), 0.1);
  EXPECT_EQ(parseOk("\"hi\"").asString(), "hi");
  EXPECT_EQ(parseOk("\"\"").asString(), "");
}

TEST(JsonTest, IntegersStayExact) {
  // 2^53 + 1 is not a double; the source text keeps it.
  EXPECT_EQ(parseOk("9007199254740993").asInt64(), 9007199254740993LL);
  EXPECT_EQ(parseOk("9223372036854775807").asInt64(), INT64_MAX);
  EXPECT_EQ(parseOk("-9223372036854775808").asInt64(), INT64_MIN);
  EXPECT_EQ(parseOk("9223372036854775808").asInt64(), std::nullopt);
  EXPECT_EQ(parseOk("1.0").asInt64(), std::nullopt);
  EXPECT_EQ(parseOk("1e3").asInt64(), std::nullopt);
  EXPECT_EQ(parseOk("\"1\"").asInt64(), std::nullopt);
  EXPECT_EQ(parseOk("1e3").numberText(), "1e3");
}

TEST(JsonTest, TinyAndHugeNumbers) {
  EXPECT_EQ(parseOk("1e-400").asDouble(), 0.0);
  EXPECT_GT(parseOk("5e-324").asDouble(), 0.0); // Smallest subnormal.
  EXPECT_EQ(parseOk("1.7976931348623157e308").asDouble(),
            1.7976931348623157e308);
  EXPECT_TRUE(hasError(parseJson("1e400").status(), StatusCode::InvalidArgument,
                       {"too large"}));
  EXPECT_TRUE(hasError(parseJson("-1e400").status(),
                       StatusCode::InvalidArgument, {"too large"}));
}

TEST(JsonTest, ArraysAndObjectsKeepOrder) {
  JsonValue value =
      parseOk(R"({"z": [1, [2, []], {}], "a": {"k": null}, "m": "s"})");
  ASSERT_TRUE(value.isObject());
  const JsonValue::Object &members = value.asObject();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].first, "z");
  EXPECT_EQ(members[1].first, "a");
  EXPECT_EQ(members[2].first, "m");
  const JsonValue *z = value.find("z");
  ASSERT_NE(z, nullptr);
  ASSERT_EQ(z->asArray().size(), 3u);
  EXPECT_EQ(z->asArray()[1].asArray()[0].asInt64(), 2);
  EXPECT_TRUE(z->asArray()[1].asArray()[1].asArray().empty());
  EXPECT_TRUE(z->asArray()[2].asObject().empty());
  EXPECT_TRUE(value.find("a")->find("k")->isNull());
  EXPECT_EQ(value.find("missing"), nullptr);
  EXPECT_EQ(z->find("z"), nullptr); // Not an object.
}

TEST(JsonTest, StringEscapesAndUnicode) {
  EXPECT_EQ(parseOk(R"("a\"b\\c\/d\b\f\n\r\t")").asString(),
            "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parseOk(R"("\u0041\u00e9\u20AC")").asString(),
            "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").asString(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(parseOk(R"("\u0000")").asString(), std::string(1, '\0'));
  EXPECT_EQ(parseOk("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"").asString(),
            "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

TEST(JsonTest, RejectsMalformedDocuments) {
  struct Case {
    std::string text;
    const char *reason;
  };
  const Case cases[] = {
      {"", "expected a value, found end of input"},
      {"   ", "expected a value"},
      {"{", "expected a string key"},
      {"[1,]", "expected a value, found ']'"},
      {"{\"a\":1,}", "expected a string key, found '}'"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
      {"[1 2]", "expected ',' or ']'"},
      {"{a:1}", "expected a string key, found 'a'"},
      {"01", "leading zeros"},
      {"1.", "digit after the decimal point"},
      {".5", "expected a value, found '.'"},
      {"-", "expected a digit"},
      {"+1", "expected a value, found '+'"},
      {"1e", "digit in the exponent"},
      {"1e+", "digit in the exponent"},
      {"NaN", "expected a value"},
      {"Infinity", "expected a value"},
      {"-Infinity", "expected a digit"},
      {"tru", "invalid literal"},
      {"nul", "invalid literal"},
      {"'a'", "expected a value, found '''"},
      {"\"abc", "unterminated string"},
      {"\"a\\", "unterminated string"},
      {"\"a\\x\"", "invalid escape"},
      {"\"\\u12zz\"", "invalid hex digit"},
      {"\"\\u12", "truncated \\u escape"},
      {"\"\\ud800\"", "unpaired high surrogate"},
      {"\"\\ud800\\u0041\"", "not followed by a low surrogate"},
      {"\"\\udc00\"", "unpaired low surrogate"},
      {"\"a\nb\"", "unescaped control character"},
      {"\"\x7f\x01\"", "unescaped control character"},
      {"\"\xff\"", "invalid UTF-8"},
      {"\"\xc0\xaf\"", "invalid UTF-8"},         // Overlong '/'.
      {"\"\xe0\x80\xaf\"", "invalid UTF-8"},     // Overlong, 3 bytes.
      {"\"\xed\xa0\x80\"", "invalid UTF-8"},     // Encoded surrogate.
      {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"}, // Above U+10FFFF.
      {"\"\xe2\x82\"", "invalid UTF-8"},         // Truncated sequence.
      {"\"\x80\"", "invalid UTF-8"},             // Stray continuation.
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"1 2", "unexpected characters after the JSON value"},
      {"{} x", "unexpected characters"},
      {"// c\n1", "expected a value, found '/'"},
      {"\xef\xbb\xbf{}", "expected a value, found byte 0xef"}, // BOM.
      {std::string("[1]\0", 4), "unexpected characters"},
      {std::string(300, '[') + std::string(300, ']'),
       "nesting deeper than 256"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE("input: " + c.text);
    StatusOr<JsonValue> value = parseJson(c.text);
    EXPECT_TRUE(hasError(value.status(), StatusCode::InvalidArgument,
                         {"malformed JSON at line", c.reason}));
  }
}

TEST(JsonTest, DeepButAllowedNesting) {
  std::string text = std::string(200, '[') + std::string(200, ']');
  JsonValue value = parseOk(text);
  int depth = 0;
  const JsonValue *current = &value;
  while (current->isArray() && !current->asArray().empty()) {
    current = &current->asArray()[0];
    ++depth;
  }
  EXPECT_EQ(depth, 199);
}

TEST(JsonTest, ErrorPositionIsLineAndColumn) {
  EXPECT_TRUE(hasError(parseJson("{\n  \"a\" 1}").status(),
                       StatusCode::InvalidArgument, {"line 2, column 7"}));
  EXPECT_TRUE(hasError(parseJson("[1,\n2,\n\"x\",\n}]").status(),
                       StatusCode::InvalidArgument,
                       {"line 4, column 1", "found '}'"}));
  // Duplicate keys are reported at the second key.
  EXPECT_TRUE(hasError(parseJson("{\"k\": 1, \"k\": 2}").status(),
                       StatusCode::InvalidArgument, {"line 1, column 10"}));
}

TEST(JsonTest, FormatsCompactly) {
  JsonValue object = JsonValue::object();
  object.set("b", JsonValue::integer(-3));
  object.set("a", JsonValue::array({JsonValue::boolean(true), JsonValue(),
                                    JsonValue::number(0.5)}));
  object.set("s", JsonValue::string("q\"\\\n\x01\xc3\xa9"));
  object.set("b", JsonValue::integer(4)); // Replaces, keeps the position.
  EXPECT_EQ(formatJson(object),
            R"({"b":4,"a":[true,null,0.5],"s":"q\"\\\n\u0001)"
            "\xc3\xa9\"}");
  EXPECT_TRUE(JsonValue::number(std::nan("")).isNull());
  EXPECT_TRUE(JsonValue::number(INFINITY).isNull());
  EXPECT_EQ(formatJson(JsonValue::integer(INT64_MIN)), "-9223372036854775808");
  EXPECT_EQ(formatJson(JsonValue::number(1e-7)), "1e-07");
}

TEST(JsonTest, FormatThenParseRoundTrips) {
  const char *documents[] = {
      R"({"__metadata__":{"format":"pt"},)"
      R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
      R"([[],{},"",0,-1.25,true,false,null,"\u0001\t"])",
      R"({"nested":{"deeper":[{"x":18446744073709551616}]}})",
  };
  for (const char *document : documents) {
    JsonValue value = parseOk(document);
    std::string text = formatJson(value);
    EXPECT_EQ(text, document);
    EXPECT_EQ(formatJson(parseOk(text)), text);
  }
}

TEST(JsonTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_TRUE(isValidUtf8(std::string(1, '\0')));
  EXPECT_FALSE(isValidUtf8("\xc3"));
  EXPECT_FALSE(isValidUtf8("\xc1\xbf"));
  EXPECT_FALSE(isValidUtf8("\xed\xbf\xbf"));
  EXPECT_FALSE(isValidUtf8("\xf5\x80\x80\x80"));
}

TEST(JsonDeathTest, WrongKindAccessAborts) {
  JsonValue value = JsonValue::string("x");
  EXPECT_DEATH((void)value.asBool(), "is a string, not a boolean");
}

} // namespace
} // namespace uoe::rt
