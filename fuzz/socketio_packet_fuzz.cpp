// Fuzzes the Socket.IO packet decoder and encoder (src/proto/socketio). Byte 0 says which
// messages are binary (bit i % 8 for message i), byte 1 picks the decoder limits; the rest is a
// sequence of Engine.IO messages separated by 0x1e (the long-polling record separator). They
// are fed to one decoder in order. Checks:
//   1. every message yields a packet, "need more", or an error value; never a crash;
//   2. after an error the decoder holds no partial packet;
//   3. every packet is valid (is_valid) and typed CONNECT..CONNECT_ERROR (never BINARY_*);
//   4. encoding it and decoding the result with a fresh decoder gives the same packet (numbers
//      compared as JavaScript does), and encoding that again gives the same bytes.
// Anything else traps.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "proto/socketio/decoder.hpp"
#include "proto/socketio/encoder.hpp"
#include "proto/socketio/packet.hpp"
#include "relay/json.hpp"
#include "json_fuzz_support.hpp"

namespace {

using relay::json::value;
using relay::json::value_type;
using relay::socketio::decoder;
using relay::socketio::decoder_options;
using relay::socketio::encoded_packet;
using relay::socketio::packet;
using relay::socketio::packet_type;

using relay_fuzz::check;
using relay_fuzz::js_equal;

bool same_packet(const packet& a, const packet& b) {
  if (a.type != b.type || a.nsp != b.nsp || a.id != b.id) return false;
  if (a.data.has_value() != b.data.has_value()) return false;
  return !a.data || js_equal(*a.data, *b.data);
}

// Decodes an encoded packet with a fresh decoder; limits wide enough for re-encoded data
// (numbers may get longer, a blob referenced twice becomes two attachments).
packet decode_again(const encoded_packet& e, uint32_t max_depth) {
  decoder_options options;
  options.max_attachments = e.attachments.size() + 1;
  options.max_depth = max_depth;
  options.max_text_size = SIZE_MAX;
  decoder d(options);
  auto r = d.feed_text(e.text);
  for (const auto& a : e.attachments) {
    check(r.has_value() && !r->has_value(), "re-encoded text awaits its attachments");
    r = d.feed_binary(a);
  }
  check(r.has_value(), "re-encoded packet decodes");
  check(r->has_value(), "re-encoded packet is complete");
  return std::move(**r);
}

void check_packet(const packet& p, uint32_t max_depth) {
  check(p.type != packet_type::binary_event && p.type != packet_type::binary_ack,
        "binary packets come out as EVENT / ACK");
  check(!p.nsp.empty() && p.nsp.front() == '/', "namespace starts with '/'");
  check(relay::socketio::is_valid(p), "decoded packet is valid");
  const encoded_packet e = relay::socketio::encode(p);
  check(e.attachments.empty() == !(p.data && p.data->contains_binary()), "attachments iff blobs");
  const packet back = decode_again(e, max_depth);
  check(same_packet(back, p), "decode(encode(p)) == p");
  const encoded_packet e2 = relay::socketio::encode(back);
  check(e2.text == e.text, "encode is a fixpoint");
  check(e2.attachments.size() == e.attachments.size(), "same attachment count");
  for (size_t i = 0; i < e.attachments.size(); ++i) {
    check(*e2.attachments[i] == *e.attachments[i], "same attachments");
  }
}

constexpr size_t kMaxAttachments[4] = {10, 0, 1, 3};
constexpr uint32_t kMaxDepths[4] = {32, 1, 2, 4};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t kinds = data[0];
  decoder_options options;
  options.max_attachments = kMaxAttachments[data[1] & 3];
  options.max_depth = kMaxDepths[(data[1] >> 2) & 3];
  if (data[1] & 0x10) options.max_text_size = 16;
  data += 2;
  size -= 2;

  decoder d(options);
  size_t index = 0;
  size_t start = 0;
  for (size_t i = 0; i <= size; ++i) {
    if (i < size && data[i] != 0x1e) continue;
    const bool binary = (kinds >> (index % 8)) & 1;
    ++index;
    decoder::result r;
    if (binary) {
      r = d.feed_binary(std::make_shared<const std::vector<uint8_t>>(data + start, data + i));
    } else {
      r = d.feed_text(std::string_view(reinterpret_cast<const char*>(data + start), i - start));
    }
    start = i + 1;
    if (!r) {
      check(!d.awaiting_attachments(), "no partial packet after an error");
      check(!r.error().message.empty(), "error has a message");
      continue;
    }
    if (r->has_value()) {
      check(!d.awaiting_attachments(), "nothing pending after a packet");
      check_packet(**r, options.max_depth);
    } else {
      check(d.awaiting_attachments(), "need more => awaiting attachments");
    }
  }
  return 0;
}
