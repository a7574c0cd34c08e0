#pragma once
// Frame header encoding (RFC 6455 §5.2) shared by the server, the load generator and the
// client: server frames are unmasked, client frames carry a 4-byte mask.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ws/opcode.hpp"

namespace relay::ws {

inline constexpr size_t kMaxFrameHeader = 14;

// Writes the header for a frame with `payload_len` bytes into out (>= kMaxFrameHeader bytes)
// and returns its length. mask == nullptr for server-to-client frames.
inline size_t write_frame_header(uint8_t* out, opcode op, uint64_t payload_len,
                                 final_frame fin = final_frame::yes,
                                 compressed rsv1 = compressed::no,
                                 const uint8_t* mask = nullptr) noexcept {
  out[0] = static_cast<uint8_t>((fin == final_frame::yes ? 0x80 : 0) |
                                (rsv1 == compressed::yes ? 0x40 : 0) |
                                static_cast<uint8_t>(op));
  const uint8_t mask_bit = mask ? 0x80 : 0;
  size_t n;
  if (payload_len < 126) {
    out[1] = static_cast<uint8_t>(mask_bit | payload_len);
    n = 2;
  } else if (payload_len <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<uint8_t>(payload_len >> 8);
    out[3] = static_cast<uint8_t>(payload_len);
    n = 4;
  } else {
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask) {
    std::memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

inline constexpr size_t frame_header_size(uint64_t payload_len, bool masked) noexcept {
  return (payload_len < 126 ? 2 : payload_len <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

// XORs data with the 4-byte mask, starting at mask position `phase` (0..3); returns the phase
// after the last byte. Word-at-a-time: this is on the hot path of every received frame.
size_t apply_mask(uint8_t* data, size_t len, const uint8_t mask[4], size_t phase = 0) noexcept;

}  // namespace relay::ws
