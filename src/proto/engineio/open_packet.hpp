#pragma once
// The data of the open packet that starts every session (v4-current.md, "Handshake"), byte for
// byte what the Node engine.io server's JSON.stringify produces, keys in its order:
//   {"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,
//    "pingTimeout":20000,"maxPayload":1000000}
#include <cstdint>
#include <string>
#include <string_view>

namespace relay::engineio {

enum class can_upgrade : uint8_t {
  no,   // "upgrades":[] (the session is already on WebSocket, or WebSocket is disabled)
  yes,  // "upgrades":["websocket"] (a long-polling session that may upgrade)
};

// Appends the JSON (not the '0' type digit: encode it with encode_ws_text or encode_payload).
// The sid is escaped as JSON.stringify would (quote, backslash, control characters); it is
// expected to be valid UTF-8, as generate_sid's always is. max_payload is printed exactly, even
// above 2^53 where a JavaScript number would round.
void encode_open_packet(std::string_view sid, can_upgrade upgrade, uint32_t ping_interval_ms,
                        uint32_t ping_timeout_ms, uint64_t max_payload, std::string& out);

}  // namespace relay::engineio
