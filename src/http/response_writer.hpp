#pragma once
// Serializes HTTP/1.1 responses into a byte string (the connection queues it).
#include <string>
#include <string_view>

#include "http/status.hpp"

namespace relay::http {

enum class keep_alive : uint8_t { no, yes };

// A complete response with Content-Length; `extra_headers` is zero or more "Name: value\r\n"
// lines, written right after the status line. Adds Date-free, minimal headers:
// Content-Length, Content-Type (if body and content_type are non-empty), Connection: close
// (if no keep-alive). 1xx and 204 responses have no content (RFC 9110 §6.4.1, §8.6): for
// them `body` is ignored and no Content-Length is sent. One allocation.
std::string make_response(status s, std::string_view content_type, std::string_view body,
                          keep_alive ka, std::string_view extra_headers = {});

// A short plain-text error response that closes the connection, e.g. for 400/408/413/431;
// the body is "<code> <reason>\n".
std::string make_error_response(status s, std::string_view extra_headers = {});

}  // namespace relay::http
