#pragma once
// Sans-IO, streaming RFC 6455 frame parser with message assembly: bytes in, messages and
// control frames out. It consumes every byte it is given (partial headers and payloads are
// kept inside), unmasks in place, validates as it goes and fails fast:
//   - reserved bits (RSV1 unless permessage-deflate was negotiated, RSV2, RSV3), reserved
//     opcodes, an unmasked frame on the server side / masked on the client side, a control
//     frame that is fragmented or longer than 125 bytes, a continuation with no message in
//     progress, a new data frame while one is in progress, a non-minimal length encoding,
//     a 64-bit length with the top bit set, RSV1 on a continuation or control frame
//     -> close_code::protocol_error (1002)
//   - invalid UTF-8 in an uncompressed text message (checked per chunk, across fragments and
//     reads) or in a close reason -> close_code::invalid_payload (1007)
//   - a close frame with a 1-byte payload or an invalid code -> protocol_error (1002)
//   - a message whose total payload exceeds max_message_size -> message_too_big (1009),
//     raised as soon as a frame header announces it
// Control frames may arrive between the fragments of a data message (§5.4).
//
// Errors are checked in a fixed order (first two header bytes, then the extended length, then
// the size limit, then the payload), so the same byte stream yields the same events and the
// same error however it is split into feed() calls. Checks on the first two header bytes run
// as soon as those two bytes have arrived.
//
// Zero-copy fast path: a whole unfragmented frame present in the input is delivered as a span
// into the input; otherwise the payload is gathered into an internal buffer that is released
// once the message is delivered (idle parsers allocate nothing).
//
// A compressed message (RSV1) is delivered still compressed with compressed::yes; the caller
// inflates it and validates UTF-8 of text afterwards.
//
// Not thread-safe. Handlers must not call feed() re-entrantly nor destroy the parser from a
// callback; they may call set_allow_compressed(), closed() and idle().
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "ws/close_code.hpp"
#include "ws/opcode.hpp"
#include "ws/utf8.hpp"

namespace relay::ws {

enum class role : uint8_t { server, client };

struct parser_options {
  uint64_t max_message_size = 16 * 1024 * 1024;
  role side = role::server;
  bool allow_compressed = false;  // permessage-deflate negotiated: RSV1 allowed on first frame
};

struct parse_error {
  close_code code;
  std::string_view reason;  // short static text for the close frame, e.g. "invalid UTF-8"
};

class frame_handler {
 public:
  // A complete text or binary message. The payload may point into the caller's input buffer
  // or into the parser; it is valid only during the call. Return false to stop parsing (the
  // connection is closing); feed() then returns without error and the parser ignores the rest
  // of this input and every later feed() (the stream position is lost, so it cannot resume).
  virtual bool on_message(opcode op, std::span<uint8_t> payload, compressed c) = 0;
  // ping, pong or close; close payload already validated (code + UTF-8 reason). After a close
  // frame the parser stops and ignores further input (the return value does not matter).
  virtual bool on_control(opcode op, std::span<uint8_t> payload) = 0;

 protected:
  ~frame_handler() = default;
};

class frame_parser {
 public:
  explicit frame_parser(parser_options options = {}) noexcept;
  ~frame_parser();
  frame_parser(const frame_parser&) = delete;
  frame_parser& operator=(const frame_parser&) = delete;

  // Parses all of input (mutable: unmasked in place). Returns nullptr on success, or the error
  // to close with; after an error the parser is failed and further feeds return the same error.
  const parse_error* feed(std::span<uint8_t> input, frame_handler& handler);

  void set_allow_compressed(bool allow) noexcept { options_.allow_compressed = allow; }
  bool closed() const noexcept;  // a close frame was received
  // True if nothing is buffered (no partial frame or message): the connection is idle.
  bool idle() const noexcept;

 private:
  struct state;       // implementation detail (header bytes, lengths, mask, message buffer, ...)
  struct frame_head;  // one decoded header

  bool fail(close_code code, std::string_view reason) noexcept;
  const parse_error* failure() const noexcept;
  bool ensure_state() noexcept;
  void release_if_idle() noexcept;
  bool check_start(uint8_t b0, uint8_t b1) noexcept;
  bool decode_header(const uint8_t* header, frame_head& head) noexcept;
  uint8_t* begin_frame(const frame_head& head, uint8_t* p, uint8_t* end, frame_handler& handler);
  uint8_t* continue_header(uint8_t* p, uint8_t* end, frame_handler& handler);
  uint8_t* consume_payload(uint8_t* p, uint8_t* end, frame_handler& handler);
  bool deliver_control(opcode op, std::span<uint8_t> payload, frame_handler& handler);
  bool deliver_message(opcode op, std::span<uint8_t> payload, compressed c, frame_handler& handler);

  parser_options options_;
  std::unique_ptr<state> state_;  // allocated only while a frame/message is in progress
  uint8_t status_ = 0;            // ok / closed / stopped (a handler said stop) / failed
  // Set once failed. Allocated then: every idle connection holds a parser, few ever fail.
  std::unique_ptr<parse_error> error_;
};

}  // namespace relay::ws
