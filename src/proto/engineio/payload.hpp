#pragma once
// Engine.IO v4 long-polling payloads (v4-current.md, "Packet encoding / HTTP long-polling"):
// packets joined by the record separator '\x1e', each the type digit and its data, or for a
// binary message 'b' and the base64 (standard alphabet, padded) of its bytes:
//   4hello\x1ebAQIDBA==   is   message "hello", binary message 01 02 03 04
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "proto/engineio/error.hpp"
#include "proto/engineio/packet.hpp"

namespace relay::engineio {

inline constexpr char kRecordSeparator = '\x1e';

struct payload_limits {
  // Bytes in one body: Node's maxHttpBufferSize default, which is also the maxPayload the open
  // packet announces (the client splits its payloads to fit).
  size_t max_payload = 1'000'000;
  // Packets in one body. A client flushing its offline buffer can legitimately send tens of
  // thousands of small packets in one POST; this only bounds the packet index a hostile body
  // makes us allocate (24 bytes a packet).
  size_t max_packets = 100'000;
};

// The packets of one payload. Text packets view the body given to decode_payload, which must
// outlive this object; binary packets view bytes owned here, which stay in place when the
// object is moved (it cannot be copied). The text is not checked for UTF-8 (Node would replace
// bad sequences with U+FFFD): the Socket.IO layer's JSON parser validates what it reads.
class decoded_payload {
 public:
  decoded_payload() = default;
  decoded_payload(decoded_payload&&) noexcept = default;
  decoded_payload& operator=(decoded_payload&&) noexcept = default;
  decoded_payload(const decoded_payload&) = delete;
  decoded_payload& operator=(const decoded_payload&) = delete;

  std::span<const packet_ref> packets() const noexcept { return packets_; }
  size_t size() const noexcept { return packets_.size(); }
  bool empty() const noexcept { return packets_.empty(); }
  const packet_ref& operator[](size_t i) const noexcept { return packets_[i]; }
  auto begin() const noexcept { return packets_.begin(); }
  auto end() const noexcept { return packets_.end(); }

 private:
  friend tl::expected<decoded_payload, error> decode_payload(std::string_view body,
                                                             const payload_limits& limits);
  std::vector<packet_ref> packets_;
  std::unique_ptr<char[]> binary_;  // the decoded bytes of every binary packet, back to back
};

// Decodes a whole POST body, all or nothing: the first error found fails the payload (Node
// would still deliver the packets before a bad one, then close the session; the session is
// closed either way). Errors: payload_too_large (checked first, before reading anything),
// empty_payload, empty_packet (e.g. "4a\x1e\x1e4b" or a trailing separator), bad_packet_type,
// too_many_packets (checked before anything is allocated), bad_base64 (strict RFC 4648, except
// that CR/LF are skipped, see base64_line_breaks). "b" alone is an empty binary message.
tl::expected<decoded_payload, error> decode_payload(std::string_view body,
                                                    const payload_limits& limits = {});

// Appends one packet in its long-polling form: type digit and data, or 'b' and base64 for a
// binary packet (whatever its type: engine.io-parser only sends binary messages).
void encode_packet(const packet_ref& p, std::string& out);

// Appends the packets joined by '\x1e', byte for byte what engine.io-parser 5's encodePayload
// produces; nothing for no packets. Text data containing '\x1e' would split on decoding, as
// in engine.io-parser (v4 assumes the separator is not used in data; Socket.IO's JSON escapes
// it).
void encode_payload(std::span<const packet_ref> packets, std::string& out);

}  // namespace relay::engineio
