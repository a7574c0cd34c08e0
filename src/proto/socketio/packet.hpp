#pragma once
// Socket.IO v5 packets (docs/socket.io-protocol/v5-current.md in socketio/socket.io): a type, a
// namespace, an optional ack id and an optional JSON payload, which may hold binary blobs.
// Each packet travels as one Engine.IO message (text), followed by one Engine.IO binary
// message per attachment for BINARY_EVENT / BINARY_ACK.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/json.hpp"

namespace relay::socketio {

enum class packet_type : uint8_t {
  connect = 0,
  disconnect,
  event,
  ack,
  connect_error,
  binary_event,
  binary_ack,
};

inline constexpr uint8_t kPacketTypeCount = 7;

// The wire digit, '0'..'6'.
constexpr char to_char(packet_type t) noexcept { return static_cast<char>('0' + uint8_t(t)); }

// '0'..'6' to its type; anything else is not a type.
constexpr std::optional<packet_type> packet_type_from_char(char c) noexcept {
  if (c < '0' || c >= '0' + kPacketTypeCount) return std::nullopt;
  return static_cast<packet_type>(c - '0');
}

// "CONNECT", "EVENT", ... as socket.io-parser's PacketType names them (for logs and tests).
std::string_view to_string(packet_type t) noexcept;

// The largest ack id: JavaScript peers hold ids as numbers (Number.MAX_SAFE_INTEGER).
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;

struct packet {
  packet_type type = packet_type::event;
  std::string nsp = "/";
  std::optional<uint64_t> id;
  // Absent for CONNECT without auth and for DISCONNECT. EVENT / ACK data holding blobs is sent
  // as BINARY_EVENT / BINARY_ACK; the decoder gives such packets back as EVENT / ACK.
  std::optional<json::value> data;

  bool operator==(const packet&) const = default;
};

// Names JavaScript peers keep for themselves: socket.io-parser rejects an EVENT named so
// ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener").
bool is_reserved_event(std::string_view name) noexcept;

// The payload rules of socket.io-parser (Decoder.isPayloadValid) and of the protocol document:
//   CONNECT: absent or an object          DISCONNECT: absent
//   EVENT, BINARY_EVENT: an array whose first element is a number or a non-reserved string
//   ACK, BINARY_ACK: an array             CONNECT_ERROR: an object or a string
// Stricter than socket.io-parser, which accepts any absent payload: the protocol document
// makes EVENT and ACK payloads mandatory and a CONNECT_ERROR without one means nothing.
bool is_payload_valid(packet_type type, const std::optional<json::value>& data) noexcept;

// A namespace the built-in parser can carry: starts with '/' and holds no ',' (the protocol has
// no escape for it). The empty string stands for "/" when encoding.
bool is_valid_namespace(std::string_view nsp) noexcept;

// Whether p can be encoded and decoded back unchanged (but for BINARY_* / EVENT / ACK, which
// the codec picks from the data): a valid namespace and payload, an id no larger than
// kMaxAckId, and an id on every ACK.
bool is_valid(const packet& p) noexcept;

}  // namespace relay::socketio
