#include "proto/engineio/ws_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relay::engineio {
namespace {

TEST(WsCodec, DecodesEveryTextType) {
  for (uint8_t i = 0; i < kPacketTypeCount; ++i) {
    const auto t = static_cast<packet_type>(i);
    const std::string frame = std::string(1, to_char(t)) + "data";
    const auto p = decode_ws_text(frame);
    ASSERT_TRUE(p) << frame;
    EXPECT_EQ(*p, (packet_ref{t, false, "data"}));
    const auto bare = decode_ws_text(frame.substr(0, 1));
    ASSERT_TRUE(bare);
    EXPECT_EQ(*bare, (packet_ref{t, false, ""}));
  }
}

TEST(WsCodec, DecodesSpecExamples) {
  EXPECT_EQ(decode_ws_text("4hello"), (packet_ref{packet_type::message, false, "hello"}));
  EXPECT_EQ(decode_ws_text("2probe"), (packet_ref{packet_type::ping, false, "probe"}));
  EXPECT_EQ(decode_ws_text("3probe"), (packet_ref{packet_type::pong, false, "probe"}));
  EXPECT_EQ(decode_ws_text("5"), (packet_ref{packet_type::upgrade, false, ""}));
  // The data is everything after the digit, separators and all.
  EXPECT_EQ(decode_ws_text("4a\x1e"
                           "4b"),
            (packet_ref{packet_type::message, false,
                        "a\x1e"
                        "4b"}));
}

TEST(WsCodec, DecodeViewsTheFrame) {
  const std::string frame = "4hello";
  const auto p = decode_ws_text(frame);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->data.data(), frame.data() + 1);
}

TEST(WsCodec, TextErrors) {
  EXPECT_EQ(decode_ws_text("").error(), error::empty_packet);
  EXPECT_EQ(decode_ws_text("7").error(), error::bad_packet_type);
  EXPECT_EQ(decode_ws_text("x4").error(), error::bad_packet_type);
  EXPECT_EQ(decode_ws_text("/").error(), error::bad_packet_type);
  EXPECT_EQ(decode_ws_text(" 4").error(), error::bad_packet_type);
  // Without a place to decode into, base64 frames are refused.
  EXPECT_EQ(decode_ws_text("bAQI=").error(), error::bad_packet_type);
}

TEST(WsCodec, Base64TextFrames) {
  std::string scratch = "old contents";
  const auto p = decode_ws_text("bAQI=", &scratch);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (packet_ref{packet_type::message, true, "\x01\x02"}));
  EXPECT_EQ(p->data.data(), scratch.data());
  const auto empty = decode_ws_text("b", &scratch);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, (packet_ref{packet_type::message, true, ""}));
  EXPECT_EQ(decode_ws_text("bAQI", &scratch).error(), error::bad_base64);
  EXPECT_EQ(decode_ws_text("b!!!!", &scratch).error(), error::bad_base64);
  // Text frames still decode normally when a scratch is given.
  EXPECT_EQ(decode_ws_text("4hi", &scratch), (packet_ref{packet_type::message, false, "hi"}));
}

TEST(WsCodec, BinaryFramesAreMessagesAsIs) {
  const std::string frame("\x00\x01\xff", 3);
  EXPECT_EQ(decode_ws_binary(frame), (packet_ref{packet_type::message, true, frame}));
  EXPECT_EQ(decode_ws_binary(""), (packet_ref{packet_type::message, true, ""}));
  // A leading digit is data, not a type.
  EXPECT_EQ(decode_ws_binary("4x").data, "4x");
}

TEST(WsCodec, EncodesEveryTextType) {
  for (uint8_t i = 0; i < kPacketTypeCount; ++i) {
    const auto t = static_cast<packet_type>(i);
    std::string out = "keep:";
    encode_ws_text(t, "probe", out);
    EXPECT_EQ(out, std::string("keep:") + to_char(t) + "probe");
    EXPECT_EQ(decode_ws_text(std::string_view(out).substr(5)), (packet_ref{t, false, "probe"}));
  }
  std::string bare;
  encode_ws_text(packet_type::noop, "", bare);
  EXPECT_EQ(bare, "6");
}

TEST(WsCodec, EncodePicksTheFrameKind) {
  std::string out;
  EXPECT_EQ(encode_ws({packet_type::ping, false, "probe"}, out), ws_frame_kind::text);
  EXPECT_EQ(out, "2probe");  // engine.io-parser encodePacket(ping "probe", supportsBinary)

  out.clear();
  EXPECT_EQ(encode_ws({packet_type::message, true, "\x01\x02"}, out), ws_frame_kind::binary);
  EXPECT_EQ(out, "\x01\x02");  // raw bytes, no prefix

  out.clear();
  EXPECT_EQ(encode_ws({packet_type::message, true, "\x01\x02"}, out, ws_binary_mode::base64),
            ws_frame_kind::text);
  EXPECT_EQ(out, "bAQI=");  // engine.io-parser encodePacket(..., supportsBinary = false)

  out.clear();
  EXPECT_EQ(encode_ws({packet_type::message, false, "hi"}, out, ws_binary_mode::base64),
            ws_frame_kind::text);
  EXPECT_EQ(out, "4hi");
}

}  // namespace
}  // namespace relay::engineio
