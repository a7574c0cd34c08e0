#pragma once
// The bytes a JSON string cannot hold as they are: control characters (< 0x20), '"' and '\'.
// Both the parser (where such a byte ends a plain run) and the serializer (where it must be
// escaped) skip clean text 8 bytes at a time with this test.
#include <cstdint>

namespace relay::json::detail {

// Does any of these 8 bytes need escaping (< 0x20, '"' or '\\')? Exact for existence (the bit
// tricks may misplace which byte, never miss one): a clean word is skipped whole.
inline bool word_needs_escape(uint64_t w) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  return (((w - kOnes * 0x20) & ~w & kHighs) | has_zero(w ^ (kOnes * '"')) |
          has_zero(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace relay::json::detail
