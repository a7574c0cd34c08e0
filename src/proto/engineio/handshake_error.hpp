#pragma once
// The Node engine.io server's handshake error codes (Server.errors) and messages, so Relay's
// refusals look the same to clients and tooling: HTTP 400 (403 for forbidden) with a JSON body
// such as {"code":0,"message":"Transport unknown"}.
#include <cstdint>
#include <string>
#include <string_view>

namespace relay::engineio {

enum class handshake_error : uint8_t {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5,
};

// "Transport unknown", "Session ID unknown", ... exactly as Node words them.
std::string_view node_message(handshake_error e) noexcept;

uint16_t http_status(handshake_error e) noexcept;

// Appends {"code":N,"message":"..."}.
void encode_error_body(handshake_error e, std::string& out);

}  // namespace relay::engineio
