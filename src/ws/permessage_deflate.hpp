#pragma once
// RFC 7692 permessage-deflate: negotiation of the extension parameters and the per-message
// compressor/decompressor (zlib raw deflate).
//
// Threading: inflater and deflater are single-threaded objects (one per connection, used on
// the connection's loop). negotiate_deflate is a pure function.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relay::ws {

// What the server is willing to do (from config). Window sizes outside 8..15 are clamped.
struct deflate_config {
  bool enabled = true;
  // Ask for / accept no context takeover on the server's compressor: saves ~256 KiB per
  // connection at some cost in ratio; lets a broadcast be compressed once for everyone.
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  // 8..15. 8 is answered as 8 but compressed with zlib's 9-bit window, whose longest match
  // distance (512 - 262 = 250 bytes) still fits the 256-byte window the peer keeps.
  int server_max_window_bits = 15;
  // Limit asked of clients that offer client_max_window_bits (RFC 7692 §7.1.2.2). A client
  // that does not offer the parameter cannot be limited and is accepted with 15.
  int max_client_window_bits = 15;
  int compression_level = 1;  // zlib level; 1 is the speed/ratio sweet spot for chat traffic
  int mem_level = 8;
};

// The agreed parameters for one connection.
struct deflate_params {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// Parses the client's Sec-WebSocket-Extensions header (several extensions and offers, `;`
// parameters, token or quoted-string values, optional whitespace; RFC 6455 §9.1, RFC 7692 §5
// and §7.1) and accepts the first acceptable permessage-deflate offer. Returns the agreed
// params and sets `response` to the value of the Sec-WebSocket-Extensions response header
// (e.g. "permessage-deflate; server_no_context_takeover; client_max_window_bits=15").
// nullopt (and `response` cleared): compression disabled, no acceptable offer, or a header
// that does not parse as a whole — never an error, the connection proceeds uncompressed.
// Offers with unknown or duplicated parameters or invalid values are declined (RFC 7692 §7).
// Several header lines must be joined with "," by the caller (RFC 9110 §5.3).
std::optional<deflate_params> negotiate_deflate(std::string_view extensions_header,
                                                const deflate_config& config,
                                                std::string& response);

enum class inflate_status : uint8_t { ok, too_big, corrupt };

// Decompresses messages from the peer. With context takeover the window carries over between
// messages; without, it is reset per message (inflateReset: no allocation).
//
// Memory: nothing beyond the object until the first message; then zlib's state (~7 KiB) and
// a 2^window_bits window, reused for the life of the object.
class inflater {
 public:
  // window_bits: the peer's agreed window (client_max_window_bits on a server), 8..15
  // (clamped). A peer that references data further back than that is corrupt.
  inflater(int window_bits, bool no_context_takeover) noexcept;
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  // Inflates one whole message (the trailing 0x00 0x00 0xff 0xff is appended internally,
  // RFC 7692 §7.2.2) into `out` (cleared first; its capacity is reused). Stops with too_big
  // as soon as the output would exceed max_size: a compression bomb costs at most about
  // max_size bytes of memory and the time to inflate them. On too_big and corrupt `out` is
  // left empty and, with context takeover, the shared window is lost: every later call
  // returns corrupt (the connection must be failed anyway, RFC 7692 §8). Without context
  // takeover the next message starts clean.
  // A zero-length payload is an empty message; messages made of DEFLATE blocks with BFINAL
  // set (§7.2.3.4) are accepted and keep the window. Allocation failure throws
  // std::bad_alloc, like the growth of `out`.
  inflate_status inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_size);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  // created on first use
  int8_t window_bits_;
  bool no_context_takeover_;
};

// Compresses outgoing messages.
//
// Memory: nothing beyond the object until the first message; then zlib's compressor state
// (~256 KiB at window 15 and mem_level 8), reused for the life of the object.
class deflater {
 public:
  // window_bits: the agreed server_max_window_bits, 8..15 (8 runs as 9, see deflate_config);
  // level 0..9 and mem_level 1..9 are clamped.
  deflater(int window_bits, bool no_context_takeover, int level = 1, int mem_level = 8) noexcept;
  ~deflater();
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;

  // Compresses one whole message, appending to `out` the payload to send with RSV1 (ends at
  // a byte-aligned block boundary, the trailing 0x00 0x00 0xff 0xff removed, RFC 7692
  // §7.2.1). An empty message becomes the single byte 0x00 (§7.2.3.6). Allocation failure
  // throws std::bad_alloc, like the growth of `out`.
  void deflate(std::span<const uint8_t> in, std::vector<uint8_t>& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  // created on first use
  int8_t window_bits_;
  int8_t level_;
  int8_t mem_level_;
  bool no_context_takeover_;
};

}  // namespace relay::ws
