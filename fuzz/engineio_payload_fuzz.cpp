// Fuzzes the Engine.IO v4 codec (src/proto/engineio): long-polling payloads, WebSocket text
// frames, base64 and the handshake query. Byte 0 picks the payload limits; the rest is the body.
//   - decode_payload must agree with a plain reference decoder written from the spec below
//     (success or failure, and the packets); on success the packets re-encode, and re-decode to
//     the same packets, and that encoding is a fixed point (canonical base64).
//   - decode_ws_text must take the digit off and keep the rest, and encode back to the input.
//   - base64 must round-trip the raw bytes; parse_query must keep its contract.
// Any disagreement traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/engineio/base64.hpp"
#include "proto/engineio/packet.hpp"
#include "proto/engineio/payload.hpp"
#include "proto/engineio/query.hpp"
#include "proto/engineio/ws_codec.hpp"

namespace {

using namespace relay::engineio;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

constexpr size_t kMaxPayload[8] = {1'000'000, 0, 1, 2, 7, 16, 64, 1000};
constexpr size_t kMaxPackets[8] = {100'000, 0, 1, 2, 3, 5, 16, 1000};

// RFC 4648 §4 read literally: drop CR/LF, whole groups of four, '=' only closing the last one,
// zero bits under the padding.
std::optional<std::string> reference_base64(std::string_view in) {
  std::string s;
  for (const char c : in) {
    if (c != '\r' && c != '\n') s.push_back(c);
  }
  if (s.size() % 4 != 0) return std::nullopt;
  static constexpr std::string_view kAbc =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t g = 0; g < s.size(); g += 4) {
    const bool last = g + 4 == s.size();
    size_t pads = 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = s[g + k];
      if (c == '=') {
        if (!last || k < 2) return std::nullopt;
        ++pads;
        v <<= 6;
        continue;
      }
      if (pads != 0) return std::nullopt;  // data after padding
      const size_t idx = kAbc.find(c);
      if (idx == std::string_view::npos) return std::nullopt;
      v = v << 6 | static_cast<uint32_t>(idx);
    }
    const size_t bytes = 3 - pads;
    if (pads == 1 && (v & 0xFF) != 0) return std::nullopt;
    if (pads == 2 && (v & 0xFFFF) != 0) return std::nullopt;
    for (size_t k = 0; k < bytes; ++k) out.push_back(static_cast<char>(v >> (16 - 8 * k)));
  }
  return out;
}

std::optional<std::vector<packet>> reference_payload(std::string_view body,
                                                     const payload_limits& limits) {
  if (body.size() > limits.max_payload || body.empty()) return std::nullopt;
  std::vector<std::string_view> records;
  size_t start = 0;
  for (size_t i = 0; i <= body.size(); ++i) {
    if (i == body.size() || body[i] == '\x1e') {
      records.push_back(body.substr(start, i - start));
      start = i + 1;
    }
  }
  if (records.size() > limits.max_packets) return std::nullopt;
  std::vector<packet> out;
  for (const std::string_view r : records) {
    if (r.empty()) return std::nullopt;
    if (r[0] == 'b') {
      std::optional<std::string> bytes = reference_base64(r.substr(1));
      if (!bytes) return std::nullopt;
      out.push_back({packet_type::message, true, std::move(*bytes)});
    } else if (r[0] >= '0' && r[0] <= '6') {
      out.push_back({static_cast<packet_type>(r[0] - '0'), false, std::string(r.substr(1))});
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<packet> owned(const decoded_payload& d) {
  std::vector<packet> out;
  for (const packet_ref& p : d) out.push_back(packet::from(p));
  return out;
}

void fuzz_payload(std::string_view body, const payload_limits& limits) {
  auto decoded = decode_payload(body, limits);
  const std::optional<std::vector<packet>> model = reference_payload(body, limits);
  check(decoded.has_value() == model.has_value(), "decode_payload == reference (accepts)");
  if (!decoded) {
    if (body.size() > limits.max_payload) {
      check(decoded.error() == error::payload_too_large, "oversized body is payload_too_large");
    }
    return;
  }
  const std::vector<packet> packets = owned(*decoded);
  check(packets == *model, "decode_payload == reference (packets)");
  check(!packets.empty() && packets.size() <= limits.max_packets, "packet count within limits");
  for (const packet_ref& p : *decoded) {
    check(uint8_t(p.type) < kPacketTypeCount, "type in range");
    check(!p.binary || p.type == packet_type::message, "binary packets are messages");
    check(p.binary || p.data.find('\x1e') == std::string_view::npos, "no separator in text");
    if (!p.binary) {
      check(p.data.data() >= body.data() &&
                p.data.data() + p.data.size() <= body.data() + body.size(),
            "text views the body");
    }
  }
  std::string encoded;
  encode_payload(decoded->packets(), encoded);
  check(encoded.size() <= body.size(), "canonical encoding is no longer than the input");
  const auto again = decode_payload(encoded);
  check(again.has_value(), "re-encoded payload decodes");
  check(owned(*again) == packets, "re-decoded packets are the same");
  std::string encoded_again;
  encode_payload(again->packets(), encoded_again);
  check(encoded_again == encoded, "encoding is a fixed point");
}

void fuzz_ws_text(std::string_view frame) {
  const auto plain = decode_ws_text(frame);
  if (plain) {
    check(!frame.empty() && frame[0] == to_char(plain->type), "type is the first byte");
    check(!plain->binary && plain->data == frame.substr(1), "data is the rest");
    std::string out;
    check(encode_ws(*plain, out) == ws_frame_kind::text && out == frame, "encode_ws round trip");
  } else {
    check(frame.empty() || !packet_type_from_char(frame[0]), "only empty or bad type fails");
  }
  std::string scratch;
  const auto with_b64 = decode_ws_text(frame, &scratch);
  if (!frame.empty() && frame[0] == 'b') {
    const std::optional<std::string> model = reference_base64(frame.substr(1));
    check(with_b64.has_value() == model.has_value(), "ws base64 == reference (accepts)");
    if (with_b64) {
      check(with_b64->binary && with_b64->data == *model, "ws base64 == reference (bytes)");
    }
  } else {
    check(with_b64 == plain, "scratch changes nothing for non-base64 frames");
  }
}

void fuzz_base64(std::string_view raw) {
  for (const auto alphabet : {base64_alphabet::standard, base64_alphabet::url}) {
    std::string enc;
    base64_encode(raw, enc, alphabet);
    check(enc.size() == base64_encoded_size(raw.size()), "encoded size");
    if (alphabet == base64_alphabet::standard) {
      std::string dec;
      check(base64_decode(enc, dec) && dec == raw, "base64 round trip");
    }
  }
  // Strict decoding of the raw bytes as text agrees with the reference (CR/LF aside).
  std::string dec;
  const bool ok = base64_decode(raw, dec, base64_line_breaks::skip);
  const std::optional<std::string> model = reference_base64(raw);
  check(ok == model.has_value() && (!ok || dec == *model), "base64_decode == reference");
}

void fuzz_query(std::string_view query) {
  const handshake_query q = parse_query(query);
  check(q.sid().size() <= kMaxQuerySidSize, "sid within its buffer");
  if (q.valid) {
    check(q.eio == 4, "valid means EIO 4");
    check(q.has_sid == !q.sid().empty(), "valid sid is non-empty");
  } else {
    check(!q.reason.empty(), "invalid has a reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  payload_limits limits;
  limits.max_payload = kMaxPayload[data[0] & 7];
  limits.max_packets = kMaxPackets[(data[0] >> 3) & 7];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz_payload(body, limits);
  fuzz_ws_text(body);
  fuzz_base64(body);
  fuzz_query(body);
  return 0;
}
