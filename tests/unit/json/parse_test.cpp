#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <thread>

#include "relay/json.hpp"

namespace relay::json {
namespace {

value parsed(std::string_view text, parse_options options = {}) {
  auto v = parse(text, options);
  EXPECT_TRUE(v.has_value()) << text << ": " << (v ? "" : v.error().message);
  return v ? *v : value();
}

parse_errc error_of(std::string_view text, parse_options options = {}) {
  auto v = parse(text, options);
  EXPECT_FALSE(v.has_value()) << text << " parsed as " << (v ? to_string(*v) : "");
  return v ? parse_errc{} : v.error().code;
}

TEST(JsonParse, Scalars) {
  EXPECT_TRUE(parsed("null").is_null());
  EXPECT_EQ(parsed("true"), value(true));
  EXPECT_EQ(parsed("false"), value(false));
  EXPECT_EQ(parsed("\"x\""), value("x"));
  EXPECT_TRUE(parsed("0").is_int());
  EXPECT_TRUE(parsed("-0").is_int());  // JSON.stringify(-0) is "0" anyway
  EXPECT_TRUE(parsed("1.0").is_double());
  EXPECT_TRUE(parsed("1e2").is_double());
  EXPECT_EQ(parsed("1e2"), value(100));
  EXPECT_EQ(parsed("-1.5E-3").as_double(), -0.0015);
  EXPECT_EQ(parsed(" \t\r\n 7 \n"), value(7));
}

TEST(JsonParse, Int64Edges) {
  EXPECT_EQ(parsed("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parsed("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  // Beyond int64: doubles, as JavaScript reads every number.
  const value above = parsed("9223372036854775808");
  ASSERT_TRUE(above.is_double());
  EXPECT_EQ(above.as_double(), 9223372036854775808.0);
  const value below = parsed("-9223372036854775809");
  ASSERT_TRUE(below.is_double());
  EXPECT_EQ(below.as_double(), -9223372036854775808.0);
  EXPECT_TRUE(parsed("18446744073709551615").is_double());
  // A 21-character integer at the top level (simdjson 3.0.1 drops a digit of those).
  EXPECT_EQ(to_string(parsed("-21360356784908087000")), "-21360356784908087000");
  EXPECT_EQ(to_string(parsed("100000000000000000000")), "100000000000000000000");
  EXPECT_EQ(to_string(parsed("123456789012345678901234567890")), "1.2345678901234568e+29");
  EXPECT_EQ(parsed("9007199254740993").as_int(), 9007199254740993);  // exact, unlike JS
}

TEST(JsonParse, ZeroPaddedExponents) {
  // Valid JSON that simdjson 3.0.1 On-Demand refuses; JSON.parse reads [5,50,0.5,1e-323,150].
  EXPECT_EQ(to_string(parsed("[5e-00000000000000000000000,5e00000000000000000001,"
                             "5e-000000000000000000001,"
                             "1e-0000000000000000000000000000000000000000000000000000000000323,"
                             "1.5E+000000000000000000000000000002]")),
            "[5,50,0.5,1e-323,150]");
  EXPECT_EQ(to_string(parsed("5e00000000000000000001")), "50");
  EXPECT_EQ(to_string(parsed("[-0e000000000000000000000000001]")), "[0]");
  EXPECT_EQ(to_string(parsed("[1e-00000000000000000000000400,1e-99999999999999999999]")), "[0,0]");
  EXPECT_EQ(error_of("[1e00000000000000000000000400]"), parse_errc::invalid_number);
  EXPECT_EQ(error_of("[1e99999999999999999999]"), parse_errc::invalid_number);
  EXPECT_EQ(error_of("[1e0000000000000000000000x]"), parse_errc::invalid_number);
  EXPECT_EQ(to_string(parsed(R"({"a":5e-00000000000000000000000,"b":[1]})")), R"({"a":5,"b":[1]})");
}

TEST(JsonParse, Strings) {
  EXPECT_EQ(parsed(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parsed(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(parsed(R"("\u00e9\u20AC")").as_string(), "é€");
  EXPECT_EQ(parsed(R"("\ud83d\ude00")").as_string(), "😀");
  EXPECT_EQ(parsed("\"é€😀\"").as_string(), "é€😀");
}

TEST(JsonParse, RoundTrips) {
  // Compact JSON.stringify output parses and serializes back byte for byte.
  const char* texts[] = {
      "null",
      "[]",
      "{}",
      R"([1,-2,3.25,"x",null,true,false,[],{},[[[]]]])",
      R"({"b":1,"a":[{"z":null,"y":{"x":"w"}}],"":"empty key"})",
      R"(["hello",{"nested":[1,{"deeper":[2,3]}]}])",
      R"("\"\\\b\f\n\r\t\u0000\u001f é€😀")",
      R"([0.1,1e+21,1e-7,5e-324,1.7976931348623157e+308,123456789012345680000])",
      R"({"sid":"oSO0OpakMV_3jnilAAAA","upgrades":["websocket"],"pingInterval":25000})",
  };
  for (const char* t : texts) EXPECT_EQ(to_string(parsed(t)), t);
}

// Arrays inside arrays, wide and deep, in every order of growth: the parser collects elements on
// one stack that nested arrays grow under their parents (a dangling reference once).
TEST(JsonParse, NestedArraysOfManySizes) {
  value expected = array();
  std::string text = "[";
  for (int i = 0; i < 40; ++i) {
    value inner = array();
    std::string inner_text = "[";
    for (int j = 0; j <= i * 3; ++j) {
      value leaf(array{value(j), value(array{value(std::to_string(i))})});
      inner.push_back(leaf);
      inner_text += (j ? "," : "") + to_string(leaf);
    }
    inner_text += "]";
    expected.push_back(value(json::object{{"k", inner}}));
    text += (i ? ",{\"k\":" : "{\"k\":") + inner_text + "}";
  }
  text += "]";
  EXPECT_EQ(parsed(text), expected);
  EXPECT_EQ(to_string(parsed(text)), text);
}

TEST(JsonParse, NormalizesToJsonStringifyForm) {
  EXPECT_EQ(to_string(parsed(R"( { "a" : [ 1 , 2 ] , "b" : "\u0041\/" } )")),
            R"({"a":[1,2],"b":"A/"})");
  EXPECT_EQ(to_string(parsed("[1.0,1E3,-0.0,1e-7,100e-2]")), "[1,1000,0,1e-7,1]");
  EXPECT_EQ(to_string(parsed("[1e-400]")), "[0]");  // underflows to 0, as in JS
}

TEST(JsonParse, ObjectsKeepKeyOrder) {
  const value v = parsed(R"({"zeta":1,"alpha":2,"mid":3})");
  ASSERT_EQ(v.as_object().size(), 3u);
  EXPECT_EQ(v.as_object()[0].first, "zeta");
  EXPECT_EQ(v.as_object()[1].first, "alpha");
  EXPECT_EQ(v.as_object()[2].first, "mid");
}

TEST(JsonParse, DuplicateKeysAsJsonParse) {
  // JSON.parse keeps the first position and the last value.
  EXPECT_EQ(to_string(parsed(R"({"a":1,"b":2,"a":3})")), R"({"a":3,"b":2})");
  // Large objects switch to a hashed index: same result.
  std::string text = "{";
  for (int i = 0; i < 100; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += R"("k5":"five","k99":"last"})";
  const value v = parsed(text);
  EXPECT_EQ(v.size(), 100u);
  EXPECT_EQ(*v.find("k5"), value("five"));
  EXPECT_EQ(*v.find("k99"), value("last"));
  EXPECT_EQ(v.as_object()[5].first, "k5");
  EXPECT_EQ(v.as_object()[99].first, "k99");
}

TEST(JsonParse, DepthLimit) {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']');
  };
  EXPECT_TRUE(parse(nested(32)).has_value());
  EXPECT_EQ(error_of(nested(33)), parse_errc::too_deep);
  EXPECT_EQ(error_of(R"({"a":{"b":[1]}})", {.max_depth = 2}), parse_errc::too_deep);
  EXPECT_TRUE(parse(R"({"a":{"b":1}})", {.max_depth = 2}).has_value());
  EXPECT_TRUE(parse("1", {.max_depth = 0}).has_value());
  EXPECT_EQ(error_of("[]", {.max_depth = 0}), parse_errc::too_deep);
  // Deeper than simdjson's own limit: an error, not a crash.
  EXPECT_EQ(error_of(nested(5000), {.max_depth = 100000}), parse_errc::too_deep);
}

TEST(JsonParse, SizeLimit) {
  EXPECT_TRUE(parse("[1,2]", {.max_size = 5}).has_value());
  EXPECT_EQ(error_of("[1,2] ", {.max_size = 5}), parse_errc::too_large);
}

TEST(JsonParse, TrailingContent) {
  for (const char* t : {"1 2", "[1] x", "{} {}", "\"a\"x", "1,2", "1]", "[1]]", "nullx",
                        "true false", "{\"a\":1}}"}) {
    const parse_errc e = error_of(t);
    EXPECT_TRUE(e == parse_errc::trailing_content || e == parse_errc::syntax)
        << t << " -> " << static_cast<int>(e);
  }
  EXPECT_EQ(error_of("1 2"), parse_errc::trailing_content);
  EXPECT_EQ(error_of("[1] x"), parse_errc::trailing_content);
  EXPECT_EQ(error_of("1,2"), parse_errc::trailing_content);
}

TEST(JsonParse, InvalidUtf8) {
  for (std::string t : {"\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
                        "\"\xf4\x90\x80\x80\"", "[\"ok\",\"\xe2\x82\"]"}) {
    EXPECT_EQ(error_of(t), parse_errc::invalid_utf8) << t;
  }
  // Outside strings too.
  EXPECT_EQ(error_of("[1]\xff"), parse_errc::invalid_utf8);
}

TEST(JsonParse, Truncated) {
  for (const char* t : {"[", "[1", "[1,", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "\"abc", "tru",
                        "nul", "-", "1e", "1.", "[[[]]"}) {
    auto v = parse(t);
    EXPECT_FALSE(v.has_value()) << t;
  }
  EXPECT_EQ(error_of("\"abc"), parse_errc::syntax);
  EXPECT_EQ(error_of("1."), parse_errc::invalid_number);
}

TEST(JsonParse, SyntaxErrors) {
  EXPECT_EQ(error_of(""), parse_errc::empty);
  EXPECT_EQ(error_of(" \n\t "), parse_errc::empty);
  for (const char* t : {"[1,]",   "{\"a\":1,}", "{,}",       "{\"a\"}",   "{a:1}",  "[1 2]", "'x'",
                        "NaN",    "Infinity",   "undefined", "[01]",      ".5",     "+1",    "0x10",
                        "\"\t\"", "[1}",        "{]",        "{\"a\" 1}", "//c\n1", "TRUE"}) {
    auto v = parse(t);
    EXPECT_FALSE(v.has_value()) << t;
  }
  EXPECT_EQ(error_of("[1e400]"), parse_errc::invalid_number);      // JS: Infinity
  EXPECT_EQ(error_of(R"("\ud800")"), parse_errc::invalid_string);  // lone surrogate
  EXPECT_EQ(error_of(R"("\udc00\ud800")"), parse_errc::invalid_string);
  EXPECT_EQ(error_of(R"("\x")"), parse_errc::invalid_string);
}

TEST(JsonParse, ErrorsAreErrorCodes) {
  const std::error_code ec = parse_errc::too_deep;
  EXPECT_EQ(ec.category().name(), std::string("json"));
  EXPECT_EQ(ec.message(), "JSON nested too deeply");
  auto v = parse("[");
  ASSERT_FALSE(v.has_value());
  EXPECT_FALSE(v.error().message.empty());
}

TEST(JsonParse, LargeDocumentsUseTheirOwnParser) {
  // Above the per-thread retained size, and back to small ones afterwards.
  std::string big = "[";
  for (int i = 0; i < 150000; ++i) big += "\"abcdef\",";
  big += "1]";
  const value v = parsed(big);
  EXPECT_EQ(v.size(), 150001u);
  EXPECT_EQ(to_string(parsed("[1]")), "[1]");
}

TEST(JsonParse, ThreadsParseIndependently) {
  auto work = [] {
    for (int i = 0; i < 1000; ++i) {
      const std::string text = R"({"i":)" + std::to_string(i) + R"(,"s":["x","y"]})";
      auto v = parse(text);
      if (!v || to_string(*v) != text) ADD_FAILURE() << text;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
}

}  // namespace
}  // namespace relay::json
