#include "ws/utf8.hpp"

#include <array>
#include <bit>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace relay::ws {
namespace {

// Byte classes. Continuation bytes are split in three ranges because the second byte after
// E0, ED, F0 and F4 is restricted (RFC 3629 §4, the "UTF8-3"/"UTF8-4" rules): that is what
// rejects overlongs, surrogates and code points above U+10FFFF without decoding.
enum byte_class : uint8_t {
  kAscii,    // 00..7F
  kCont8x,   // 80..8F
  kCont9x,   // 90..9F
  kContAB,   // A0..BF
  kInvalid,  // C0, C1 (always overlong), F5..FF (beyond U+10FFFF)
  kLead2,    // C2..DF
  kLeadE0,   // E0: next must be A0..BF (else overlong)
  kLead3,    // E1..EC, EE, EF
  kLeadED,   // ED: next must be 80..9F (else a surrogate)
  kLeadF0,   // F0: next must be 90..BF (else overlong)
  kLead4,    // F1..F3
  kLeadF4,   // F4: next must be 80..8F (else above U+10FFFF)
};

constexpr byte_class classify(unsigned b) {
  if (b < 0x80) return kAscii;
  if (b < 0x90) return kCont8x;
  if (b < 0xA0) return kCont9x;
  if (b < 0xC0) return kContAB;
  if (b < 0xC2) return kInvalid;
  if (b < 0xE0) return kLead2;
  if (b == 0xE0) return kLeadE0;
  if (b == 0xED) return kLeadED;
  if (b < 0xF0) return kLead3;
  if (b == 0xF0) return kLeadF0;
  if (b < 0xF4) return kLead4;
  if (b == 0xF4) return kLeadF4;
  return kInvalid;
}

constexpr std::array<uint8_t, 256> kClassOf = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) t[b] = classify(b);
  return t;
}();

// States, pre-multiplied by the row width so a transition is one add and one load.
constexpr uint8_t kRow = 16;
enum dfa_state : uint8_t {
  kAccept = 0 * kRow,   // between code points
  kNeed1 = 1 * kRow,    // one more continuation byte (any 80..BF)
  kNeed2 = 2 * kRow,    // two more
  kNeed3 = 3 * kRow,    // three more
  kAfterE0 = 4 * kRow,  // E0 seen: A0..BF then one more
  kAfterED = 5 * kRow,  // ED seen: 80..9F then one more
  kAfterF0 = 6 * kRow,  // F0 seen: 90..BF then two more
  kAfterF4 = 7 * kRow,  // F4 seen: 80..8F then two more
  kFail = utf8_validator::kReject,
};
static_assert(kFail == 8 * kRow);

constexpr uint8_t next_state(uint8_t s, uint8_t c) {
  const bool any_cont = c == kCont8x || c == kCont9x || c == kContAB;
  switch (s) {
    case kAccept:
      switch (c) {
        case kAscii:
          return kAccept;
        case kLead2:
          return kNeed1;
        case kLeadE0:
          return kAfterE0;
        case kLead3:
          return kNeed2;
        case kLeadED:
          return kAfterED;
        case kLeadF0:
          return kAfterF0;
        case kLead4:
          return kNeed3;
        case kLeadF4:
          return kAfterF4;
        default:
          return kFail;  // a stray continuation byte or C0/C1/F5..FF
      }
    case kNeed1:
      return any_cont ? kAccept : kFail;
    case kNeed2:
      return any_cont ? kNeed1 : kFail;
    case kNeed3:
      return any_cont ? kNeed2 : kFail;
    case kAfterE0:
      return c == kContAB ? kNeed1 : kFail;
    case kAfterED:
      return c == kCont8x || c == kCont9x ? kNeed1 : kFail;
    case kAfterF0:
      return c == kCont9x || c == kContAB ? kNeed2 : kFail;
    case kAfterF4:
      return c == kCont8x ? kNeed2 : kFail;
    default:
      return kFail;
  }
}

constexpr std::array<uint8_t, 9 * kRow> kTransition = [] {
  std::array<uint8_t, 9 * kRow> t{};
  for (unsigned s = 0; s < 9; ++s) {
    for (unsigned c = 0; c < kRow; ++c) {
      t[s * kRow + c] = next_state(static_cast<uint8_t>(s * kRow), static_cast<uint8_t>(c));
    }
  }
  return t;
}();

constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Index of the first byte at or after i that is not ASCII, or len. SSE2 where available (64
// bytes per step: text is mostly ASCII), then whole words read with memcpy (alignment-safe),
// locating the offending byte with a bit scan.
size_t skip_ascii(const uint8_t* data, size_t i, size_t len) noexcept {
#if defined(__SSE2__)
  while (len - i >= 64) {
    const auto* p = reinterpret_cast<const __m128i*>(data + i);
    const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(p), _mm_loadu_si128(p + 1)),
                                     _mm_or_si128(_mm_loadu_si128(p + 2), _mm_loadu_si128(p + 3)));
    if (_mm_movemask_epi8(any) != 0) break;
    i += 64;
  }
  while (len - i >= 16) {
    const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i)));
    if (high != 0) return i + static_cast<size_t>(std::countr_zero(static_cast<unsigned>(high)));
    i += 16;
  }
#else
  while (len - i >= 16) {
    uint64_t a, b;
    std::memcpy(&a, data + i, 8);
    std::memcpy(&b, data + i + 8, 8);
    if (((a | b) & kHighBits) != 0) break;
    i += 16;
  }
#endif
  while (len - i >= 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    const uint64_t high = w & kHighBits;
    if (high != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return i + static_cast<size_t>(std::countr_zero(high)) / 8;
      } else {
        return i + static_cast<size_t>(std::countl_zero(high)) / 8;
      }
    }
    i += 8;
  }
  while (i < len && data[i] < 0x80) ++i;
  return i;
}

}  // namespace

bool utf8_validator::feed(const uint8_t* data, size_t len) noexcept {
  uint8_t s = state_;
  if (s == kFail) return false;
  size_t i = 0;
  while (i < len) {
    if (s == kAccept && data[i] < 0x80) {
      i = skip_ascii(data, i, len);
      if (i == len) break;
    }
    s = kTransition[s + kClassOf[data[i]]];
    ++i;
    if (s == kFail) break;  // absorbing: nothing after the bad byte can repair it
  }
  state_ = s;
  return s != kFail;
}

bool is_valid_utf8(const uint8_t* data, size_t len) noexcept {
  utf8_validator v;
  return v.feed(data, len) && v.complete();
}

}  // namespace relay::ws
