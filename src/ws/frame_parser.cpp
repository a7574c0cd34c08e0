#include "ws/frame_parser.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "ws/frame_header.hpp"

namespace relay::ws {
namespace {

enum parser_status : uint8_t { kOk, kClosed, kStopped, kFailed };

// RFC 6455 §5.2 base framing protocol.
constexpr uint8_t kFinBit = 0x80;
constexpr uint8_t kRsv1Bit = 0x40;
constexpr uint8_t kRsv23Bits = 0x30;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7F;
constexpr uint8_t kLength16 = 126;  // "If 126, the following 2 bytes ... are the payload length"
constexpr uint8_t kLength64 = 127;  // "If 127, the following 8 bytes ..."
constexpr size_t kMaxControlPayload = 125;  // §5.5
constexpr uint64_t kMinBufferCapacity = 4096;

// Header length (2..14) implied by the second header byte.
constexpr size_t header_size(uint8_t b1) noexcept {
  const uint8_t len7 = b1 & kLengthBits;
  return 2 + (len7 == kLength16 ? 2 : len7 == kLength64 ? 8 : 0) + ((b1 & kMaskBit) ? 4 : 0);
}

constexpr bool is_known_opcode(uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);  // §5.2: 0x3-0x7 and 0xB-0xF are reserved
}

uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Payload of a message that could not be delivered in place. malloc/realloc rather than
// std::vector: bytes are never zero-filled before being overwritten, growth of large blocks
// can be an mremap, and running out of memory is an error result instead of an exception.
class message_buffer {
 public:
  message_buffer() = default;
  message_buffer(const message_buffer&) = delete;
  message_buffer& operator=(const message_buffer&) = delete;
  ~message_buffer() { std::free(data_); }

  std::span<uint8_t> bytes() noexcept { return {data_, size_}; }
  size_t size() const noexcept { return size_; }

  // Appends n bytes. `limit` is the most the message can still grow to (>= size() + n); growth
  // is geometric (many small fragments stay linear) but never beyond it, and follows the bytes
  // actually received, not the length a peer announced.
  bool append(const uint8_t* src, size_t n, uint64_t limit) noexcept {
    if (capacity_ - size_ < n) {
      uint64_t want = std::max<uint64_t>(uint64_t{capacity_} * 2, kMinBufferCapacity);
      want = std::max<uint64_t>(std::min(want, limit), uint64_t{size_} + n);
      void* grown = std::realloc(data_, static_cast<size_t>(want));
      if (grown == nullptr) return false;
      data_ = static_cast<uint8_t*>(grown);
      capacity_ = static_cast<size_t>(want);
    }
    std::memcpy(data_ + size_, src, n);
    size_ += n;
    return true;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace

struct frame_parser::frame_head {
  uint64_t length = 0;
  uint8_t mask[4] = {};
  opcode op = opcode::continuation;
  bool fin = false;
  bool rsv1 = false;
  bool masked = false;
};

// Everything that outlives one feed() call. Allocated only while a header, a frame payload or
// a fragmented message is incomplete, so an idle connection holds nothing.
struct frame_parser::state {
  // A header split across feeds; header_have != 0 means one is being gathered.
  uint8_t header[kMaxFrameHeader];
  uint8_t header_have = 0;

  // The frame whose payload is arriving (in_payload).
  bool in_payload = false;
  bool frame_fin = false;
  bool frame_masked = false;
  opcode frame_op = opcode::continuation;
  uint8_t mask[4] = {};
  uint8_t mask_phase = 0;  // the payload may stop at any byte, mid mask word
  uint64_t payload_left = 0;
  uint8_t control_len = 0;
  uint8_t control[kMaxControlPayload];

  // The data message being assembled (in_message): from its first frame to its FIN frame.
  bool in_message = false;
  bool check_utf8 = false;  // uncompressed text
  opcode message_op = opcode::binary;
  compressed message_compressed = compressed::no;
  uint64_t message_size = 0;  // announced lengths of its frames so far, <= max_message_size
  utf8_validator utf8;
  message_buffer data;
};

frame_parser::frame_parser(parser_options options) noexcept : options_(options) {}

frame_parser::~frame_parser() = default;

bool frame_parser::closed() const noexcept { return status_ == kClosed; }

bool frame_parser::idle() const noexcept { return state_ == nullptr; }

bool frame_parser::fail(close_code code, std::string_view reason) noexcept {
  status_ = kFailed;
  error_.reset(new (std::nothrow) parse_error{code, reason});
  state_.reset();
  return false;
}

bool frame_parser::ensure_state() noexcept {
  if (state_) return true;
  state_.reset(new (std::nothrow) state);
  return state_ ? true : fail(close_code::internal_error, "out of memory");
}

void frame_parser::release_if_idle() noexcept {
  if (state_ && !state_->in_message && !state_->in_payload && state_->header_have == 0) {
    state_.reset();  // also frees a large message buffer rather than keeping it per connection
  }
}

// Checks that need only the first two header bytes, so they run as soon as those arrive.
bool frame_parser::check_start(uint8_t b0, uint8_t b1) noexcept {
  // §5.2: "MUST be 0 unless an extension is negotiated that defines meanings"; only
  // permessage-deflate (RSV1) exists here.
  if ((b0 & kRsv23Bits) != 0) return fail(close_code::protocol_error, "reserved bits set");
  const uint8_t op = b0 & kOpcodeBits;
  if (!is_known_opcode(op)) return fail(close_code::protocol_error, "reserved opcode");
  const bool rsv1 = (b0 & kRsv1Bit) != 0;
  if (is_control(static_cast<opcode>(op))) {
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT
    // be fragmented." RFC 7692 §6.1: RSV1 is for data messages only.
    if ((b0 & kFinBit) == 0) return fail(close_code::protocol_error, "fragmented control frame");
    if ((b1 & kLengthBits) > kMaxControlPayload) {
      return fail(close_code::protocol_error, "control frame too long");
    }
    if (rsv1) return fail(close_code::protocol_error, "RSV1 on a control frame");
  } else {
    const bool in_message = state_ && state_->in_message;
    if (op == static_cast<uint8_t>(opcode::continuation)) {
      // §5.4: a continuation belongs to a message opened by a text/binary frame.
      if (!in_message) return fail(close_code::protocol_error, "continuation without a message");
      // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
      if (rsv1) return fail(close_code::protocol_error, "RSV1 on a continuation frame");
    } else {
      // §5.4: fragments of different messages must not interleave.
      if (in_message) return fail(close_code::protocol_error, "new message inside a message");
      if (rsv1 && !options_.allow_compressed) {
        return fail(close_code::protocol_error, "unexpected RSV1");
      }
    }
  }
  // §5.1: a client masks every frame it sends, a server none.
  const bool masked = (b1 & kMaskBit) != 0;
  if (options_.side == role::server && !masked) {
    return fail(close_code::protocol_error, "unmasked client frame");
  }
  if (options_.side == role::client && masked) {
    return fail(close_code::protocol_error, "masked server frame");
  }
  return true;
}

// Decodes a complete header whose first two bytes passed check_start().
bool frame_parser::decode_header(const uint8_t* h, frame_head& head) noexcept {
  head.fin = (h[0] & kFinBit) != 0;
  head.rsv1 = (h[0] & kRsv1Bit) != 0;
  head.op = static_cast<opcode>(h[0] & kOpcodeBits);
  head.masked = (h[1] & kMaskBit) != 0;
  const uint8_t len7 = h[1] & kLengthBits;
  size_t at = 2;
  bool minimal = true;
  if (len7 == kLength16) {
    head.length = uint64_t{h[2]} << 8 | h[3];
    minimal = head.length >= kLength16;
    at = 4;
  } else if (len7 == kLength64) {
    head.length = load_be64(h + 2);
    minimal = head.length > 0xFFFF;
    at = 10;
  } else {
    head.length = len7;
  }
  if (head.masked) std::memcpy(head.mask, h + at, 4);
  // h may point into state_, which fail() frees: everything is read above this line.

  // §5.2: "the most significant bit MUST be 0".
  if ((head.length >> 63) != 0) return fail(close_code::protocol_error, "length top bit set");
  // §5.2: "the minimal number of bytes MUST be used to encode the length".
  if (!minimal) return fail(close_code::protocol_error, "non-minimal length");
  if (!is_control(head.op)) {
    // The limit covers the whole message, so the running total of announced lengths is
    // checked when each header arrives: an oversized message fails before its payload does.
    const uint64_t so_far = head.op == opcode::continuation ? state_->message_size : 0;
    if (head.length > options_.max_message_size - so_far) {
      return fail(close_code::message_too_big, "message too big");
    }
  }
  return true;
}

const parse_error* frame_parser::feed(std::span<uint8_t> input, frame_handler& handler) {
  if (status_ != kOk) return status_ == kFailed ? failure() : nullptr;
  uint8_t* p = input.data();
  uint8_t* const end = p + input.size();
  while (p != end) {
    if (state_ && state_->in_payload) {
      p = consume_payload(p, end, handler);
    } else if (state_ && state_->header_have != 0) {
      p = continue_header(p, end, handler);
    } else {
      // At a frame boundary. The common case: the whole header is in the input, decode it
      // from there without copying.
      const size_t avail = static_cast<size_t>(end - p);
      if (avail >= 2 && avail >= header_size(p[1])) {
        frame_head head;
        if (!check_start(p[0], p[1]) || !decode_header(p, head)) break;
        p = begin_frame(head, p + header_size(p[1]), end, handler);
      } else {
        if (!ensure_state()) break;
        std::memcpy(state_->header, p, avail);
        state_->header_have = static_cast<uint8_t>(avail);
        if (avail >= 2 && !check_start(p[0], p[1])) break;
        p = end;
      }
    }
    if (p == nullptr) break;  // failed, closed or stopped by the handler
  }
  return status_ == kFailed ? failure() : nullptr;
}

const parse_error* frame_parser::failure() const noexcept {
  // Out of memory while failing: still an error, with a generic reason.
  static const parse_error kInternal{close_code::internal_error, "internal error"};
  return error_ ? error_.get() : &kInternal;
}

uint8_t* frame_parser::continue_header(uint8_t* p, uint8_t* end, frame_handler& handler) {
  state& st = *state_;
  if (st.header_have == 1) {
    st.header[1] = *p++;
    st.header_have = 2;
    if (!check_start(st.header[0], st.header[1])) return nullptr;
  }
  const size_t need = header_size(st.header[1]);
  const size_t take = std::min(need - st.header_have, static_cast<size_t>(end - p));
  std::memcpy(st.header + st.header_have, p, take);
  st.header_have = static_cast<uint8_t>(st.header_have + take);
  p += take;
  if (st.header_have < need) return p;
  st.header_have = 0;
  frame_head head;
  if (!decode_header(st.header, head)) return nullptr;
  return begin_frame(head, p, end, handler);
}

// Starts a frame whose header has been validated; its payload begins at p.
uint8_t* frame_parser::begin_frame(const frame_head& head, uint8_t* p, uint8_t* end,
                                   frame_handler& handler) {
  const bool control = is_control(head.op);
  const bool in_message = state_ && state_->in_message;
  if (head.length <= static_cast<uint64_t>(end - p) && (control || (head.fin && !in_message))) {
    // The whole frame is here and is a message (or control frame) on its own: unmask and
    // deliver it where it lies.
    const size_t n = static_cast<size_t>(head.length);
    if (head.masked) apply_mask(p, n, head.mask);
    const std::span<uint8_t> payload(p, n);
    if (control) {
      if (!deliver_control(head.op, payload, handler)) return nullptr;
    } else {
      const compressed c = head.rsv1 ? compressed::yes : compressed::no;
      // §8.1: a text message must be valid UTF-8; compressed text is checked after inflating.
      if (head.op == opcode::text && c == compressed::no && !is_valid_utf8(p, n)) {
        fail(close_code::invalid_payload, "invalid UTF-8");
        return nullptr;
      }
      if (!deliver_message(head.op, payload, c, handler)) return nullptr;
    }
    release_if_idle();  // a header gathered across feeds may have been the only state
    return p + n;
  }

  if (!ensure_state()) return nullptr;
  state& st = *state_;
  if (!control) {
    if (head.op != opcode::continuation) {
      st.in_message = true;
      st.message_op = head.op;
      st.message_compressed = head.rsv1 ? compressed::yes : compressed::no;
      st.check_utf8 = head.op == opcode::text && !head.rsv1;
      st.utf8.reset();
      st.message_size = 0;
    }
    st.message_size += head.length;
  }
  st.in_payload = true;
  st.frame_fin = head.fin;
  st.frame_op = head.op;
  st.frame_masked = head.masked;
  std::memcpy(st.mask, head.mask, 4);
  st.mask_phase = 0;
  st.payload_left = head.length;
  st.control_len = 0;
  return consume_payload(p, end, handler);  // also finishes an empty frame right away
}

uint8_t* frame_parser::consume_payload(uint8_t* p, uint8_t* end, frame_handler& handler) {
  state& st = *state_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(st.payload_left, end - p));
  if (n != 0) {
    if (st.frame_masked) {
      st.mask_phase = static_cast<uint8_t>(apply_mask(p, n, st.mask, st.mask_phase));
    }
    if (is_control(st.frame_op)) {
      std::memcpy(st.control + st.control_len, p, n);  // n <= 125 - control_len (check_start)
      st.control_len = static_cast<uint8_t>(st.control_len + n);
    } else {
      // §8.1 fail fast, per chunk and across fragments: a peer cannot make us buffer a text
      // message that is already known to be invalid (Autobahn 6.4.x).
      if (st.check_utf8 && !st.utf8.feed(p, n)) {
        fail(close_code::invalid_payload, "invalid UTF-8");
        return nullptr;
      }
      const uint64_t limit =
          st.frame_fin ? st.data.size() + st.payload_left : options_.max_message_size;
      if (!st.data.append(p, n, limit)) {
        fail(close_code::internal_error, "out of memory");
        return nullptr;
      }
    }
    st.payload_left -= n;
    p += n;
  }
  if (st.payload_left != 0) return p;  // p == end: wait for more input

  st.in_payload = false;
  if (is_control(st.frame_op)) {
    if (!deliver_control(st.frame_op, {st.control, st.control_len}, handler)) return nullptr;
  } else if (st.frame_fin) {
    // A code point may straddle fragments, but not the end of the message.
    if (st.check_utf8 && !st.utf8.complete()) {
      fail(close_code::invalid_payload, "invalid UTF-8");
      return nullptr;
    }
    if (!deliver_message(st.message_op, st.data.bytes(), st.message_compressed, handler)) {
      return nullptr;
    }
    st.in_message = false;
  }
  release_if_idle();
  return p;
}

bool frame_parser::deliver_control(opcode op, std::span<uint8_t> payload, frame_handler& handler) {
  if (op == opcode::close) {
    // §5.5.1: an optional body that starts with a 2-byte status code, then a UTF-8 reason.
    if (payload.size() == 1) return fail(close_code::protocol_error, "1-byte close payload");
    if (payload.size() >= 2) {
      const uint16_t code = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
      if (!is_valid_close_code(code)) return fail(close_code::protocol_error, "bad close code");
      if (!is_valid_utf8(payload.data() + 2, payload.size() - 2)) {
        return fail(close_code::invalid_payload, "invalid UTF-8 in close reason");
      }
    }
    // §5.5.1: nothing follows a close frame; whatever does is not parsed.
    status_ = kClosed;
    handler.on_control(op, payload);
    state_.reset();  // after the call: payload may point into state_
    return false;
  }
  if (handler.on_control(op, payload)) return true;
  status_ = kStopped;
  state_.reset();
  return false;
}

bool frame_parser::deliver_message(opcode op, std::span<uint8_t> payload, compressed c,
                                   frame_handler& handler) {
  if (handler.on_message(op, payload, c)) return true;
  status_ = kStopped;
  state_.reset();
  return false;
}

}  // namespace relay::ws
