#pragma once
// RFC 6455 §4.2 server handshake: validates an upgrade request and builds the 101 response.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/status.hpp"
#include "ws/permessage_deflate.hpp"

namespace relay::ws {

struct handshake_options {
  std::span<const std::string> subprotocols;  // server's supported list, in preference order
  deflate_config deflate;
};

struct handshake_result {
  std::string response;     // the full "HTTP/1.1 101 Switching Protocols\r\n...\r\n\r\n"
  std::string subprotocol;  // selected, or empty
  std::optional<deflate_params> deflate;
};

struct handshake_error {
  // 400 (malformed), 426 (missing/unsupported version), 405 (not GET), 500 (SHA-1 failed)
  http::status status;
  std::string_view reason;  // short static text for logs
  std::string response;     // the full HTTP error response; it closes the connection
};

// True if the request asks for a WebSocket upgrade (Upgrade lists "websocket"), whether or
// not the rest of the handshake is valid.
bool is_websocket_upgrade(const http::request& req) noexcept;

// Validates the client's opening handshake (RFC 6455 §4.2.1), in this order:
//   method GET                                   else 405 with "Allow: GET"
//   HTTP/1.1 or later                            else 400
//   exactly one Host                             else 400 (RFC 9112 §3.2)
//   Upgrade lists "websocket", Connection lists "upgrade" (case-insensitive)   else 400
//   one Sec-WebSocket-Version, exactly "13"      else 426 with "Sec-WebSocket-Version: 13"
//                                                and "Upgrade: websocket" (RFC 9110
//                                                §15.5.22); 400 if repeated
//   one Sec-WebSocket-Key, strict base64 of exactly 16 octets                  else 400
// then selects a subprotocol — the server's most preferred among those the client listed
// (case-sensitive, any number of Sec-WebSocket-Protocol lines); none in common means no
// Sec-WebSocket-Protocol in the response and the connection proceeds (§4.2.2 /subprotocol/)
// — and negotiates permessage-deflate over all Sec-WebSocket-Extensions lines.
// Returns the result, or fills *error (if non-null) and returns nullopt.
std::optional<handshake_result> accept_handshake(const http::request& req,
                                                 const handshake_options& options,
                                                 handshake_error* error);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455 §4.2.2. Empty only if
// the SHA-1 implementation fails.
std::string compute_accept_key(std::string_view client_key);

}  // namespace relay::ws
