#include "http/response_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace relay::http {
namespace {

using namespace std::string_view_literals;

// RFC 9110 §8.6 and §6.4.1: 1xx and 204 responses have no content and a server MUST NOT send
// Content-Length in them (a 101 that carried one could confuse a client's upgrade).
bool has_no_content(status s) noexcept {
  const auto code = static_cast<uint16_t>(s);
  return code < 200 || s == status::no_content;
}

// Appends a decimal number without a temporary std::string.
void append_number(std::string& out, uint64_t n) {
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out.append(digits, end);
}

}  // namespace

std::string make_response(status s, std::string_view content_type, std::string_view body,
                          keep_alive ka, std::string_view extra_headers) {
  const bool no_content = has_no_content(s);
  if (no_content) body = {};
  const std::string_view reason = reason_phrase(s);

  // One allocation: size everything up front (20 digits covers any Content-Length).
  std::string out;
  out.reserve("HTTP/1.1 000 \r\n"sv.size() + reason.size() + extra_headers.size() +
              "Content-Type: \r\n"sv.size() + content_type.size() +
              "Content-Length: \r\n"sv.size() + 20 + "Connection: close\r\n"sv.size() +
              "\r\n"sv.size() + body.size());

  out.append("HTTP/1.1 "sv);
  append_number(out, static_cast<uint16_t>(s));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n"sv);
  out.append(extra_headers);
  if (!body.empty() && !content_type.empty()) {
    out.append("Content-Type: "sv);
    out.append(content_type);
    out.append("\r\n"sv);
  }
  if (!no_content) {
    // Always sent, even for an empty body: without it a keep-alive client cannot tell where
    // the response ends (RFC 9112 §6.3).
    out.append("Content-Length: "sv);
    append_number(out, body.size());
    out.append("\r\n"sv);
  }
  if (ka == keep_alive::no) out.append("Connection: close\r\n"sv);  // RFC 9112 §9.6
  out.append("\r\n"sv);
  out.append(body);
  return out;
}

std::string make_error_response(status s, std::string_view extra_headers) {
  // Body "413 Payload Too Large\n": names the error for someone reading it with curl.
  char body[64];
  char* p = body;
  const auto [code_end, ec] = std::to_chars(p, body + 8, static_cast<uint16_t>(s));
  p = code_end;
  *p++ = ' ';
  std::string_view reason = reason_phrase(s);
  const size_t room = static_cast<size_t>(body + sizeof(body) - 1 - p);
  if (reason.size() > room) reason = reason.substr(0, room);
  p = std::copy(reason.begin(), reason.end(), p);
  *p++ = '\n';
  // An error leaves the request stream in an unknown state (the body may be unread), so the
  // connection always closes after it.
  return make_response(s, "text/plain; charset=utf-8", std::string_view(body, p - body),
                       keep_alive::no, extra_headers);
}

}  // namespace relay::http
