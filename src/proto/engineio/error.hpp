#pragma once
// Errors of the Engine.IO codec. Every one means the peer sent something that is not Engine.IO
// v4: the Node server answers each by closing the session ("parse error"), except a payload over
// maxHttpBufferSize, which it answers with 413 before parsing.
#include <cstdint>
#include <string_view>
#include <system_error>

namespace relay::engineio {

enum class error : uint8_t {
  empty_payload = 1,  // a long-polling body with no bytes
  empty_packet,       // a frame, or a record between '\x1e' separators, with no bytes
  bad_packet_type,    // first byte is not '0'..'6' (nor 'b' where base64 is accepted)
  bad_base64,         // a "b..." packet whose base64 is not strict RFC 4648 §4
  too_many_packets,   // more records than payload_limits::max_packets
  payload_too_large,  // body above payload_limits::max_payload
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(error e) noexcept;

// Short static text for logs, e.g. "bad packet type".
std::string_view describe(error e) noexcept;

// The HTTP status a long-polling POST gets for this error: 413 for payload_too_large (as Node's
// maxHttpBufferSize check), 400 otherwise. The session is closed either way.
uint16_t http_status(error e) noexcept;

}  // namespace relay::engineio

template <>
struct std::is_error_code_enum<relay::engineio::error> : std::true_type {};
