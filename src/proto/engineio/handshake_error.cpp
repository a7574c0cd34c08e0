#include "proto/engineio/handshake_error.hpp"

namespace relay::engineio {

std::string_view node_message(handshake_error e) noexcept {
  switch (e) {
    case handshake_error::unknown_transport:
      return "Transport unknown";
    case handshake_error::unknown_sid:
      return "Session ID unknown";
    case handshake_error::bad_handshake_method:
      return "Bad handshake method";
    case handshake_error::bad_request:
      return "Bad request";
    case handshake_error::forbidden:
      return "Forbidden";
    case handshake_error::unsupported_protocol_version:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

uint16_t http_status(handshake_error e) noexcept {
  return e == handshake_error::forbidden ? 403 : 400;
}

void encode_error_body(handshake_error e, std::string& out) {
  out.append("{\"code\":");
  out.push_back(static_cast<char>('0' + static_cast<uint8_t>(e)));
  out.append(",\"message\":\"");
  out.append(node_message(e));  // plain ASCII, nothing to escape
  out.append("\"}");
}

}  // namespace relay::engineio
