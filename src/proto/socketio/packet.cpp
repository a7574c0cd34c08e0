#include "proto/socketio/packet.hpp"

#include <array>

namespace relay::socketio {

std::string_view to_string(packet_type t) noexcept {
  switch (t) {
    case packet_type::connect:
      return "CONNECT";
    case packet_type::disconnect:
      return "DISCONNECT";
    case packet_type::event:
      return "EVENT";
    case packet_type::ack:
      return "ACK";
    case packet_type::connect_error:
      return "CONNECT_ERROR";
    case packet_type::binary_event:
      return "BINARY_EVENT";
    case packet_type::binary_ack:
      return "BINARY_ACK";
  }
  return "UNKNOWN";
}

bool is_reserved_event(std::string_view name) noexcept {
  // socket.io-parser RESERVED_EVENTS.
  static constexpr std::array<std::string_view, 6> kReserved = {
      "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
  };
  for (std::string_view r : kReserved) {
    if (name == r) return true;
  }
  return false;
}

bool is_payload_valid(packet_type type, const std::optional<json::value>& data) noexcept {
  switch (type) {
    case packet_type::connect:
      return !data || data->is_object();
    case packet_type::disconnect:
      return !data;
    case packet_type::event:
    case packet_type::binary_event: {
      if (!data || !data->is_array() || data->as_array().empty()) return false;
      const json::value& name = data->as_array().front();
      return name.is_number() || (name.is_string() && !is_reserved_event(name.as_string()));
    }
    case packet_type::ack:
    case packet_type::binary_ack:
      return data && data->is_array();
    case packet_type::connect_error:
      return data && (data->is_object() || data->is_string());
  }
  return false;
}

bool is_valid_namespace(std::string_view nsp) noexcept {
  return nsp.empty() || (nsp.front() == '/' && nsp.find(',') == std::string_view::npos);
}

bool is_valid(const packet& p) noexcept {
  if (!is_valid_namespace(p.nsp) || !is_payload_valid(p.type, p.data)) return false;
  if (p.id && *p.id > kMaxAckId) return false;
  const bool is_ack = p.type == packet_type::ack || p.type == packet_type::binary_ack;
  return !is_ack || p.id.has_value();
}

}  // namespace relay::socketio
