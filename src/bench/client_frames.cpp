#include "bench/client_frames.hpp"

namespace relay::bench {

const char* to_string(frame_error e) noexcept {
  switch (e) {
    case frame_error::none:
      return "none";
    case frame_error::reserved_bits:
      return "reserved bits set";
    case frame_error::masked_frame:
      return "masked server frame";
    case frame_error::reserved_opcode:
      return "reserved opcode";
    case frame_error::bad_control_frame:
      return "fragmented or oversized control frame";
    case frame_error::bad_continuation:
      return "unexpected continuation or data frame";
    case frame_error::bad_length:
      return "invalid payload length encoding";
  }
  return "unknown";
}

frame_error server_frame_reader::start_frame(const uint8_t* h) noexcept {
  // RFC 6455 §5.2: RSV1-3 must be 0 unless an extension defines them; we negotiate none.
  if (h[0] & 0x70) return frame_error::reserved_bits;
  // §5.1: "A server MUST NOT mask any frames that it sends to the client."
  if (h[1] & 0x80) return frame_error::masked_frame;
  const uint8_t op = h[0] & 0x0F;
  if (op > 0xA || (op > 0x2 && op < 0x8)) return frame_error::reserved_opcode;
  frame_op_ = static_cast<ws::opcode>(op);
  frame_fin_ = (h[0] & 0x80) != 0;

  const uint8_t l7 = h[1] & 0x7F;
  uint64_t length = l7;
  if (l7 == 126) {
    length = (uint64_t{h[2]} << 8) | h[3];
    if (length < 126) return frame_error::bad_length;  // §5.2: minimal encoding
  } else if (l7 == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | h[2 + i];
    if ((length >> 63) != 0 || length <= 0xFFFF) return frame_error::bad_length;
  }

  if (ws::is_control(frame_op_)) {
    // §5.5: control frames are at most 125 bytes and never fragmented.
    if (!frame_fin_ || length > 125) return frame_error::bad_control_frame;
    control_len_ = 0;
  } else if (frame_op_ == ws::opcode::continuation) {
    if (!in_message_) return frame_error::bad_continuation;
  } else {
    // §5.4: a new data message may not start inside a fragmented one.
    if (in_message_) return frame_error::bad_continuation;
    in_message_ = true;
    message_op_ = frame_op_;
    message_len_ = 0;
    head_len_kept_ = 0;
    tail_[0] = tail_[1] = 0;
  }
  payload_left_ = length;
  in_frame_ = true;
  return frame_error::none;
}

namespace {

// dst = src XOR mask, starting at mask phase 0. One pass instead of memcpy + ws::apply_mask,
// and a plain word loop the compiler vectorises: masking is the load generator's main
// per-byte cost on large messages.
void copy_masked(uint8_t* dst, const uint8_t* src, size_t len, const uint8_t mask[4]) noexcept {
  uint32_t m32;
  std::memcpy(&m32, mask, 4);
  const uint64_t m = (uint64_t{m32} << 32) | m32;  // mask repeated: same bytes either endianness
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= m;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < len; ++i) dst[i] = src[i] ^ mask[i & 3];
}

}  // namespace

size_t write_client_frame(uint8_t* out, ws::opcode op, std::span<const uint8_t> payload,
                          const uint8_t mask[4]) noexcept {
  const size_t h = ws::write_frame_header(out, op, payload.size(), ws::final_frame::yes,
                                          ws::compressed::no, mask);
  copy_masked(out + h, payload.data(), payload.size(), mask);
  return h + payload.size();
}

size_t write_stamped_frame(uint8_t* out, ws::opcode op, std::span<const uint8_t> payload_template,
                           uint64_t send_ns, const uint8_t mask[4], size_t stamp_at) noexcept {
  const size_t n = payload_template.size();
  const size_t h =
      ws::write_frame_header(out, op, n, ws::final_frame::yes, ws::compressed::no, mask);
  uint8_t* payload = out + h;
  copy_masked(payload, payload_template.data(), n, mask);
  if (stamp_at == kNoStamp || stamp_at > n || n - stamp_at < kStampSize) return h + n;
  // The template went out masked in one pass; overwrite its kStampSize bytes at stamp_at,
  // masked at their phase (stamp_at need not be a multiple of 4).
  uint8_t stamp[kStampSize];
  encode_stamp(send_ns, stamp);
  for (size_t i = 0; i < kStampSize; ++i)
    payload[stamp_at + i] = stamp[i] ^ mask[(stamp_at + i) & 3];
  return h + n;
}

}  // namespace relay::bench
