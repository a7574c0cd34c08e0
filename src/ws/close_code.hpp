#pragma once
#include <cstdint>

namespace relay::ws {

// RFC 6455 §7.4.1 (and the IANA registry).
enum class close_code : uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,         // never sent on the wire
  abnormal = 1006,          // never sent on the wire
  invalid_payload = 1007,   // e.g. invalid UTF-8 in a text message
  policy_violation = 1008,  // e.g. slow consumer over max_buffered_bytes
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
  service_restart = 1012,
  try_again_later = 1013,
  bad_gateway = 1014,  // IANA registry
};

// May this code appear in a received close frame? (RFC 6455 §7.4: 1000-1003, 1007-1014 and
// 3000-4999; 1004/1005/1006/1015 and everything else are invalid -> fail with 1002.)
bool is_valid_close_code(uint16_t code) noexcept;

}  // namespace relay::ws
