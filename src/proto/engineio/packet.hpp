#pragma once
// Engine.IO v4 packets (docs/engine.io-protocol/v4-current.md, "Protocol"): a type, optional
// data, and whether the data is binary. Text data is a UTF-8 string; binary data is raw bytes,
// held in a std::string as well so both kinds share one representation. Only message packets
// carry binary data on the wire: a binary packet of any other type is encoded as a message, as
// engine.io-parser does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::engineio {

enum class packet_type : uint8_t { open = 0, close, ping, pong, message, upgrade, noop };

inline constexpr uint8_t kPacketTypeCount = 7;

// The wire digit, '0'..'6'.
constexpr char to_char(packet_type t) noexcept { return static_cast<char>('0' + uint8_t(t)); }

// '0'..'6' to its type; anything else (including 'b', the base64 marker) is not a type.
constexpr std::optional<packet_type> packet_type_from_char(char c) noexcept {
  if (c < '0' || c >= '0' + kPacketTypeCount) return std::nullopt;
  return static_cast<packet_type>(c - '0');
}

// "open", "close", ... as engine.io-parser names them (for logs and tests).
std::string_view to_string(packet_type t) noexcept;

// A packet whose data lives elsewhere; see each producer for how long that is.
struct packet_ref {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string_view data;

  bool operator==(const packet_ref&) const = default;
};

// A packet that owns its data.
struct packet {
  packet_type type = packet_type::message;
  bool binary = false;
  std::string data;

  packet_ref ref() const noexcept { return {type, binary, data}; }
  static packet from(const packet_ref& r) { return {r.type, r.binary, std::string(r.data)}; }

  bool operator==(const packet&) const = default;
};

}  // namespace relay::engineio
