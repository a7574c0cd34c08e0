#pragma once
// Socket.IO v5 packet encoder, byte-identical to socket.io-parser's Encoder:
//   <type>[<attachments>-][<nsp>,][<id>][<JSON data>]
// e.g. 2["hello",1]  2/admin,12["a"]  51-["a",{"_placeholder":true,"num":0}]  1/admin,
// The namespace is written only when it is not "/"; data is written by JSON.stringify's rules
// (json::serialize) and omitted when absent or null.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "proto/socketio/packet.hpp"
#include "relay/json.hpp"

namespace relay::socketio {

// One Engine.IO text message, then one Engine.IO binary message per attachment, in order.
struct encoded_packet {
  std::string text;
  std::vector<json::binary_ptr> attachments;
};

// Precondition (asserted): is_valid(p). The type written follows the data, as socket.io-parser
// does: EVENT / ACK whose data holds blobs go out as BINARY_EVENT / BINARY_ACK with each blob
// replaced by a placeholder, in depth-first order; BINARY_EVENT / BINARY_ACK without blobs go
// out as EVENT / ACK (a count of 0 is not decodable). Blobs in other packets are written as
// Node writes a Buffer, {"type":"Buffer","data":[...]}. Thread-safe (no shared state).
encoded_packet encode(const packet& p);

// As above into out, reusing its buffers (out is cleared first).
void encode(const packet& p, encoded_packet& out);

// An EVENT from its parts, byte for byte what encode() writes for {EVENT, nsp, id,
// [event, args...]}, without building that array (the emit path's common case).
void encode_event(std::string_view nsp, std::optional<uint64_t> id, std::string_view event,
                  const json::array& args, encoded_packet& out);

}  // namespace relay::socketio
