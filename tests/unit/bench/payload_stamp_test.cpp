#include "bench/payload_stamp.hpp"

#include <gtest/gtest.h>

#include <random>

namespace relay::bench {
namespace {

TEST(PayloadStamp, RoundTripsLow48Bits) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng();
    uint8_t s[kStampSize];
    encode_stamp(v, s);
    uint64_t back = 0;
    ASSERT_TRUE(decode_stamp(s, &back));
    EXPECT_EQ(back, v & kStampMask);
  }
}

TEST(PayloadStamp, IsPrintableAscii) {
  uint8_t s[kStampSize];
  encode_stamp(kStampMask, s);
  for (const uint8_t c : s) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_')
        << int{c};
  }
}

TEST(PayloadStamp, RejectsCharactersOutsideTheAlphabet) {
  uint8_t s[kStampSize];
  encode_stamp(123456789, s);
  for (const uint8_t bad : {uint8_t{'='}, uint8_t{' '}, uint8_t{0}, uint8_t{0xFF}}) {
    uint8_t t[kStampSize];
    std::copy(s, s + kStampSize, t);
    t[3] = bad;
    uint64_t v;
    EXPECT_FALSE(decode_stamp(t, &v));
  }
}

TEST(PayloadStamp, ElapsedSurvivesWrapAround) {
  const uint64_t sent = kStampMask - 10;  // just before the 48-bit wrap
  uint8_t s[kStampSize];
  encode_stamp(sent, s);
  uint64_t decoded;
  ASSERT_TRUE(decode_stamp(s, &decoded));
  const uint64_t now = (uint64_t{5} << 48) + 20;  // full monotonic value after the wrap
  EXPECT_EQ(stamp_elapsed(decoded, now), 31u);
}

}  // namespace
}  // namespace relay::bench
