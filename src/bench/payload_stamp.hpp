#pragma once
// The send time embedded in every load-generator message, so that latency = receive time -
// send time without any per-message bookkeeping (each echo or delivery carries its own).
//
// A stamp is the low 48 bits of CLOCK_MONOTONIC in nanoseconds (wraps every ~78 h; differences
// are taken modulo 2^48), written as 8 characters of the base64url alphabet, 6 bits each.
// Characters rather than raw bytes because text messages must stay valid UTF-8 (RFC 6455
// §8.1) or the server closes the connection with 1007. Messages shorter than kStampSize carry
// no stamp and produce no latency samples.
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace relay::bench {

inline constexpr size_t kStampSize = 8;  // a multiple of 4: masking stays in phase after it
inline constexpr uint64_t kStampMask = (uint64_t{1} << 48) - 1;

inline uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void encode_stamp(uint64_t ns, uint8_t out[kStampSize]) noexcept;

// False if a byte is not in the alphabet: the payload was corrupted on the way.
bool decode_stamp(const uint8_t in[kStampSize], uint64_t* ns) noexcept;

// Elapsed time from a stamp to `now_ns` (both full monotonic values or stamps), modulo 2^48.
inline uint64_t stamp_elapsed(uint64_t stamp, uint64_t now_ns) noexcept {
  return (now_ns - stamp) & kStampMask;
}

}  // namespace relay::bench
