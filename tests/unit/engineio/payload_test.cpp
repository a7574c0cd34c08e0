#include "proto/engineio/payload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace relay::engineio {
namespace {

using std::string_view_literals::operator""sv;

std::string encode(std::vector<packet_ref> packets) {
  std::string out;
  encode_payload(packets, out);
  return out;
}

std::vector<packet> decode_all(std::string_view body, const payload_limits& limits = {}) {
  auto r = decode_payload(body, limits);
  EXPECT_TRUE(r) << describe(r.error());
  std::vector<packet> out;
  if (r) {
    for (const packet_ref& p : *r) out.push_back(packet::from(p));
  }
  return out;
}

error decode_error(std::string_view body, const payload_limits& limits = {}) {
  auto r = decode_payload(body, limits);
  EXPECT_FALSE(r);
  return r ? error{} : r.error();
}

// Expected strings are engine.io-parser 5 encodePayload outputs under Node 20.
TEST(Payload, EncodesEachTypeAsNodeDoes) {
  EXPECT_EQ(encode({{packet_type::open, false, "{\"sid\":\"abc\"}"}}), "0{\"sid\":\"abc\"}");
  EXPECT_EQ(encode({{packet_type::close, false, ""}}), "1");
  EXPECT_EQ(encode({{packet_type::ping, false, "probe"}}), "2probe");
  EXPECT_EQ(encode({{packet_type::pong, false, "probe"}}), "3probe");
  EXPECT_EQ(encode({{packet_type::message, false, "hello"}}), "4hello");
  EXPECT_EQ(encode({{packet_type::upgrade, false, ""}}), "5");
  EXPECT_EQ(encode({{packet_type::noop, false, ""}}), "6");
  EXPECT_EQ(encode({{packet_type::message, false, ""}}), "4");
  EXPECT_EQ(encode({{packet_type::message, true, ""}}), "b");
}

TEST(Payload, EncodesSeveralPacketsAsNodeDoes) {
  EXPECT_EQ(encode({{packet_type::message, false, "hello"},
                    {packet_type::message, true, "\x01\x02\x03\x04"}}),
            "4hello\x1e"
            "bAQIDBA==");
  EXPECT_EQ(encode({{packet_type::message, false, "hello"},
                    {packet_type::ping, false, ""},
                    {packet_type::message, false, "world"}}),
            "4hello\x1e"
            "2\x1e"
            "4world");
  EXPECT_EQ(encode({{packet_type::message, true, "\xff\xfe\x00"sv},
                    {packet_type::message, false, "\xe2\x82\xac"},  // "€"
                    {packet_type::message, true, "foobar"},
                    {packet_type::close, false, ""}}),
            "b//4A\x1e"
            "4\xe2\x82\xac\x1e"
            "bZm9vYmFy\x1e"
            "1");
}

TEST(Payload, EncodeAppendsAndEmptyIsNothing) {
  std::string out = "x";
  encode_payload({}, out);
  EXPECT_EQ(out, "x");
  const packet_ref one[] = {{packet_type::noop, false, ""}};
  encode_payload(one, out);
  EXPECT_EQ(out, "x6");
}

TEST(Payload, BinaryOfAnyTypeIsABinaryMessage) {
  std::string out;
  encode_packet({packet_type::ping, true, "\x01"}, out);
  EXPECT_EQ(out, "bAQ==");
}

TEST(Payload, DecodesEveryType) {
  for (uint8_t i = 0; i < kPacketTypeCount; ++i) {
    const auto t = static_cast<packet_type>(i);
    const std::string body = std::string(1, to_char(t)) + "x\x1e" + to_char(t);
    const auto got = decode_all(body);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], (packet{t, false, "x"}));
    EXPECT_EQ(got[1], (packet{t, false, ""}));
  }
}

TEST(Payload, DecodesMixedTextAndBinary) {
  const auto got = decode_all(
      "4hello\x1e"
      "bAQIDBA==\x1e"
      "2\x1e"
      "b\x1e"
      "4\xe2\x82\xac\x1e"
      "bZm9vYmFy");
  const std::vector<packet> want = {
      {packet_type::message, false, "hello"},
      {packet_type::message, true, "\x01\x02\x03\x04"},
      {packet_type::ping, false, ""},
      {packet_type::message, true, ""},
      {packet_type::message, false, "\xe2\x82\xac"},
      {packet_type::message, true, "foobar"},
  };
  EXPECT_EQ(got, want);
}

TEST(Payload, RoundTripsThroughEncode) {
  const std::vector<packet_ref> packets = {
      {packet_type::open, false, "{}"},     {packet_type::message, true, "\x00\x01"sv},
      {packet_type::message, false, "a b"}, {packet_type::message, true, "xyz"},
      {packet_type::noop, false, ""},       {packet_type::message, true, ""},
  };
  const std::string body = encode(packets);
  const auto decoded = decode_payload(body);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), packets.size());
  for (size_t i = 0; i < packets.size(); ++i) EXPECT_EQ((*decoded)[i], packets[i]) << i;
}

TEST(Payload, TextViewsTheBodyAndMovesKeepBinaryInPlace) {
  const std::string body =
      "4hello\x1e"
      "bAQIDBA==";
  auto r = decode_payload(body);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].data.data(), body.data() + 1);
  const char* binary = (*r)[1].data.data();
  decoded_payload moved = std::move(*r);
  EXPECT_EQ(moved[1].data.data(), binary);
  EXPECT_EQ(moved[1].data, "\x01\x02\x03\x04");
  decoded_payload assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned[1].data.data(), binary);
  EXPECT_EQ(assigned.packets().size(), 2u);
}

TEST(Payload, JavaClientLineWrappedBase64) {
  // engine.io-client-java encodes with Android Base64 DEFAULT, ending lines with '\n'.
  EXPECT_EQ(decode_all("bAQIDBA==\n\x1e"
                       "4x"),
            (std::vector<packet>{{packet_type::message, true, "\x01\x02\x03\x04"},
                                 {packet_type::message, false, "x"}}));
}

TEST(Payload, Errors) {
  EXPECT_EQ(decode_error(""), error::empty_payload);
  EXPECT_EQ(decode_error("\x1e"), error::empty_packet);
  EXPECT_EQ(decode_error("4\x1e"), error::empty_packet);
  EXPECT_EQ(decode_error("\x1e"
                         "4"),
            error::empty_packet);
  EXPECT_EQ(decode_error("4a\x1e\x1e"
                         "4b"),
            error::empty_packet);
  EXPECT_EQ(decode_error("x"), error::bad_packet_type);
  EXPECT_EQ(decode_error("7"), error::bad_packet_type);
  EXPECT_EQ(decode_error("4ok\x1e"
                         "9"),
            error::bad_packet_type);
  EXPECT_EQ(decode_error("B"), error::bad_packet_type);
  EXPECT_EQ(decode_error("bAQIDBA"), error::bad_base64);  // Node is lenient, we are not
  EXPECT_EQ(decode_error("b===="), error::bad_base64);
  EXPECT_EQ(decode_error("bAQ==x"), error::bad_base64);
  EXPECT_EQ(decode_error("4ok\x1e"
                         "bAR=="),
            error::bad_base64);  // non-zero pad bits
}

TEST(Payload, PayloadSizeLimit) {
  payload_limits limits;
  limits.max_payload = 6;
  EXPECT_EQ(decode_all("4hello", limits).size(), 1u);
  EXPECT_EQ(decode_error("4hello!", limits), error::payload_too_large);
  // Checked before anything else, as Node's 413 is.
  EXPECT_EQ(decode_error("garbage", limits), error::payload_too_large);
  limits.max_payload = 0;
  EXPECT_EQ(decode_error("", limits), error::empty_payload);
}

TEST(Payload, PacketCountLimit) {
  payload_limits limits;
  limits.max_packets = 3;
  EXPECT_EQ(decode_all("4\x1e"
                       "4\x1e"
                       "4",
                       limits)
                .size(),
            3u);
  EXPECT_EQ(decode_error("4\x1e"
                         "4\x1e"
                         "4\x1e"
                         "4",
                         limits),
            error::too_many_packets);
  limits.max_packets = 0;
  EXPECT_EQ(decode_error("4", limits), error::too_many_packets);
}

TEST(Payload, ManyPackets) {
  std::string body;
  for (int i = 0; i < 10000; ++i) body += (i % 2 == 0 ? "4m\x1e" : "bAA==\x1e");
  body.pop_back();
  const auto r = decode_payload(body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 10000u);
  EXPECT_EQ((*r)[9998], (packet_ref{packet_type::message, false, "m"}));
  EXPECT_EQ((*r)[9999], (packet_ref{packet_type::message, true, "\x00"sv}));
}

}  // namespace
}  // namespace relay::engineio
