#include "ws/close_code.hpp"

namespace relay::ws {

bool is_valid_close_code(uint16_t code) noexcept {
  // RFC 6455 §7.4.1 defines 1000-1003 and 1007-1011; the IANA "WebSocket Close Code Number"
  // registry (§11.7) adds 1012-1014. 1004 is reserved, 1005/1006/1015 must never be sent
  // (§7.4.1), 0-999 and the unassigned 1016-2999 are not used (§7.4.2). 3000-3999 are
  // registered for libraries and 4000-4999 private use: both may appear on the wire.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace relay::ws
