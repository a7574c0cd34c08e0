#pragma once
// Random bytes for client masking keys (RFC 6455 §5.3: each frame's key must be freshly
// chosen and unpredictable, "derived from a strong source of entropy") and for
// Sec-WebSocket-Key. Every byte handed out is kernel CSPRNG output (getrandom(2), ChaCha20),
// fetched kPoolSize bytes at a time: a fresh 4-byte key per frame then costs a copy, and one
// syscall per 1024 frames. Nothing is reused or stretched in user space.
//
// One instance per thread; not thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace relay::bench {

class mask_source {
 public:
  static constexpr size_t kPoolSize = 4096;

  void next_mask(uint8_t out[4]) noexcept {
    if (pos_ + 4 > kPoolSize) refill();
    std::memcpy(out, pool_.data() + pos_, 4);
    pos_ += 4;
  }
  void fill(uint8_t* out, size_t len) noexcept;

 private:
  void refill() noexcept;

  std::array<uint8_t, kPoolSize> pool_;
  size_t pos_ = kPoolSize;
};

}  // namespace relay::bench
