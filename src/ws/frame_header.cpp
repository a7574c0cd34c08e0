#include "ws/frame_header.hpp"

namespace relay::ws {

size_t apply_mask(uint8_t* data, size_t len, const uint8_t mask[4], size_t phase) noexcept {
  size_t i = 0;
  // Align to 8 bytes one byte at a time, then XOR 64-bit words with the rotated mask.
  while (i < len && (reinterpret_cast<uintptr_t>(data + i) & 7) != 0) {
    data[i++] ^= mask[phase];
    phase = (phase + 1) & 3;
  }
  if (len - i >= 8) {
    uint8_t rotated[8];
    for (int k = 0; k < 8; ++k) rotated[k] = mask[(phase + k) & 3];
    uint64_t m;
    std::memcpy(&m, rotated, 8);
    for (; len - i >= 8; i += 8) {
      uint64_t w;
      std::memcpy(&w, data + i, 8);
      w ^= m;
      std::memcpy(data + i, &w, 8);
    }
  }
  while (i < len) {
    data[i++] ^= mask[phase];
    phase = (phase + 1) & 3;
  }
  return phase;
}

}  // namespace relay::ws
