#pragma once
// A parsed HTTP/1.1 request: views into the connection's receive buffer, valid until the
// connection consumes those bytes.
#include <cstdint>
#include <string_view>
#include <vector>

namespace relay::http {

struct header_field {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // leading/trailing whitespace trimmed
};

struct request {
  std::string_view method;  // "GET", ...
  std::string_view target;  // raw request-target: "/path?query", "http://host/path?query", "*"
  std::string_view path;    // target up to '?' (not percent-decoded); for absolute-form the
                            // path component ("/" if it has none); "*" for asterisk-form
  std::string_view query;   // after the first '?', without it; empty if none
  int version_minor = 1;    // HTTP/1.<minor>; only 1.0 and 1.1 are accepted
  std::vector<header_field> headers;
  std::string_view body;   // Content-Length or de-chunked body (chunked: decoded in place)
  bool keep_alive = true;  // from version + Connection header
  bool chunked = false;

  void clear() {
    method = target = path = query = body = {};
    version_minor = 1;
    headers.clear();
    keep_alive = true;
    chunked = false;
  }

  // First header with this name, ASCII case-insensitive; empty if absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
  // True if a comma-separated header (e.g. Connection, Upgrade) lists `token`,
  // case-insensitively, across all occurrences of the header. Elements are trimmed of
  // whitespace; an empty token never matches.
  bool header_has_token(std::string_view name, std::string_view token) const noexcept;
};

bool iequals(std::string_view a, std::string_view b) noexcept;
// s without leading and trailing spaces and tabs (RFC 9110's optional whitespace).
std::string_view trim_ows(std::string_view s) noexcept;

}  // namespace relay::http
