#pragma once
// Errors of the Socket.IO decoder. Every one means the peer sent something that is not
// Socket.IO v5 as socket.io-parser writes it; the Node server answers each by closing the
// Engine.IO session ("parse error"), and so should the caller.
#include <cstdint>
#include <string_view>
#include <system_error>

namespace relay::socketio {

enum class decode_errc : uint8_t {
  empty_packet = 1,      // a text message with no bytes
  unknown_type,          // first byte is not '0'..'6'
  bad_attachments,       // BINARY_*: the count is not digits followed by '-', or is 0
  too_many_attachments,  // BINARY_*: more than decoder_options::max_attachments
  bad_namespace,         // something before a ',' that does not start with '/'
  bad_ack_id,            // more than 16 digits, or above kMaxAckId
  missing_ack_id,        // an ACK without an id
  too_large,             // text longer than decoder_options::max_text_size
  too_deep,              // JSON nested deeper than decoder_options::max_depth
  invalid_json,          // the payload is not JSON
  invalid_payload,       // JSON, but not what the packet type allows (is_payload_valid)
  bad_placeholder,       // a {"_placeholder":true} whose num is not an attachment index
  unexpected_binary,     // a binary message while no BINARY_* packet awaits attachments
  unexpected_text,       // a text message while a BINARY_* packet awaits attachments
};

struct decode_error {
  decode_errc code;
  std::string_view message;  // static text for logs (the JSON parser's for invalid_json)
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(decode_errc e) noexcept;

// Short static text for logs, e.g. "unknown packet type".
std::string_view describe(decode_errc e) noexcept;

}  // namespace relay::socketio

template <>
struct std::is_error_code_enum<relay::socketio::decode_errc> : std::true_type {};
