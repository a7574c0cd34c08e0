#include "bench/payload_stamp.hpp"

#include <array>

namespace relay::bench {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecode = make_decode_table();

}  // namespace

void encode_stamp(uint64_t ns, uint8_t out[kStampSize]) noexcept {
  ns &= kStampMask;
  for (size_t i = 0; i < kStampSize; ++i) {
    out[kStampSize - 1 - i] = static_cast<uint8_t>(kAlphabet[ns & 63]);
    ns >>= 6;
  }
}

bool decode_stamp(const uint8_t in[kStampSize], uint64_t* ns) noexcept {
  uint64_t v = 0;
  int bad = 0;
  for (size_t i = 0; i < kStampSize; ++i) {
    const int8_t d = kDecode[in[i]];
    bad |= d;  // any -1 sets the sign bit
    v = (v << 6) | static_cast<uint8_t>(d & 63);
  }
  *ns = v;
  return bad >= 0;
}

}  // namespace relay::bench
