#include "proto/engineio/open_packet.hpp"

#include <gtest/gtest.h>

#include <string>

#include "proto/engineio/payload.hpp"
#include "proto/engineio/ws_codec.hpp"

namespace relay::engineio {
namespace {

// Expected strings are what the Node engine.io server's JSON.stringify gives (Node 20).
TEST(OpenPacket, MatchesNodeDefaults) {
  std::string out;
  encode_open_packet("lv_VI97HAXpY6yYWAAAC", can_upgrade::yes, 25000, 20000, 1000000, out);
  EXPECT_EQ(out,
            "{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
            "\"pingTimeout\":20000,\"maxPayload\":1000000}");
}

TEST(OpenPacket, NoUpgradesAndExtremeNumbers) {
  std::string out;
  encode_open_packet("abc", can_upgrade::no, 0, 4294967295u, 9007199254740992ull, out);
  EXPECT_EQ(out,
            "{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":0,\"pingTimeout\":4294967295,"
            "\"maxPayload\":9007199254740992}");
}

TEST(OpenPacket, EscapesSidAsJsonStringify) {
  std::string out;
  encode_open_packet("a\"\\\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9", can_upgrade::no, 0, 4294967295u,
                     9007199254740992ull, out);
  // JSON.stringify({sid: 'a"\\\b\f\n\r\t\x01\x1f\x7f/é', ...}) in Node 20, as UTF-8.
  EXPECT_EQ(out,
            "{\"sid\":\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\xc3\xa9\",\"upgrades\":[],"
            "\"pingInterval\":0,\"pingTimeout\":4294967295,\"maxPayload\":9007199254740992}");
}

TEST(OpenPacket, AppendsAndFramesOnBothTransports) {
  std::string json;
  encode_open_packet("s", can_upgrade::yes, 1, 2, 3, json);
  std::string ws;
  encode_ws_text(packet_type::open, json, ws);
  EXPECT_EQ(ws,
            "0{\"sid\":\"s\",\"upgrades\":[\"websocket\"],\"pingInterval\":1,\"pingTimeout\":2,"
            "\"maxPayload\":3}");
  std::string polling;
  const packet_ref open[] = {{packet_type::open, false, json}};
  encode_payload(open, polling);
  EXPECT_EQ(polling, ws);
}

}  // namespace
}  // namespace relay::engineio
