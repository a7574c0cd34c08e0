#include "proto/engineio/base64.hpp"

#include <array>

namespace relay::engineio {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Decoding table: 0..63 for alphabet characters; the marks below have a bit in 0xC0 set, so
// one OR over four lookups tells whether a group is plain data.
constexpr uint8_t kPad = 0x40;
constexpr uint8_t kLineBreak = 0x41;
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(kStandard[i])] = i;
  t['='] = kPad;
  t['\r'] = kLineBreak;
  t['\n'] = kLineBreak;
  return t;
}

constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

}  // namespace

char* base64_encode(std::string_view in, char* out, base64_alphabet alphabet) noexcept {
  const char* const abc = alphabet == base64_alphabet::url ? kUrl : kStandard;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t n = in.size();
  for (; n >= 3; n -= 3, p += 3) {
    const uint32_t v = uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
    out[0] = abc[v >> 18];
    out[1] = abc[(v >> 12) & 63];
    out[2] = abc[(v >> 6) & 63];
    out[3] = abc[v & 63];
    out += 4;
  }
  if (n != 0) {
    const uint32_t v = uint32_t{p[0]} << 16 | (n == 2 ? uint32_t{p[1]} << 8 : 0);
    out[0] = abc[v >> 18];
    out[1] = abc[(v >> 12) & 63];
    out[2] = n == 2 ? abc[(v >> 6) & 63] : '=';
    out[3] = '=';
    out += 4;
  }
  return out;
}

void base64_encode(std::string_view in, std::string& out, base64_alphabet alphabet) {
  const size_t old = out.size();
  out.resize(old + base64_encoded_size(in.size()));
  base64_encode(in, out.data() + old, alphabet);
}

std::optional<size_t> base64_decode(std::string_view in, char* out,
                                    base64_line_breaks breaks) noexcept {
  const bool skip = breaks == base64_line_breaks::skip;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const auto* const end = p + in.size();
  auto* o = reinterpret_cast<uint8_t*>(out);
  uint32_t acc = 0;  // sextets of the group being read
  int have = 0;      // how many of them
  while (p < end) {
    // Whole groups of plain data, the common case, four characters at a time.
    if (have == 0 && end - p >= 4) {
      const uint8_t a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]], d = kDecode[p[3]];
      if (((a | b | c | d) & 0xC0) == 0) {
        const uint32_t v = uint32_t{a} << 18 | uint32_t{b} << 12 | uint32_t{c} << 6 | d;
        o[0] = static_cast<uint8_t>(v >> 16);
        o[1] = static_cast<uint8_t>(v >> 8);
        o[2] = static_cast<uint8_t>(v);
        o += 3;
        p += 4;
        continue;
      }
    }
    const uint8_t v = kDecode[*p++];
    if (v < 64) {
      acc = acc << 6 | v;
      if (++have == 4) {
        o[0] = static_cast<uint8_t>(acc >> 16);
        o[1] = static_cast<uint8_t>(acc >> 8);
        o[2] = static_cast<uint8_t>(acc);
        o += 3;
        acc = 0;
        have = 0;
      }
      continue;
    }
    if (v == kLineBreak && skip) continue;
    if (v != kPad || have < 2) return std::nullopt;
    // Padding ends the input: "xx==" or "xxx=", then at most line breaks (when skipped).
    int pads_needed = 4 - have - 1;
    for (; p < end; ++p) {
      const uint8_t w = kDecode[*p];
      if (w == kPad && pads_needed > 0) {
        --pads_needed;
      } else if (!(w == kLineBreak && skip)) {
        return std::nullopt;
      }
    }
    if (pads_needed != 0) return std::nullopt;
    // RFC 4648 §3.5: the bits below the last whole byte must be zero.
    if (have == 2) {
      if ((acc & 0x0F) != 0) return std::nullopt;
      *o++ = static_cast<uint8_t>(acc >> 4);
    } else {
      if ((acc & 0x03) != 0) return std::nullopt;
      o[0] = static_cast<uint8_t>(acc >> 10);
      o[1] = static_cast<uint8_t>(acc >> 2);
      o += 2;
    }
    return static_cast<size_t>(o - reinterpret_cast<uint8_t*>(out));
  }
  if (have != 0) return std::nullopt;  // a group cut short without padding
  return static_cast<size_t>(o - reinterpret_cast<uint8_t*>(out));
}

bool base64_decode(std::string_view in, std::string& out, base64_line_breaks breaks) {
  const size_t old = out.size();
  out.resize(old + base64_max_decoded_size(in.size()));
  const std::optional<size_t> n = base64_decode(in, out.data() + old, breaks);
  out.resize(n ? old + *n : old);
  return n.has_value();
}

}  // namespace relay::engineio
