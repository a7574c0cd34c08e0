#pragma once
// Socket.IO v5 packet decoder (sans-IO): Engine.IO messages in, packets out. Reads what
// socket.io-parser's Encoder writes and rejects, as its Decoder does, everything else, a
// little more strictly (see error.hpp and is_payload_valid): only ASCII digits count as digits,
// EVENT / ACK / CONNECT_ERROR need a payload, an ACK needs an id, ids stop at kMaxAckId, and
// a bad placeholder is reported as soon as the text arrives.
//
// A BINARY_EVENT / BINARY_ACK text announces N attachments; the packet is returned once the N
// following binary messages have arrived, with every placeholder {"_placeholder":true,"num":i}
// (at any depth) replaced by attachment i, and typed EVENT / ACK, as socket.io-parser does.
//
// After an error the decoder drops any partial packet and starts afresh with the next
// message, but the caller should close the session: the stream cannot be trusted any more.
// Not thread-safe; one decoder per Engine.IO session.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "proto/socketio/error.hpp"
#include "proto/socketio/packet.hpp"
#include "relay/json.hpp"

namespace relay::socketio {

struct decoder_options {
  size_t max_attachments = 10;  // socket.io-parser's maxAttachments default
  uint32_t max_depth = 32;      // JSON nesting, the payload array included
  size_t max_text_size = size_t{16} << 20;
};

class decoder {
 public:
  // A packet when one is complete, nullopt while attachments are awaited.
  using result = tl::expected<std::optional<packet>, decode_error>;

  // The options are referenced, not copied (one decoder lives per connection): they must
  // outlive the decoder.
  decoder() noexcept : options_(&kDefaultOptions) {}
  explicit decoder(const decoder_options& options) noexcept : options_(&options) {}
  explicit decoder(decoder_options&&) = delete;

  // One Engine.IO text message (without the Engine.IO "4" type byte).
  result feed_text(std::string_view text);
  // One Engine.IO binary message. A null pointer counts as an empty attachment.
  result feed_binary(json::binary_ptr data);

  // Is a BINARY_* packet waiting for attachments?
  bool awaiting_attachments() const noexcept { return pending_ != nullptr; }
  // Drops a partial packet (e.g. when the session closes).
  void reset() noexcept;

 private:
  // A binary packet waiting for its attachments. Rare, and one decoder lives per connection:
  // allocated only while needed.
  struct partial {
    packet p;
    size_t expected = 0;
    std::vector<json::binary_ptr> attachments;
  };
  static const decoder_options kDefaultOptions;
  const decoder_options* options_;
  std::unique_ptr<partial> pending_;
};

}  // namespace relay::socketio
