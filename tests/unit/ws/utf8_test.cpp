#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace relay::ws {
namespace {

using bytes = std::vector<uint8_t>;

// A deliberately plain decoder written from RFC 3629 §3/§4, used as the reference: decode
// each sequence, then reject overlongs, surrogates and values above U+10FFFF.
bool reference_valid(const bytes& s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = s[i];
    size_t n;
    uint32_t cp;
    uint32_t min;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool validate_split(const bytes& s, size_t at) {
  utf8_validator v;
  const bool a = v.feed(s.data(), at);
  const bool b = v.feed(s.data() + at, s.size() - at);
  EXPECT_EQ(!(a && b), v.failed());
  return a && b && v.complete();
}

// Index of the byte at which a byte-by-byte feed first fails, if any.
std::optional<size_t> fail_position(const bytes& s) {
  utf8_validator v;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!v.feed(&s[i], 1)) return i;
  }
  return std::nullopt;
}

bytes b(std::initializer_list<int> v) {
  bytes out;
  for (int x : v) out.push_back(static_cast<uint8_t>(x));
  return out;
}

bytes s(std::string_view v) { return bytes(v.begin(), v.end()); }

TEST(Utf8, ReferenceDecoderSanity) {
  // The reference itself must agree with hand-checked cases, or the comparisons below prove
  // nothing.
  EXPECT_TRUE(reference_valid(b({0xE2, 0x82, 0xAC})));
  EXPECT_FALSE(reference_valid(b({0xE2, 0x82})));
  EXPECT_FALSE(reference_valid(b({0xC0, 0x80})));
  EXPECT_FALSE(reference_valid(b({0xED, 0xA0, 0x80})));
  EXPECT_FALSE(reference_valid(b({0xF4, 0x90, 0x80, 0x80})));
  EXPECT_TRUE(reference_valid(b({0xF4, 0x8F, 0xBF, 0xBF})));
}

struct valid_case {
  const char* name;
  bytes input;
};

TEST(Utf8, ValidSequences) {
  const std::vector<valid_case> cases = {
      {"empty", {}},
      {"ascii", s("Hello, world! 0123456789 ~\x7f")},
      {"nul", b({0x00})},
      {"2-byte min U+0080", b({0xC2, 0x80})},
      {"2-byte max U+07FF", b({0xDF, 0xBF})},
      {"3-byte min U+0800", b({0xE0, 0xA0, 0x80})},
      {"3-byte E1", b({0xE1, 0x80, 0x80})},
      {"3-byte before surrogates U+D7FF", b({0xED, 0x9F, 0xBF})},
      {"3-byte after surrogates U+E000", b({0xEE, 0x80, 0x80})},
      {"3-byte max U+FFFF", b({0xEF, 0xBF, 0xBF})},
      {"BOM U+FEFF", b({0xEF, 0xBB, 0xBF})},
      {"4-byte min U+10000", b({0xF0, 0x90, 0x80, 0x80})},
      {"4-byte F1", b({0xF1, 0x80, 0x80, 0x80})},
      {"4-byte F3 max", b({0xF3, 0xBF, 0xBF, 0xBF})},
      {"4-byte F4 min", b({0xF4, 0x80, 0x80, 0x80})},
      {"4-byte max U+10FFFF", b({0xF4, 0x8F, 0xBF, 0xBF})},
      // Autobahn 6.2.x: "Hello-µ@ßöäüàá-UTF-8!!" and 6.5.x "κόσμε".
      {"autobahn 6.2",
       s("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!")},
      {"kosme", s("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")},
      {"emoji", s("\xf0\x9f\x98\x80 ok \xf0\x9f\x91\x8d")},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(reference_valid(c.input));
    EXPECT_TRUE(is_valid_utf8(c.input.data(), c.input.size()));
    utf8_validator v;
    EXPECT_TRUE(v.feed(c.input.data(), c.input.size()));
    EXPECT_TRUE(v.complete());
    EXPECT_FALSE(v.failed());
    for (size_t at = 0; at <= c.input.size(); ++at) EXPECT_TRUE(validate_split(c.input, at)) << at;
  }
}

struct invalid_case {
  const char* name;
  bytes input;
  size_t fails_at;  // the first byte that proves the input invalid
};

TEST(Utf8, InvalidSequencesFailAtTheOffendingByte) {
  const std::vector<invalid_case> cases = {
      {"lone continuation 80", b({0x80}), 0},
      {"lone continuation BF", b({0x41, 0xBF}), 1},
      {"overlong 2-byte C0 80", b({0xC0, 0x80}), 0},
      {"overlong 2-byte C1 BF", b({0xC1, 0xBF}), 0},
      {"overlong 3-byte E0 80 80", b({0xE0, 0x80, 0x80}), 1},
      {"overlong 3-byte E0 9F BF", b({0xE0, 0x9F, 0xBF}), 1},
      {"overlong 4-byte F0 80 80 80", b({0xF0, 0x80, 0x80, 0x80}), 1},
      {"overlong 4-byte F0 8F BF BF", b({0xF0, 0x8F, 0xBF, 0xBF}), 1},
      {"surrogate ED A0 80 (U+D800)", b({0xED, 0xA0, 0x80}), 1},
      {"surrogate ED AF BF (U+DBFF)", b({0xED, 0xAF, 0xBF}), 1},
      {"surrogate ED B0 80 (U+DC00)", b({0xED, 0xB0, 0x80}), 1},
      {"surrogate ED BF BF (U+DFFF)", b({0xED, 0xBF, 0xBF}), 1},
      {"surrogate pair", b({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), 1},
      {"above U+10FFFF F4 90 80 80", b({0xF4, 0x90, 0x80, 0x80}), 1},
      {"F5", b({0xF5, 0x80, 0x80, 0x80}), 0},
      {"F7", b({0xF7, 0xBF, 0xBF, 0xBF}), 0},
      {"F8 5-byte", b({0xF8, 0x88, 0x80, 0x80, 0x80}), 0},
      {"FC 6-byte", b({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}), 0},
      {"FE", b({0xFE}), 0},
      {"FF", b({0xFF}), 0},
      {"2-byte lead then ASCII", b({0xC2, 0x41}), 1},
      {"3-byte lead then ASCII", b({0xE1, 0x80, 0x41}), 2},
      {"4-byte lead then lead", b({0xF1, 0x80, 0x80, 0xC2}), 3},
      {"too many continuations", b({0xC2, 0x80, 0x80}), 2},
      // Autobahn 6.3.1: "κόσμε" with an embedded surrogate (U+DFFF) ...
      {"autobahn 6.3.1",
       s("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"), 12},
      // ... and 6.4.1's code point above U+10FFFF in the middle of valid text.
      {"autobahn 6.4.1",
       s("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64"),
       12},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(reference_valid(c.input));
    EXPECT_FALSE(is_valid_utf8(c.input.data(), c.input.size()));
    EXPECT_EQ(fail_position(c.input), c.fails_at);
    utf8_validator v;
    EXPECT_FALSE(v.feed(c.input.data(), c.input.size()));
    EXPECT_TRUE(v.failed());
    EXPECT_FALSE(v.complete());
    // Once failed, it stays failed, even on valid input.
    const uint8_t a = 'a';
    EXPECT_FALSE(v.feed(&a, 1));
    EXPECT_TRUE(v.failed());
    for (size_t at = 0; at <= c.input.size(); ++at) EXPECT_FALSE(validate_split(c.input, at)) << at;
  }
}

TEST(Utf8, TruncatedSequencesAreIncompleteNotFailed) {
  const std::vector<bytes> cases = {
      b({0xC2}),       b({0xDF}),       b({0xE0, 0xA0}),       b({0xE1}),
      b({0xED, 0x9F}), b({0xF0, 0x90}), b({0xF1, 0x80, 0x80}), b({0xF4, 0x8F, 0xBF}),
      b({0x41, 0xF4}),
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c));
    utf8_validator v;
    EXPECT_TRUE(v.feed(c.data(), c.size()));  // still a valid prefix: no error yet
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(is_valid_utf8(c.data(), c.size()));
    EXPECT_FALSE(reference_valid(c));
  }
}

TEST(Utf8, EveryCodePointSplitAtEveryByte) {
  utf8_validator whole;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    bytes e;
    if (cp < 0x80) {
      e = {static_cast<uint8_t>(cp)};
    } else if (cp < 0x800) {
      e = {static_cast<uint8_t>(0xC0 | cp >> 6), static_cast<uint8_t>(0x80 | (cp & 0x3F))};
    } else if (cp < 0x10000) {
      e = {static_cast<uint8_t>(0xE0 | cp >> 12), static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
           static_cast<uint8_t>(0x80 | (cp & 0x3F))};
    } else {
      e = {static_cast<uint8_t>(0xF0 | cp >> 18), static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
           static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
           static_cast<uint8_t>(0x80 | (cp & 0x3F))};
    }
    utf8_validator v;
    for (uint8_t byte : e) ASSERT_TRUE(v.feed(&byte, 1)) << std::hex << cp;
    ASSERT_TRUE(v.complete()) << std::hex << cp;
    ASSERT_TRUE(whole.feed(e.data(), e.size())) << std::hex << cp;
  }
  EXPECT_TRUE(whole.complete());
}

TEST(Utf8, MatchesReferenceOnAllShortInputs) {
  // Every 1- and 2-byte string, and every 3-byte string starting with a 3-byte lead.
  bytes in(3);
  for (unsigned x = 0; x < 256; ++x) {
    in.assign({static_cast<uint8_t>(x)});
    ASSERT_EQ(is_valid_utf8(in.data(), 1), reference_valid(in)) << x;
    for (unsigned y = 0; y < 256; ++y) {
      in.assign({static_cast<uint8_t>(x), static_cast<uint8_t>(y)});
      ASSERT_EQ(is_valid_utf8(in.data(), 2), reference_valid(in)) << x << ' ' << y;
    }
  }
  for (unsigned x = 0xE0; x <= 0xEF; ++x) {
    for (unsigned y = 0; y < 256; ++y) {
      for (unsigned z = 0; z < 256; ++z) {
        in.assign({static_cast<uint8_t>(x), static_cast<uint8_t>(y), static_cast<uint8_t>(z)});
        ASSERT_EQ(is_valid_utf8(in.data(), 3), reference_valid(in)) << x << ' ' << y << ' ' << z;
      }
    }
  }
  // 4-byte leads (and the invalid F5..FF) with every second byte and boundary tails.
  const uint8_t tails[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF};
  in.resize(4);
  for (unsigned x = 0xF0; x <= 0xFF; ++x) {
    for (unsigned y = 0; y < 256; ++y) {
      for (uint8_t z : tails) {
        for (uint8_t w : tails) {
          in.assign({static_cast<uint8_t>(x), static_cast<uint8_t>(y), z, w});
          ASSERT_EQ(is_valid_utf8(in.data(), 4), reference_valid(in))
              << x << ' ' << y << ' ' << int{z} << ' ' << int{w};
        }
      }
    }
  }
}

TEST(Utf8, MatchesReferenceOnRandomStrings) {
  // Bytes drawn mostly from the interesting ranges, so valid multi-byte runs are common.
  std::mt19937 rng(6455);
  const uint8_t pool[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                          0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                          0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  size_t valid = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    bytes in(rng() % 12);
    for (auto& x : in) x = pool[rng() % sizeof pool];
    const bool expect = reference_valid(in);
    valid += expect;
    ASSERT_EQ(is_valid_utf8(in.data(), in.size()), expect) << testing::PrintToString(in);
    const size_t at = in.empty() ? 0 : rng() % (in.size() + 1);
    ASSERT_EQ(validate_split(in, at), expect) << testing::PrintToString(in) << " at " << at;
  }
  EXPECT_GT(valid, 1000u);  // the generator really produces valid multi-byte input
}

TEST(Utf8, AsciiFastPathFindsABadByteAtEveryOffset) {
  // Long ASCII runs go through the word-at-a-time path: a single bad byte (or a valid
  // multi-byte character) at any offset and alignment must still be seen.
  for (size_t len = 1; len <= 80; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      bytes in(len, 'a');
      in[pos] = 0x80;
      ASSERT_FALSE(is_valid_utf8(in.data(), in.size())) << len << ' ' << pos;
      ASSERT_EQ(fail_position(in), pos);
      in[pos] = 0xFF;
      ASSERT_FALSE(is_valid_utf8(in.data(), in.size())) << len << ' ' << pos;
      if (pos + 1 < len) {
        in[pos] = 0xC3;
        in[pos + 1] = 0xA9;  // é
        ASSERT_TRUE(is_valid_utf8(in.data(), in.size())) << len << ' ' << pos;
        in[pos + 1] = 'a';  // é cut short by ASCII
        ASSERT_FALSE(is_valid_utf8(in.data(), in.size())) << len << ' ' << pos;
      }
    }
    bytes in(len, 'a');
    ASSERT_TRUE(is_valid_utf8(in.data(), in.size()));
    // A truncated lead at the very end after a long ASCII run.
    in.back() = 0xE2;
    utf8_validator v;
    ASSERT_TRUE(v.feed(in.data(), in.size()));
    ASSERT_FALSE(v.complete());
  }
}

TEST(Utf8, ResetClearsFailureAndPartialSequence) {
  utf8_validator v;
  const uint8_t bad = 0xFF;
  EXPECT_FALSE(v.feed(&bad, 1));
  v.reset();
  EXPECT_FALSE(v.failed());
  EXPECT_TRUE(v.complete());
  const uint8_t lead = 0xE2;
  EXPECT_TRUE(v.feed(&lead, 1));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  const uint8_t cont = 0x82;
  EXPECT_FALSE(v.feed(&cont, 1));  // no longer inside a sequence
}

TEST(Utf8, StringViewOverload) {
  EXPECT_TRUE(is_valid_utf8(std::string_view("caf\xc3\xa9")));
  EXPECT_FALSE(is_valid_utf8(std::string_view("caf\xc3")));
  EXPECT_TRUE(is_valid_utf8(std::string_view()));
}

}  // namespace
}  // namespace relay::ws
