#include "bench/sio_room_packets.hpp"

#include <gtest/gtest.h>

#include <string>

#include "bench/client_frames.hpp"

namespace relay::bench {
namespace {

constexpr uint32_t kAck = 1;

room_packet_kind kind_of(std::string_view message, std::string_view nsp = "/live") {
  return scan_room_packet(message, nsp, kAck, kMaxKeptHead).kind;
}

TEST(SioRoomPackets, Requests) {
  EXPECT_EQ(sio_namespace_connect("/live"), "40/live,");
  EXPECT_EQ(sio_namespace_connect("/"), "40");
  EXPECT_EQ(sio_join_request("/live", "bench", 1), R"(42/live,1["join","bench"])");
  EXPECT_EQ(sio_join_request("/", "r", 7), R"(427["join","r"])");
}

TEST(SioRoomPackets, SetUpAnswersOfBothServers) {
  EXPECT_EQ(kind_of(R"(40/live,{"sid":"Vq3HhC8-ZbbiCy9zAAAB"})"), room_packet_kind::connected);
  // Relay's join ack, then Node's (bench/node/publish_server.mjs).
  EXPECT_EQ(kind_of(R"(43/live,1[{"ok":true,"room":"bench","offset":0,"epoch":"k2Jd0"}])"),
            room_packet_kind::join_ok);
  EXPECT_EQ(kind_of(R"(43/live,1[{"ok":true,"room":"bench","offset":0}])"),
            room_packet_kind::join_ok);
  EXPECT_EQ(kind_of(R"(43/live,1[{"error":"not allowed to join bench"}])"),
            room_packet_kind::join_refused);
  EXPECT_EQ(kind_of(R"(43/live,2[{"ok":true}])"), room_packet_kind::join_refused);  // other id
  EXPECT_EQ(kind_of(R"(44/live,{"message":"token required"})"), room_packet_kind::connect_error);
  EXPECT_EQ(kind_of("41/live,"), room_packet_kind::disconnect);
  EXPECT_EQ(kind_of("41/live"), room_packet_kind::disconnect);
}

TEST(SioRoomPackets, OtherNamespacesAreNotOurs) {
  EXPECT_EQ(kind_of(R"(40{"sid":"x"})"), room_packet_kind::invalid);
  EXPECT_EQ(kind_of(R"(40/livex,{"sid":"x"})"), room_packet_kind::invalid);
  EXPECT_EQ(kind_of(R"(40/other,{"sid":"x"})"), room_packet_kind::invalid);
  EXPECT_EQ(kind_of(R"(40{"sid":"x"})", "/"), room_packet_kind::connected);
  EXPECT_EQ(kind_of(R"(40/live,{"sid":"x"})", "/"), room_packet_kind::invalid);
}

TEST(SioRoomPackets, MessagesFindTheData) {
  const std::string relay =
      R"(42/live,["message",{"room":"bench","data":"ABCDEFGH0123","from":null,"offset":17}])";
  const room_packet r = scan_room_packet(relay, "/live", kAck, kMaxKeptHead);
  ASSERT_EQ(r.kind, room_packet_kind::message);
  EXPECT_EQ(relay.substr(r.data_at, 8), "ABCDEFGH");
  // Keys in another order, and an ack id on the event.
  const std::string other = R"(42/live,5["message",{"offset":1,"data":"ZZZZZZZZ","room":"b"}])";
  const room_packet o = scan_room_packet(other, "/live", kAck, kMaxKeptHead);
  ASSERT_EQ(o.kind, room_packet_kind::message);
  EXPECT_EQ(other.substr(o.data_at, 8), "ZZZZZZZZ");
  // A long message: only the head is seen, the data still starts in it.
  const std::string big = R"(42/live,["message",{"room":"bench","data":")" +
                          std::string(100000, 'x') + R"(","from":null,"offset":2}])";
  EXPECT_EQ(kind_of(big), room_packet_kind::message);
}

TEST(SioRoomPackets, WhatIsNotADelivery) {
  EXPECT_EQ(kind_of(R"(42/live,["presence:join",{"room":"bench","user":"u"}])"),
            room_packet_kind::other_event);
  EXPECT_EQ(kind_of(R"(42/live,["message",{"room":"bench","data":17}])"),
            room_packet_kind::invalid);  // data not a string: no stamp
  EXPECT_EQ(kind_of(R"(42/live,["message","x"])"), room_packet_kind::invalid);
  EXPECT_EQ(kind_of(R"(42/live,["message",{"room":"bench","data":"x")"),
            room_packet_kind::invalid);  // cut short
  EXPECT_EQ(kind_of("2"), room_packet_kind::invalid);  // Engine.IO ping: not for this scanner
  EXPECT_EQ(kind_of(R"(45/live,1-["message",{"_placeholder":true,"num":0}])"),
            room_packet_kind::invalid);
  EXPECT_EQ(kind_of(""), room_packet_kind::invalid);
  // The data key past the head (a namespace and room too long for it) is not found.
  const std::string far = R"(42/live,["message",{"room":")" + std::string(200, 'r') +
                          R"(","data":"ABCDEFGH"}])";
  EXPECT_EQ(kind_of(far), room_packet_kind::invalid);
}

}  // namespace
}  // namespace relay::bench
