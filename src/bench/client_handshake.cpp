#include "bench/client_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "http/request.hpp"

namespace relay::bench {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

using http::iequals;  // ASCII case-insensitive, as HTTP compares header names

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated list contains token (case-insensitive), e.g. "keep-alive, Upgrade".
bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool append(char* out, size_t cap, size_t* len, std::string_view s) noexcept {
  if (cap - *len < s.size()) return false;
  std::memcpy(out + *len, s.data(), s.size());
  *len += s.size();
  return true;
}

}  // namespace

void make_client_key(const uint8_t random16[16], char key[kKeySize]) noexcept {
  unsigned char b64[kKeySize + 1];  // EVP_EncodeBlock writes a trailing NUL
  EVP_EncodeBlock(b64, random16, 16);
  std::memcpy(key, b64, kKeySize);
}

void expected_accept(const char key[kKeySize], char accept[kAcceptSize]) noexcept {
  unsigned char input[kKeySize + kGuid.size()];
  std::memcpy(input, key, kKeySize);
  std::memcpy(input + kKeySize, kGuid.data(), kGuid.size());
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(input, sizeof input, digest);
  unsigned char b64[kAcceptSize + 1];
  EVP_EncodeBlock(b64, digest, SHA_DIGEST_LENGTH);
  std::memcpy(accept, b64, kAcceptSize);
}

size_t write_upgrade_request(char* out, size_t cap, std::string_view host_header,
                             std::string_view path, const char key[kKeySize]) noexcept {
  size_t n = 0;
  const bool ok =
      append(out, cap, &n, "GET ") && append(out, cap, &n, path) &&
      append(out, cap, &n, " HTTP/1.1\r\nHost: ") && append(out, cap, &n, host_header) &&
      append(out, cap, &n,
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ") &&
      append(out, cap, &n, std::string_view(key, kKeySize)) && append(out, cap, &n, "\r\n\r\n");
  return ok ? n : 0;
}

const char* to_string(upgrade_status s) noexcept {
  switch (s) {
    case upgrade_status::incomplete:
      return "incomplete";
    case upgrade_status::ok:
      return "ok";
    case upgrade_status::not_101:
      return "status is not 101";
    case upgrade_status::bad_accept:
      return "bad Sec-WebSocket-Accept";
    case upgrade_status::bad_upgrade:
      return "missing Upgrade/Connection header";
    case upgrade_status::unexpected_extension:
      return "extension or subprotocol not offered";
    case upgrade_status::malformed:
      return "malformed response";
  }
  return "unknown";
}

upgrade_result parse_upgrade_response(std::string_view data,
                                      const char accept[kAcceptSize]) noexcept {
  upgrade_result r;
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > kMaxResponseHead) r.status = upgrade_status::malformed;
    return r;
  }
  r.head_size = end + 4;
  std::string_view head = data.substr(0, end + 2);  // every line ends with CRLF

  const size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  // "HTTP/1.1 101 Switching Protocols"
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    r.status = upgrade_status::malformed;
    return r;
  }
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    const char c = status_line[i];
    if (c < '0' || c > '9') {
      r.status = upgrade_status::malformed;
      return r;
    }
    code = code * 10 + (c - '0');
  }
  r.http_status = code;
  if (code != 101) {
    r.status = upgrade_status::not_101;
    return r;
  }

  bool upgrade = false, connection = false, accepted = false, extra = false;
  while (!head.empty()) {
    const size_t line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      r.status = upgrade_status::malformed;
      return r;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "upgrade")) {
      upgrade = iequals(value, "websocket");
    } else if (iequals(name, "connection")) {
      connection = has_token(value, "upgrade");
    } else if (iequals(name, "sec-websocket-accept")) {
      accepted = value == std::string_view(accept, kAcceptSize);
    } else if (iequals(name, "sec-websocket-extensions") ||
               iequals(name, "sec-websocket-protocol")) {
      extra = true;
    }
  }
  if (!upgrade || !connection)
    r.status = upgrade_status::bad_upgrade;
  else if (!accepted)
    r.status = upgrade_status::bad_accept;
  else if (extra)
    r.status = upgrade_status::unexpected_extension;
  else
    r.status = upgrade_status::ok;
  return r;
}

}  // namespace relay::bench
