#include "proto/engineio/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include "proto/engineio/handshake_error.hpp"

namespace relay::engineio {
namespace {

TEST(Error, CategoryAndMessages) {
  const std::error_code ec = error::bad_base64;
  EXPECT_STREQ(ec.category().name(), "engineio");
  EXPECT_EQ(ec.message(), "bad base64");
  EXPECT_EQ(make_error_code(error::empty_packet).message(), "empty packet");
  for (const error e : {error::empty_payload, error::empty_packet, error::bad_packet_type,
                        error::bad_base64, error::too_many_packets, error::payload_too_large}) {
    EXPECT_NE(describe(e), "unknown engineio error");
  }
}

TEST(Error, HttpStatus) {
  EXPECT_EQ(http_status(error::payload_too_large), 413);
  EXPECT_EQ(http_status(error::bad_packet_type), 400);
  EXPECT_EQ(http_status(error::empty_payload), 400);
}

TEST(HandshakeError, NodeCodesAndBodies) {
  std::string body;
  encode_error_body(handshake_error::unknown_transport, body);
  EXPECT_EQ(body, "{\"code\":0,\"message\":\"Transport unknown\"}");
  body.clear();
  encode_error_body(handshake_error::unsupported_protocol_version, body);
  EXPECT_EQ(body, "{\"code\":5,\"message\":\"Unsupported protocol version\"}");
  EXPECT_EQ(node_message(handshake_error::unknown_sid), "Session ID unknown");
  EXPECT_EQ(node_message(handshake_error::bad_handshake_method), "Bad handshake method");
  EXPECT_EQ(node_message(handshake_error::bad_request), "Bad request");
  EXPECT_EQ(node_message(handshake_error::forbidden), "Forbidden");
  EXPECT_EQ(http_status(handshake_error::forbidden), 403);
  EXPECT_EQ(http_status(handshake_error::unknown_sid), 400);
}

}  // namespace
}  // namespace relay::engineio
