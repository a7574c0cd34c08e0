#include "proto/engineio/packet.hpp"

namespace relay::engineio {

std::string_view to_string(packet_type t) noexcept {
  switch (t) {
    case packet_type::open:
      return "open";
    case packet_type::close:
      return "close";
    case packet_type::ping:
      return "ping";
    case packet_type::pong:
      return "pong";
    case packet_type::message:
      return "message";
    case packet_type::upgrade:
      return "upgrade";
    case packet_type::noop:
      return "noop";
  }
  return "unknown";
}

}  // namespace relay::engineio
