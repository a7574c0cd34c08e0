#include "proto/socketio/packet.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace relay::socketio {
namespace {

using json::array;
using json::object;
using json::value;

TEST(SocketioPacket, TypeDigits) {
  for (uint8_t t = 0; t < kPacketTypeCount; ++t) {
    const auto type = static_cast<packet_type>(t);
    EXPECT_EQ(to_char(type), '0' + t);
    EXPECT_EQ(packet_type_from_char(to_char(type)), type);
  }
  EXPECT_EQ(packet_type_from_char('7'), std::nullopt);
  EXPECT_EQ(packet_type_from_char('/'), std::nullopt);
  EXPECT_EQ(packet_type_from_char('b'), std::nullopt);
  EXPECT_EQ(to_string(packet_type::connect_error), "CONNECT_ERROR");
  EXPECT_EQ(to_string(packet_type::binary_ack), "BINARY_ACK");
}

TEST(SocketioPacket, ReservedEvents) {
  for (const char* name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                           "removeListener"}) {
    EXPECT_TRUE(is_reserved_event(name)) << name;
  }
  for (const char* name : {"", "message", "Connect", "connected", "error", "ping"}) {
    EXPECT_FALSE(is_reserved_event(name)) << name;
  }
}

TEST(SocketioPacket, PayloadRulesPerType) {
  using enum packet_type;
  const std::optional<value> none;
  const value obj = object{{"a", 1}};
  const value str = "x";
  const value empty = array{};
  const value named = array{"ev", 1};
  const value numbered = array{42};
  const value reserved = array{"disconnect"};
  const value unnamed = array{nullptr};
  const value blob_named = array{json::binary({1})};

  EXPECT_TRUE(is_payload_valid(connect, none));
  EXPECT_TRUE(is_payload_valid(connect, obj));
  EXPECT_FALSE(is_payload_valid(connect, str));
  EXPECT_FALSE(is_payload_valid(connect, empty));
  EXPECT_FALSE(is_payload_valid(connect, value()));

  EXPECT_TRUE(is_payload_valid(disconnect, none));
  EXPECT_FALSE(is_payload_valid(disconnect, obj));

  for (packet_type t : {event, binary_event}) {
    EXPECT_TRUE(is_payload_valid(t, named));
    EXPECT_TRUE(is_payload_valid(t, numbered));
    EXPECT_TRUE(is_payload_valid(t, value(array{1.5})));
    EXPECT_FALSE(is_payload_valid(t, none));
    EXPECT_FALSE(is_payload_valid(t, empty));
    EXPECT_FALSE(is_payload_valid(t, reserved));
    EXPECT_FALSE(is_payload_valid(t, unnamed));
    EXPECT_FALSE(is_payload_valid(t, blob_named));
    EXPECT_FALSE(is_payload_valid(t, obj));
  }
  for (packet_type t : {ack, binary_ack}) {
    EXPECT_TRUE(is_payload_valid(t, empty));
    EXPECT_TRUE(is_payload_valid(t, reserved));
    EXPECT_FALSE(is_payload_valid(t, none));
    EXPECT_FALSE(is_payload_valid(t, obj));
  }
  EXPECT_TRUE(is_payload_valid(connect_error, obj));
  EXPECT_TRUE(is_payload_valid(connect_error, str));
  EXPECT_FALSE(is_payload_valid(connect_error, none));
  EXPECT_FALSE(is_payload_valid(connect_error, empty));
}

TEST(SocketioPacket, Namespaces) {
  EXPECT_TRUE(is_valid_namespace("/"));
  EXPECT_TRUE(is_valid_namespace("/admin"));
  EXPECT_TRUE(is_valid_namespace("/a/b?c=d"));
  EXPECT_TRUE(is_valid_namespace(""));  // stands for "/"
  EXPECT_FALSE(is_valid_namespace("admin"));
  EXPECT_FALSE(is_valid_namespace("/a,b"));
}

TEST(SocketioPacket, Validity) {
  EXPECT_TRUE(is_valid({packet_type::event, "/", std::nullopt, value(array{"a"})}));
  EXPECT_TRUE(is_valid({packet_type::event, "/", kMaxAckId, value(array{"a"})}));
  EXPECT_FALSE(is_valid({packet_type::event, "/", kMaxAckId + 1, value(array{"a"})}));
  EXPECT_FALSE(is_valid({packet_type::event, "x", std::nullopt, value(array{"a"})}));
  EXPECT_FALSE(is_valid({packet_type::ack, "/", std::nullopt, value(array{})}));  // no id
  EXPECT_TRUE(is_valid({packet_type::ack, "/", 0, value(array{})}));
  EXPECT_FALSE(is_valid({packet_type::disconnect, "/", std::nullopt, value(object{})}));
}

}  // namespace
}  // namespace relay::socketio
