#include "proto/engineio/base64.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace relay::engineio {
namespace {

std::string encode(std::string_view in, base64_alphabet a = base64_alphabet::standard) {
  std::string out;
  base64_encode(in, out, a);
  return out;
}

std::optional<std::string> decode(std::string_view in,
                                  base64_line_breaks b = base64_line_breaks::reject) {
  std::string out;
  if (!base64_decode(in, out, b)) return std::nullopt;
  return out;
}

// A plain bit-at-a-time encoder written from RFC 4648 §4, as the reference.
std::string reference_encode(std::string_view in) {
  static constexpr char kAbc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bits;
  for (const unsigned char c : in) {
    for (int i = 7; i >= 0; --i) bits.push_back((c >> i) & 1 ? '1' : '0');
  }
  while (bits.size() % 6 != 0) bits.push_back('0');
  std::string out;
  for (size_t i = 0; i < bits.size(); i += 6)
    out.push_back(kAbc[std::stoi(bits.substr(i, 6), nullptr, 2)]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

struct vector_case {
  std::string_view plain;
  std::string_view encoded;
};

// RFC 4648 §10.
constexpr vector_case kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64, Rfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(encode(v.plain), v.encoded) << v.plain;
    EXPECT_EQ(decode(v.encoded), std::string(v.plain)) << v.encoded;
    EXPECT_EQ(base64_encoded_size(v.plain.size()), v.encoded.size());
  }
}

TEST(Base64, EncodeAppends) {
  std::string out = "b";
  base64_encode("\x01\x02\x03\x04", out);
  EXPECT_EQ(out, "bAQIDBA==");
}

TEST(Base64, AllByteValuesMatchNode) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  // Buffer.from([0..255]).toString("base64") in Node 20.
  const std::string node =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQk"
      "NERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWG"
      "h4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIyc"
      "rLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
  EXPECT_EQ(encode(all), node);
  EXPECT_EQ(decode(node), all);
}

TEST(Base64, UrlAlphabet) {
  EXPECT_EQ(encode("\xfb\xff", base64_alphabet::standard), "+/8=");
  EXPECT_EQ(encode("\xfb\xff", base64_alphabet::url), "-_8=");
  // The decoder speaks the standard alphabet only.
  EXPECT_EQ(decode("-_8="), std::nullopt);
}

TEST(Base64, RandomRoundTripsAgainstReference) {
  std::mt19937 rng(4648);
  for (int i = 0; i < 2000; ++i) {
    std::string plain(rng() % 70, '\0');
    for (char& c : plain) c = static_cast<char>(rng());
    const std::string enc = encode(plain);
    ASSERT_EQ(enc, reference_encode(plain));
    ASSERT_EQ(decode(enc), plain);
  }
}

TEST(Base64, RejectsBadLength) {
  for (std::string_view s : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg="}) {
    EXPECT_EQ(decode(s), std::nullopt) << s;
  }
}

TEST(Base64, RejectsBadCharacters) {
  const std::string_view cases[] = {"Zm9v!A==", "Zm 9v", "Zm9v\t",  std::string_view("Zm\0v", 4),
                                    "Zm9\x80",  "Zm9v.", "Zg==\xff"};
  for (const std::string_view s : cases) EXPECT_EQ(decode(s), std::nullopt) << s;
}

TEST(Base64, RejectsBadPadding) {
  for (std::string_view s : {"====", "Z===", "=Zg=", "Zm=v",
                             "Zg==Zg==", "Zm8=Zm8=", "Zg===", "Zg=A", "Zm8==", "Zm9v===="}) {
    EXPECT_EQ(decode(s), std::nullopt) << s;
  }
}

TEST(Base64, RejectsNonZeroPadBits) {
  // RFC 4648 §3.5: "Zh==" and "Zm9=" carry bits past the last byte; only "Zg==" / "Zm8=" are
  // canonical.
  EXPECT_EQ(decode("Zh=="), std::nullopt);
  EXPECT_EQ(decode("Zm9="), std::nullopt);
  EXPECT_EQ(decode("Zg=="), "f");
  EXPECT_EQ(decode("Zm8="), "fo");
}

TEST(Base64, LineBreaksRejectedUnlessSkipped) {
  EXPECT_EQ(decode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(decode("Zg==\n"), std::nullopt);
  constexpr auto skip = base64_line_breaks::skip;
  EXPECT_EQ(decode("Zm9v\nYmFy", skip), "foobar");
  EXPECT_EQ(decode("Zg==\n", skip), "f");
  EXPECT_EQ(decode("Zm\r\n9vYg=\n=\r\n", skip), "foob");
  EXPECT_EQ(decode("\n", skip), "");
  // Only CR and LF: other whitespace and junk after the padding stay errors.
  EXPECT_EQ(decode("Zm9v YmFy", skip), std::nullopt);
  EXPECT_EQ(decode("Zg==\nA", skip), std::nullopt);
  EXPECT_EQ(decode("Zg\n=", skip), std::nullopt);
}

TEST(Base64, JavaClientWrappedLines) {
  // Android's Base64.encodeToString(bytes, DEFAULT): 76-character lines, each ending in '\n'.
  std::string plain(100, '\0');
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>(i * 7);
  const std::string flat = encode(plain);
  std::string wrapped;
  for (size_t i = 0; i < flat.size(); i += 76) wrapped += flat.substr(i, 76) + "\n";
  EXPECT_EQ(decode(wrapped, base64_line_breaks::skip), plain);
}

TEST(Base64, FailedDecodeLeavesOutputAlone) {
  std::string out = "prefix";
  EXPECT_FALSE(base64_decode("Zg=", out));
  EXPECT_EQ(out, "prefix");
  EXPECT_TRUE(base64_decode("Zg==", out));
  EXPECT_EQ(out, "prefixf");
}

TEST(Base64, RawBufferDecodeStaysWithinBound) {
  char buf[base64_max_decoded_size(8)];
  const std::optional<size_t> n = base64_decode("Zm9vYmE=", buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string_view(buf, *n), "fooba");
  EXPECT_EQ(base64_max_decoded_size(8), 6u);
}

}  // namespace
}  // namespace relay::engineio
