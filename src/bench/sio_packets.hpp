#pragma once
// The load generator's side of Socket.IO (protocol v5) over Engine.IO v4, WebSocket
// transport only (what a client with `transports: ["websocket"]` does), sans-IO and
// allocation-free on the data path:
//   - sio_request_path: the upgrade request's path and query
//     (`/socket.io/?EIO=4&transport=websocket`, `&pub=1` for the broadcast publisher);
//   - make_sio_event: the text of an EVENT packet `42["name","<data>"]`, built once per run,
//     and where its data starts (where the send stamp goes);
//   - scan_sio_packet: classifies one server text message from its first bytes, its length
//     and its last two bytes, which is all server_frame_reader keeps of a message.
//
// Engine.IO v4 over WebSocket sends one packet per text frame (no payload batching, which is
// for polling), so a message is a packet. The generator only sends strings that JSON carries
// as they are (the base64url stamp and alphanumeric padding: no escapes), and both servers
// echo a string argument as they received it, so the scanner can be strict: an event is
// exactly `42["name","data"]` (namespace "/", no ack id, one string argument with no `"`,
// `\` or control character) and anything else is `invalid`, which the worker counts as a
// protocol error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relay::bench {

// Bytes of the start of each message the scanner needs (server_frame_reader's keep): room
// for an Engine.IO open packet (~110 bytes) and for an event header and its stamp.
inline constexpr size_t kSioHead = 128;

enum class sio_role : uint8_t { member, publisher };  // publisher: `pub=1`, joins no room

// The request target for a Socket.IO connection to url_path (a ws:// URL's path and query):
// "/" (no path given) becomes the default "/socket.io/"; the Engine.IO query is appended to
// any query already there (e.g. a token the server expects).
std::string sio_request_path(std::string_view url_path, sio_role role);

struct sio_event_template {
  std::vector<uint8_t> bytes;  // `42["name","<data>"]`
  size_t data_at = 0;          // offset of the data's first character
};

// data must need no JSON escaping (checked by the caller's choice of characters).
sio_event_template make_sio_event(std::string_view name, std::span<const uint8_t> data);

enum class sio_kind : uint8_t {
  invalid,        // malformed, or a packet this client never expects
  open,           // Engine.IO OPEN `0{..."sid":...}`
  close,          // Engine.IO CLOSE `1`
  ping,           // Engine.IO PING `2[data]`: answer `3[data]`
  pong,           // Engine.IO PONG `3[data]`
  noop,           // Engine.IO NOOP `6`
  connect,        // Socket.IO CONNECT to "/" acknowledged: `40{..."sid":...}`
  disconnect,     // Socket.IO DISCONNECT from "/": `41`
  connect_error,  // Socket.IO CONNECT_ERROR: `44...`
  event,          // Socket.IO EVENT `42["name","data"]`
};

const char* to_string(sio_kind k) noexcept;

struct sio_packet {
  sio_kind kind = sio_kind::invalid;
  std::string_view name;   // event: its name (points into the head)
  uint64_t data_at = 0;    // event: offset of the string argument's first character
  uint64_t data_size = 0;  // event: its length in bytes
  // ping/pong: the data after the type character is bytes [1, length) of the message, all
  // within the head (longer pings are invalid).
};

// head: the message's first min(length, kSioHead) bytes (fewer is allowed but may make a
// valid packet unrecognisable); tail: its last two bytes (ignored when length < 2).
// Bytes past the head are not seen: for an event, what is checked is everything in the head,
// the closing `"]` and that the length adds up.
sio_packet scan_sio_packet(std::span<const uint8_t> head, uint64_t length,
                           const uint8_t tail[2]) noexcept;

// Convenience for a whole message (tests, tools): the head is its first kSioHead bytes.
sio_packet scan_sio_packet(std::string_view message) noexcept;

}  // namespace relay::bench
