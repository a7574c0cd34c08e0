#include "proto/engineio/packet.hpp"

#include <gtest/gtest.h>

namespace relay::engineio {
namespace {

TEST(PacketType, DigitsBothWays) {
  const char* const names[] = {"open", "close", "ping", "pong", "message", "upgrade", "noop"};
  for (uint8_t i = 0; i < kPacketTypeCount; ++i) {
    const auto t = static_cast<packet_type>(i);
    EXPECT_EQ(to_char(t), static_cast<char>('0' + i));
    EXPECT_EQ(packet_type_from_char(to_char(t)), t);
    EXPECT_EQ(to_string(t), names[i]);
  }
}

TEST(PacketType, OtherCharactersAreNotTypes) {
  for (int c = 0; c < 256; ++c) {
    if (c >= '0' && c <= '6') continue;
    EXPECT_EQ(packet_type_from_char(static_cast<char>(c)), std::nullopt) << c;
  }
}

TEST(Packet, OwnedAndViewConvert) {
  const packet_ref r{packet_type::ping, false, "probe"};
  const packet p = packet::from(r);
  EXPECT_EQ(p.type, packet_type::ping);
  EXPECT_EQ(p.data, "probe");
  EXPECT_FALSE(p.binary);
  EXPECT_EQ(p.ref(), r);
}

}  // namespace
}  // namespace relay::engineio
