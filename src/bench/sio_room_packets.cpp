#include "bench/sio_room_packets.hpp"

#include <cstring>

namespace relay::bench {
namespace {

std::string_view as_view(std::span<const uint8_t> s) noexcept {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

// The namespace part of a packet: "" for "/", "/live," otherwise (Socket.IO v5: the
// namespace is followed by a comma when anything follows it; we always expect something or
// the end of the packet, where the comma is optional).
bool skip_namespace(std::string_view& p, std::string_view nsp) noexcept {
  if (nsp.empty() || nsp == "/") return !p.starts_with('/');
  if (!p.starts_with(nsp)) return false;
  p.remove_prefix(nsp.size());
  if (p.starts_with(',')) {
    p.remove_prefix(1);
    return true;
  }
  return p.empty();
}

bool parse_id(std::string_view& p, uint64_t* id) noexcept {
  uint64_t v = 0;
  size_t n = 0;
  while (n < p.size() && n < 10 && p[n] >= '0' && p[n] <= '9') v = v * 10 + (p[n++] - '0');
  p.remove_prefix(n);
  *id = v;
  return n > 0;
}

}  // namespace

std::string sio_namespace_connect(std::string_view nsp) {
  std::string s = "40";
  if (!nsp.empty() && nsp != "/") {
    s += nsp;
    s += ',';
  }
  return s;
}

std::string sio_join_request(std::string_view nsp, std::string_view room, uint32_t ack_id) {
  std::string s = "42";
  if (!nsp.empty() && nsp != "/") {
    s += nsp;
    s += ',';
  }
  s += std::to_string(ack_id);
  s += "[\"join\",\"";
  s += room;
  s += "\"]";
  return s;
}

const char* to_string(room_packet_kind k) noexcept {
  switch (k) {
    case room_packet_kind::invalid:
      return "invalid";
    case room_packet_kind::connected:
      return "connected";
    case room_packet_kind::connect_error:
      return "connect_error";
    case room_packet_kind::disconnect:
      return "disconnect";
    case room_packet_kind::join_ok:
      return "join_ok";
    case room_packet_kind::join_refused:
      return "join_refused";
    case room_packet_kind::message:
      return "message";
    case room_packet_kind::other_event:
      return "other_event";
  }
  return "?";
}

room_packet scan_room_packet(std::span<const uint8_t> head, uint64_t length,
                             const uint8_t tail[2], std::string_view nsp,
                             uint32_t join_ack_id) noexcept {
  room_packet r;
  if (head.size() > length) head = head.first(static_cast<size_t>(length));
  std::string_view p = as_view(head);
  if (p.size() < 2 || p[0] != '4') return r;  // Engine.IO MESSAGE carrying a Socket.IO packet
  const char type = p[1];
  p.remove_prefix(2);
  if (!skip_namespace(p, nsp)) return r;
  const uint64_t body_at = head.size() - p.size();
  switch (type) {
    case '0':  // CONNECT answered with the socket's id
      if (p.starts_with('{') && length >= body_at + 2 && tail[1] == '}' &&
          p.find("\"sid\":\"") != std::string_view::npos)
        r.kind = room_packet_kind::connected;
      return r;
    case '1':
      if (length == body_at) r.kind = room_packet_kind::disconnect;
      return r;
    case '4':
      r.kind = room_packet_kind::connect_error;
      return r;
    case '3': {  // ACK `<id>[...]`
      uint64_t id = 0;
      if (!parse_id(p, &id) || !p.starts_with('[') || tail[1] != ']') return r;
      // Both servers answer {ok: true, ...} first thing; an error ack has no "ok":true.
      r.kind = id == join_ack_id && p.find("\"ok\":true") != std::string_view::npos
                   ? room_packet_kind::join_ok
                   : room_packet_kind::join_refused;
      return r;
    }
    case '2': {  // EVENT `[<id>]["name",...]`
      uint64_t id = 0;
      parse_id(p, &id);  // the server asks for no ack here, but an id would be legal
      if (!p.starts_with("[\"") || tail[1] != ']') return r;
      p.remove_prefix(2);
      const size_t name_end = p.find('"');
      if (name_end == std::string_view::npos) return r;
      const std::string_view name = p.substr(0, name_end);
      p.remove_prefix(name_end + 1);
      if (name != "message") {
        r.kind = room_packet_kind::other_event;
        return r;
      }
      if (!p.starts_with(",{")) return r;
      constexpr std::string_view kData = "\"data\":\"";
      const size_t at = p.find(kData);
      if (at == std::string_view::npos) return r;
      r.kind = room_packet_kind::message;
      r.data_at = head.size() - p.size() + at + kData.size();
      return r;
    }
    default:
      return r;  // BINARY_EVENT, BINARY_ACK: never sent for the rooms service's messages
  }
}

room_packet scan_room_packet(std::string_view message, std::string_view nsp, uint32_t join_ack_id,
                             size_t keep) noexcept {
  const auto* bytes = reinterpret_cast<const uint8_t*>(message.data());
  uint8_t tail[2] = {0, 0};
  if (message.size() >= 2) std::memcpy(tail, bytes + message.size() - 2, 2);
  const size_t h = message.size() < keep ? message.size() : keep;
  return scan_room_packet({bytes, h}, message.size(), tail, nsp, join_ack_id);
}

}  // namespace relay::bench
