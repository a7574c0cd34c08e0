#pragma once
// Client side of the RFC 6455 §4.1 opening handshake, sans-IO and allocation-free (the
// handshake scenario opens tens of thousands of connections per second).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace relay::bench {

inline constexpr size_t kKeySize = 24;     // base64 of 16 random bytes
inline constexpr size_t kAcceptSize = 28;  // base64 of a 20-byte SHA-1
inline constexpr size_t kMaxResponseHead = 8192;

// base64(16 random bytes) into key (not NUL-terminated).
void make_client_key(const uint8_t random16[16], char key[kKeySize]) noexcept;

// Sec-WebSocket-Accept the server must answer: base64(SHA-1(key + GUID)), §4.2.2.
void expected_accept(const char key[kKeySize], char accept[kAcceptSize]) noexcept;

// Writes "GET path HTTP/1.1 ... \r\n\r\n" into out (capacity cap) and returns its length, or 0
// if it does not fit. No extensions and no subprotocol are offered.
size_t write_upgrade_request(char* out, size_t cap, std::string_view host_header,
                             std::string_view path, const char key[kKeySize]) noexcept;

enum class upgrade_status : uint8_t {
  incomplete,  // no "\r\n\r\n" yet
  ok,
  not_101,               // the server refused (status in http_status)
  bad_accept,            // missing or wrong Sec-WebSocket-Accept
  bad_upgrade,           // missing "Upgrade: websocket" or "Connection: Upgrade"
  unexpected_extension,  // an extension or subprotocol we did not offer (§4.1 items 5-6)
  malformed,             // not an HTTP/1.1 status line, or head larger than kMaxResponseHead
};

const char* to_string(upgrade_status s) noexcept;

struct upgrade_result {
  upgrade_status status = upgrade_status::incomplete;
  int http_status = 0;
  size_t head_size = 0;  // bytes of the response head; what follows is WebSocket frames
};

// Checks a server response against §4.1 (client requirements 1-6).
upgrade_result parse_upgrade_response(std::string_view data,
                                      const char accept[kAcceptSize]) noexcept;

}  // namespace relay::bench
