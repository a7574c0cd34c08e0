#pragma once
// Engine.IO v4 over WebSocket (v4-current.md, "Packet encoding / WebSocket"): one packet per
// frame. A text frame is the type digit followed by the data ("4hello", "2probe"); a binary
// frame is a binary message packet as is, with no prefix.
//
// Sessions whose query carried b64=1 (engine.io-client's forceBase64) send and expect binary
// messages as "b<base64>" text frames instead, as in long-polling payloads.
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "proto/engineio/error.hpp"
#include "proto/engineio/packet.hpp"

namespace relay::engineio {

// Decodes a text frame's payload. The result views `frame`. Empty frames are empty_packet; a
// first byte other than '0'..'6' is bad_packet_type. A "b<base64>" frame is accepted only when
// base64_out is given: its bytes replace *base64_out's contents, the result (a binary message)
// views *base64_out, and bad base64 is bad_base64; without base64_out it is bad_packet_type.
// The data is not checked for UTF-8: the WebSocket layer validated the frame already.
tl::expected<packet_ref, error> decode_ws_text(std::string_view frame,
                                               std::string* base64_out = nullptr);

// A binary frame's payload is a binary message (possibly empty); the result views `frame`.
constexpr packet_ref decode_ws_binary(std::string_view frame) noexcept {
  return {packet_type::message, true, frame};
}

// Appends a text frame's payload: the type digit, then data.
void encode_ws_text(packet_type type, std::string_view data, std::string& out);

enum class ws_frame_kind : uint8_t { text, binary };
enum class ws_binary_mode : uint8_t {
  frames,  // binary messages as binary frames (the default)
  base64,  // binary messages as "b<base64>" text frames (the session's query had b64=1)
};

// Appends the frame payload for p and returns the frame type to send it in.
ws_frame_kind encode_ws(const packet_ref& p, std::string& out,
                        ws_binary_mode mode = ws_binary_mode::frames);

}  // namespace relay::engineio
