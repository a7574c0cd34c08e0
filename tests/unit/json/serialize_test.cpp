#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "relay/json.hpp"

namespace relay::json {
namespace {

struct number_case {
  double x;
  const char* js;  // JSON.stringify(x) in Node 20
};

TEST(JsonSerialize, NumbersAsJavaScriptPrintsThem) {
  const number_case cases[] = {
      {0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {1.5, "1.5"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {0.1 + 0.7, "0.7999999999999999"},
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 3, "0.6666666666666666"},
      {100, "100"},
      {1e3, "1000"},
      {4.35, "4.35"},
      {1234.5678, "1234.5678"},
      {1e15 + 0.3, "1000000000000000.2"},
      {1e20, "100000000000000000000"},
      {1.2e20, "120000000000000000000"},
      {123456789012345680000.0, "123456789012345680000"},
      {1e21, "1e+21"},
      {1e100, "1e+100"},
      {-1e-100, "-1e-100"},
      {1e-6, "0.000001"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {123e-20, "1.23e-18"},
      {5e-324, "5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {9007199254740992.0, "9007199254740992"},  // 2**53
      {9007199254740994.0, "9007199254740994"},
      {9223372036854775808.0, "9223372036854776000"},    // 2**63
      {18446744073709551616.0, "18446744073709552000"},  // 2**64
      {144115188075855870.0, "144115188075855870"},
      {std::numeric_limits<double>::quiet_NaN(), "null"},
      {std::numeric_limits<double>::infinity(), "null"},
      {-std::numeric_limits<double>::infinity(), "null"},
  };
  for (const auto& c : cases) EXPECT_EQ(to_string(value(c.x)), c.js) << c.js;
}

TEST(JsonSerialize, IntegersInFull) {
  EXPECT_EQ(to_string(value(0)), "0");
  EXPECT_EQ(to_string(value(-42)), "-42");
  EXPECT_EQ(to_string(value(std::numeric_limits<int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(to_string(value(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
}

TEST(JsonSerialize, EscapesAsJsonStringify) {
  // JSON.stringify of the string of code units 0x00..0x7f, from Node 20.
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  EXPECT_EQ(to_string(value(all)),
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
            "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f !\\\"#$%&'()*+,-./0123456789:;<=>?@"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\"");
  // Non-ASCII, U+2028/U+2029 and '/' are written raw.
  EXPECT_EQ(to_string(value("é€😀\u2028\u2029</script>")), "\"é€😀\u2028\u2029</script>\"");
  EXPECT_EQ(to_string(value(std::string("a\0b", 3))), R"("a\u0000b")");
  EXPECT_EQ(to_string(value("")), R"("")");
  // Keys are escaped the same way.
  EXPECT_EQ(to_string(value(object{{"k\"\n", 1}})), R"({"k\"\n":1})");
}

// The writer skips clean 8-byte words: every byte value at every offset of long strings must
// still come out as the byte-by-byte rule says.
TEST(JsonSerialize, EscapesAtEveryOffsetOfLongStrings) {
  const auto reference = [](const std::string& in) {
    std::string out = "\"";
    for (unsigned char c : in) {
      static const char* kHex = "0123456789abcdef";
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
    }
    return out + "\"";
  };
  for (int c = 0; c < 256; ++c) {
    for (size_t len : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 33u}) {
      for (size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        ASSERT_EQ(to_string(value(s)), reference(s)) << "byte " << c << " at " << at << "/" << len;
      }
    }
  }
  std::string mixed;
  for (int i = 0; i < 1000; ++i) mixed += static_cast<char>((i * 37) % 256);
  EXPECT_EQ(to_string(value(mixed)), reference(mixed));
}

TEST(JsonSerialize, CompactContainers) {
  EXPECT_EQ(to_string(value(array{})), "[]");
  EXPECT_EQ(to_string(value(object{})), "{}");
  EXPECT_EQ(to_string(value(array{1, "two", nullptr, true, false, 1.5, array{}, object{}})),
            R"([1,"two",null,true,false,1.5,[],{}])");
  EXPECT_EQ(to_string(value(object{{"a", array{object{{"b", nullptr}}}}, {"c", "d"}})),
            R"({"a":[{"b":null}],"c":"d"})");
}

TEST(JsonSerialize, AppendsToOutput) {
  std::string out = "42";
  serialize(value(array{"x"}), out);
  EXPECT_EQ(out, R"(42["x"])");
}

TEST(JsonSerialize, BlobAsNodeBuffer) {
  // JSON.stringify(Buffer.from([1, 2, 255])) in Node.
  EXPECT_EQ(to_string(binary({1, 2, 255})), R"({"type":"Buffer","data":[1,2,255]})");
  EXPECT_EQ(to_string(binary({})), R"({"type":"Buffer","data":[]})");
  EXPECT_EQ(to_string(value(object{{"buf", binary({1, 2})}})),
            R"({"buf":{"type":"Buffer","data":[1,2]}})");
}

TEST(JsonSerialize, PlaceholdersInDepthFirstOrder) {
  const value b0 = binary({1}), b1 = binary({2}), b2 = binary({3}), b3 = binary({4});
  const value data = array{"x", object{{"a", array{b0, object{{"b", b1}}}}, {"c", b2}}, b3};
  std::string out;
  std::vector<binary_ptr> attachments;
  serialize_with_placeholders(data, out, attachments);
  // socket.io-parser's encoding of the same data (the Socket.IO text without "54-7").
  EXPECT_EQ(out, R"(["x",{"a":[{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}],)"
                 R"("c":{"_placeholder":true,"num":2}},{"_placeholder":true,"num":3}])");
  ASSERT_EQ(attachments.size(), 4u);
  EXPECT_EQ(attachments[0], b0.as_binary());  // shared, not copied
  EXPECT_EQ(attachments[1], b1.as_binary());
  EXPECT_EQ(attachments[2], b2.as_binary());
  EXPECT_EQ(attachments[3], b3.as_binary());
}

TEST(JsonSerialize, PlaceholderNumbersContinueExistingAttachments) {
  std::string out;
  std::vector<binary_ptr> attachments = {std::make_shared<const std::vector<uint8_t>>()};
  serialize_with_placeholders(value(array{binary({7})}), out, attachments);
  EXPECT_EQ(out, R"([{"_placeholder":true,"num":1}])");
  EXPECT_EQ(attachments.size(), 2u);
}

TEST(JsonSerialize, NoBlobsNoAttachments) {
  std::string out;
  std::vector<binary_ptr> attachments;
  serialize_with_placeholders(value(object{{"a", 1}}), out, attachments);
  EXPECT_EQ(out, R"({"a":1})");
  EXPECT_TRUE(attachments.empty());
}

}  // namespace
}  // namespace relay::json
