#pragma once
#include <cstdint>
#include <string_view>

namespace relay::http {

enum class status : uint16_t {
  switching_protocols = 101,
  ok = 200,
  no_content = 204,
  bad_request = 400,
  unauthorized = 401,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  request_timeout = 408,
  conflict = 409,
  payload_too_large = 413,
  upgrade_required = 426,
  too_many_requests = 429,
  request_header_fields_too_large = 431,
  internal_server_error = 500,
  not_implemented = 501,
  service_unavailable = 503,
  http_version_not_supported = 505,
};

// "Not Found" etc.; "Unknown" for values outside the enum.
std::string_view reason_phrase(status s) noexcept;

}  // namespace relay::http
