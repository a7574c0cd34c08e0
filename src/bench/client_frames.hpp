#pragma once
// The load generator's side of RFC 6455 framing, sans-IO:
//   - server_frame_reader: a streaming parser for server-to-client frames that never copies
//     a data payload. It keeps only what it needs across reads: a partial header (<= 10
//     bytes), the first bytes of the current message (kStampSize by default: the send stamp;
//     more for Socket.IO, whose packet header precedes the stamp), its last two bytes, and
//     control payloads (<= 125 bytes, to answer pings and read close codes). Data messages
//     are reported once complete, with their opcode, total length, head and tail; fragmented
//     messages (§5.4) are reassembled in length only.
//   - raw_message_reader: the same events for the raw TCP mode, where a "message" is every
//     `size` bytes of the echoed stream.
//   - writers for masked client frames (§5.3).
//
// The reader is strict about what a server may send when no extension was negotiated and
// fails on the first violation (the connection is then counted as a protocol error):
// RSV1-3 set, reserved opcode, masked frame (§5.1), fragmented or > 125-byte control frame
// (§5.5), continuation with no message in progress, data frame inside a fragmented message,
// non-minimal length encoding or a 64-bit length with the top bit set (§5.2).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "bench/payload_stamp.hpp"
#include "ws/frame_header.hpp"
#include "ws/opcode.hpp"

namespace relay::bench {

enum class frame_error : uint8_t {
  none,
  reserved_bits,
  masked_frame,
  reserved_opcode,
  bad_control_frame,
  bad_continuation,
  bad_length,
};

const char* to_string(frame_error e) noexcept;

// The most a reader keeps of the start of each message (see server_frame_reader's keep).
inline constexpr size_t kMaxKeptHead = 128;

// What a reader reports of a complete data message. head and tail are valid only during the
// handler call.
struct message_view {
  ws::opcode op = ws::opcode::text;
  uint64_t length = 0;            // total payload length
  const uint8_t* head = nullptr;  // its first head_size bytes: min(length, the reader's keep)
  size_t head_size = 0;
  uint8_t tail[2] = {0, 0};  // its last two bytes (when length >= 2)

  // The send stamp when the message starts with one (payload at least kStampSize bytes).
  const uint8_t* stamp() const noexcept { return head_size >= kStampSize ? head : nullptr; }
};

// Handler contract (duck-typed, inlined):
//   bool on_message(const message_view& m);
//       a complete text/binary message.
//   bool on_control(ws::opcode op, const uint8_t* payload, size_t length);
//       ping, pong or close, payload complete (<= 125 bytes).
// Returning false stops feed() at once (the connection is being torn down); the rest of the
// input is ignored and the reader must not be fed again.
class server_frame_reader {
 public:
  // keep: how many bytes of the start of each message to keep and report (at most
  // kMaxKeptHead). kStampSize for the WebSocket workloads; the Socket.IO scanner needs more.
  explicit server_frame_reader(size_t keep = kStampSize) noexcept
      : keep_(static_cast<uint8_t>(keep < kMaxKeptHead ? keep : kMaxKeptHead)) {}

  // Consumes all of data. Returns frame_error::none, or the first violation (the reader is
  // then failed and returns the same error on every later feed).
  template <class Handler>
  frame_error feed(const uint8_t* data, size_t len, Handler& handler);

  bool message_in_progress() const noexcept { return in_message_; }

 private:
  frame_error start_frame(const uint8_t* header) noexcept;
  template <class Handler>
  bool finish_frame(Handler& handler);

  uint8_t header_[10];
  uint8_t header_len_ = 0;  // bytes of a partial header gathered so far
  bool in_frame_ = false;   // header parsed, payload_left_ bytes to go
  bool frame_fin_ = false;
  ws::opcode frame_op_ = ws::opcode::continuation;
  uint64_t payload_left_ = 0;

  bool in_message_ = false;
  ws::opcode message_op_ = ws::opcode::text;
  uint64_t message_len_ = 0;
  uint8_t keep_;
  uint8_t head_len_kept_ = 0;
  uint8_t head_kept_[kMaxKeptHead];
  uint8_t tail_[2] = {0, 0};

  uint8_t control_len_ = 0;
  uint8_t control_[125];
  frame_error error_ = frame_error::none;
};

// Raw TCP mode: the echoed byte stream is cut into messages of exactly `size` bytes, in the
// order they were sent (TCP keeps order; the server keeps no boundaries).
class raw_message_reader {
 public:
  explicit raw_message_reader(uint32_t size = 1) noexcept : size_(size ? size : 1) {}

  template <class Handler>
  void feed(const uint8_t* data, size_t len, Handler& handler) {
    while (len > 0) {
      size_t take = size_ - pos_;
      if (take > len) take = len;
      if (pos_ < kStampSize) {
        const size_t s = kStampSize - pos_ < take ? kStampSize - pos_ : take;
        std::memcpy(stamp_ + pos_, data, s);
      }
      pos_ += static_cast<uint32_t>(take);
      data += take;
      len -= take;
      if (pos_ == size_) {
        pos_ = 0;
        message_view m;
        m.op = ws::opcode::binary;
        m.length = size_;
        m.head = stamp_;
        m.head_size = size_ < kStampSize ? size_ : kStampSize;
        if (!handler.on_message(m)) return;
      }
    }
  }

 private:
  uint32_t size_;
  uint32_t pos_ = 0;
  uint8_t stamp_[kStampSize];
};

// Writes a masked client frame carrying `payload` into out, which must have room for
// ws::frame_header_size(payload.size(), true) + payload.size() bytes; returns the frame size.
size_t write_client_frame(uint8_t* out, ws::opcode op, std::span<const uint8_t> payload,
                          const uint8_t mask[4]) noexcept;

inline constexpr size_t kNoStamp = static_cast<size_t>(-1);

// Same, for a load-generator message: `payload_template` with the kStampSize bytes at
// stamp_at replaced by the stamp of `send_ns`. stamp_at 0 (WebSocket workloads) stamps the
// start when the payload is long enough; a stamp that would not fit, or kNoStamp, stamps
// nothing.
size_t write_stamped_frame(uint8_t* out, ws::opcode op, std::span<const uint8_t> payload_template,
                           uint64_t send_ns, const uint8_t mask[4], size_t stamp_at = 0) noexcept;

// --- implementation of the templates -------------------------------------------------------

template <class Handler>
bool server_frame_reader::finish_frame(Handler& handler) {
  in_frame_ = false;
  if (ws::is_control(frame_op_)) return handler.on_control(frame_op_, control_, control_len_);
  if (!frame_fin_) return true;
  in_message_ = false;
  message_view m;
  m.op = message_op_;
  m.length = message_len_;
  m.head = head_kept_;
  m.head_size = head_len_kept_;
  m.tail[0] = tail_[0];
  m.tail[1] = tail_[1];
  return handler.on_message(m);
}

template <class Handler>
frame_error server_frame_reader::feed(const uint8_t* data, size_t len, Handler& handler) {
  if (error_ != frame_error::none) return error_;
  while (len > 0) {
    if (!in_frame_) {
      const uint8_t* header;
      if (header_len_ == 0 && len >= 2) {
        // Fast path: the whole header is in the input (almost always).
        const uint8_t l7 = data[1] & 0x7F;
        const size_t need = l7 < 126 ? 2 : l7 == 126 ? 4 : 10;
        if (len >= need) {
          header = data;
          data += need;
          len -= need;
        } else {
          header = nullptr;
        }
      } else {
        header = nullptr;
      }
      if (header == nullptr) {
        // Gather a header split across reads, one byte at a time (rare; at most 10 bytes).
        header_[header_len_++] = *data++;
        --len;
        if (header_len_ < 2) continue;
        const uint8_t l7 = header_[1] & 0x7F;
        const size_t need = l7 < 126 ? 2 : l7 == 126 ? 4 : 10;
        if (header_len_ < need) continue;
        header = header_;
      }
      header_len_ = 0;
      if (const frame_error e = start_frame(header); e != frame_error::none) return error_ = e;
      if (payload_left_ == 0 && !finish_frame(handler)) return frame_error::none;
      continue;
    }
    size_t take = payload_left_ < len ? static_cast<size_t>(payload_left_) : len;
    if (ws::is_control(frame_op_)) {
      std::memcpy(control_ + control_len_, data, take);
      control_len_ = static_cast<uint8_t>(control_len_ + take);
    } else {
      message_len_ += take;
      if (head_len_kept_ < keep_) {
        const size_t s = size_t{keep_} - head_len_kept_ < take ? keep_ - head_len_kept_ : take;
        std::memcpy(head_kept_ + head_len_kept_, data, s);
        head_len_kept_ = static_cast<uint8_t>(head_len_kept_ + s);
      }
      if (take >= 2) {
        tail_[0] = data[take - 2];
        tail_[1] = data[take - 1];
      } else if (take == 1) {
        tail_[0] = tail_[1];
        tail_[1] = data[0];
      }
    }
    data += take;
    len -= take;
    payload_left_ -= take;
    if (payload_left_ == 0 && !finish_frame(handler)) return frame_error::none;
  }
  return frame_error::none;
}

}  // namespace relay::bench
