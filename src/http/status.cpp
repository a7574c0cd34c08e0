#include "http/status.hpp"

namespace relay::http {

std::string_view reason_phrase(status s) noexcept {
  // RFC 9110 §15 names each code; the phrase is advisory but clients show it to people.
  switch (s) {
    case status::switching_protocols:
      return "Switching Protocols";
    case status::ok:
      return "OK";
    case status::no_content:
      return "No Content";
    case status::bad_request:
      return "Bad Request";
    case status::unauthorized:
      return "Unauthorized";
    case status::forbidden:
      return "Forbidden";
    case status::not_found:
      return "Not Found";
    case status::method_not_allowed:
      return "Method Not Allowed";
    case status::request_timeout:
      return "Request Timeout";
    case status::conflict:
      return "Conflict";
    case status::payload_too_large:
      // RFC 9110 §15.5.14 renamed it "Content Too Large"; the older phrase matches the enum
      // and what most clients and logs expect.
      return "Payload Too Large";
    case status::upgrade_required:
      return "Upgrade Required";
    case status::too_many_requests:
      return "Too Many Requests";  // RFC 6585 §4
    case status::request_header_fields_too_large:
      return "Request Header Fields Too Large";  // RFC 6585 §5
    case status::internal_server_error:
      return "Internal Server Error";
    case status::not_implemented:
      return "Not Implemented";
    case status::service_unavailable:
      return "Service Unavailable";
    case status::http_version_not_supported:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

}  // namespace relay::http
