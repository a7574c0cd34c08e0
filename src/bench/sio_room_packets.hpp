#pragma once
// The publish scenario's subscribers speak to a rooms service (docs/auth.md) on a namespace
// other than "/": Socket.IO v5 packets carry the namespace after the type, `4<t>/live,...`.
// Sans-IO and allocation-free on the data path, like sio_packets.hpp (which handles the
// Engine.IO packets — open, ping, close — that come before any namespace):
//   - sio_namespace_connect: the CONNECT packet `40/live,` (no auth payload);
//   - sio_join_request: the EVENT `42/live,<id>["join","<room>"]`, asking for an ack;
//   - scan_room_packet: classifies one server packet from the first bytes of the message,
//     its length and its last two bytes (what server_frame_reader keeps).
//
// A delivery is the event `42/live,["message",{... "data":"<stamp...>" ...}]` that both
// Relay (`{room, data, from, offset}`) and bench/node/publish_server.mjs send; the scanner
// finds the data string in the head wherever the keys come, so the namespace, the event
// name and the keys before "data" must fit in the head (bench_main checks the lengths).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace relay::bench {

// "/" -> "40"; "/live" -> "40/live,".
std::string sio_namespace_connect(std::string_view nsp);

// `42/live,<ack_id>["join","<room>"]`; room must need no JSON escaping.
std::string sio_join_request(std::string_view nsp, std::string_view room, uint32_t ack_id);

enum class room_packet_kind : uint8_t {
  invalid,        // malformed, not for this namespace, or not a Socket.IO packet at all
  connected,      // CONNECT answered: `40/live,{"sid":...}`
  connect_error,  // CONNECT_ERROR `44/live,...`
  disconnect,     // DISCONNECT `41/live,`
  join_ok,        // ACK of our join with `"ok":true`
  join_refused,   // ACK of our join without it (`{"error":...}`), or an ACK with another id
  message,        // EVENT "message" whose data is a string: data_at is its first character
  other_event,    // any other EVENT (e.g. presence:join, relay:error)
};

const char* to_string(room_packet_kind k) noexcept;

struct room_packet {
  room_packet_kind kind = room_packet_kind::invalid;
  uint64_t data_at = 0;  // message: offset of the data string's first character in the message
};

// head: the message's first bytes (at most what the reader keeps); tail: its last two bytes.
// A "message" event whose data string does not start within the head, or is not a string,
// is `invalid`.
room_packet scan_room_packet(std::span<const uint8_t> head, uint64_t length,
                             const uint8_t tail[2], std::string_view nsp,
                             uint32_t join_ack_id) noexcept;

// Convenience for a whole message (tests): the head is its first `keep` bytes.
room_packet scan_room_packet(std::string_view message, std::string_view nsp, uint32_t join_ack_id,
                             size_t keep) noexcept;

}  // namespace relay::bench
