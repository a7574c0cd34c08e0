#include "ws/frame_header.hpp"

#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relay::ws {

size_t apply_mask(uint8_t* data, size_t len, const uint8_t mask[4], size_t phase) noexcept {
  // The mask repeats every 4 bytes, so the key rotated to `phase` and repeated lines up with
  // every 16-, 8- and 4-byte offset from data. Unaligned loads cost nothing extra on current x86
  // and ARM cores, so there is no alignment prologue (it dominated 32-byte frames).
  if constexpr (std::endian::native != std::endian::little) {
    for (size_t i = 0; i < len; ++i) data[i] ^= mask[(phase + i) & 3];
    return (phase + len) & 3;
  }
  // Built in registers: byte stores into an array read back as one vector stall on
  // store-to-load forwarding, which cost more than the XOR loop itself for 1 KiB frames.
  uint32_t m32;
  std::memcpy(&m32, mask, 4);
  m32 = std::rotr(m32, static_cast<int>(8 * (phase & 3)));  // byte k = mask[(phase + k) & 3]
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i m = _mm_set1_epi32(static_cast<int>(m32));
  for (; len - i >= 64; i += 64) {
    auto* p = reinterpret_cast<__m128i*>(data + i);
    const __m128i a = _mm_xor_si128(_mm_loadu_si128(p), m);
    const __m128i b = _mm_xor_si128(_mm_loadu_si128(p + 1), m);
    const __m128i c = _mm_xor_si128(_mm_loadu_si128(p + 2), m);
    const __m128i d = _mm_xor_si128(_mm_loadu_si128(p + 3), m);
    _mm_storeu_si128(p, a);
    _mm_storeu_si128(p + 1, b);
    _mm_storeu_si128(p + 2, c);
    _mm_storeu_si128(p + 3, d);
  }
  for (; len - i >= 16; i += 16) {
    auto* p = reinterpret_cast<__m128i*>(data + i);
    _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), m));
  }
#endif
  const uint64_t m64 = uint64_t{m32} << 32 | m32;
  for (; len - i >= 8; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= m64;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < len; ++i) data[i] ^= static_cast<uint8_t>(m32 >> (8 * (i & 3)));
  return (phase + len) & 3;
}

}  // namespace relay::ws
