#include "bench/sio_packets.hpp"

#include <cstring>

namespace relay::bench {
namespace {

bool contains(std::span<const uint8_t> head, std::string_view needle) noexcept {
  const std::string_view h(reinterpret_cast<const char*>(head.data()), head.size());
  return h.find(needle) != std::string_view::npos;
}

// A JSON object packet `<prefix>{...}` that names a session id: Engine.IO OPEN
// (`0{"sid":...,"pingInterval":...}`) or the Socket.IO CONNECT answer (`40{"sid":"..."}`).
bool is_sid_object(std::span<const uint8_t> head, uint64_t length, const uint8_t tail[2],
                   size_t prefix) noexcept {
  return length >= prefix + 2 && head.size() > prefix && head[prefix] == '{' && tail[1] == '}' &&
         contains(head, "\"sid\":\"");
}

// A character that may appear unescaped in a JSON string (RFC 8259 §7) and is not the
// escape character.
bool plain_string_char(uint8_t c) noexcept { return c >= 0x20 && c != '"' && c != '\\'; }

// `42["name","data"]`: positions after the leading "42".
sio_packet scan_event(std::span<const uint8_t> head, uint64_t length,
                      const uint8_t tail[2]) noexcept {
  sio_packet bad;
  const size_t h = head.size();
  size_t p = 2;
  // No namespace ("/x,") and no ack id: this client connects to "/" and never asks for acks.
  if (p + 2 > h || head[p] != '[' || head[p + 1] != '"') return bad;
  p += 2;
  const size_t name_at = p;
  while (p < h && head[p] != '"') {
    if (!plain_string_char(head[p])) return bad;
    ++p;
  }
  if (p == h) return bad;  // the name does not end within the head
  const size_t name_end = p++;
  if (p + 2 > h || head[p] != ',' || head[p + 1] != '"') return bad;
  p += 2;
  const uint64_t data_at = p;
  if (length < data_at + 2 || tail[0] != '"' || tail[1] != ']') return bad;
  uint64_t data_end = length - 2;
  const size_t visible = data_end < h ? static_cast<size_t>(data_end) : h;
  for (size_t i = data_at; i < visible; ++i) {
    if (plain_string_char(head[i])) continue;
    // One more string argument, whole within the head: connection state recovery's offset
    // (`42["m","data","1a"]`); anything else (an escape, other arguments) is not expected.
    if (head[i] != '"' || data_end > h || i + 3 >= visible || head[i + 1] != ',' ||
        head[i + 2] != '"') {
      return bad;
    }
    for (size_t j = i + 3; j < visible; ++j)
      if (!plain_string_char(head[j])) return bad;
    data_end = i;
    break;
  }
  sio_packet e;
  e.kind = sio_kind::event;
  e.name =
      std::string_view(reinterpret_cast<const char*>(head.data()) + name_at, name_end - name_at);
  e.data_at = data_at;
  e.data_size = data_end - data_at;
  return e;
}

}  // namespace

std::string sio_request_path(std::string_view url_path, sio_role role) {
  std::string path(url_path.empty() || url_path == "/" ? "/socket.io/" : url_path);
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += "EIO=4&transport=websocket";
  if (role == sio_role::publisher) path += "&pub=1";
  return path;
}

sio_event_template make_sio_event(std::string_view name, std::span<const uint8_t> data) {
  constexpr std::string_view kOpen = "42[\"", kSep = "\",\"", kClose = "\"]";
  sio_event_template t;
  t.data_at = kOpen.size() + name.size() + kSep.size();
  t.bytes.resize(t.data_at + data.size() + kClose.size());
  uint8_t* p = t.bytes.data();
  const auto put = [&p](const void* src, size_t n) {
    if (n) std::memcpy(p, src, n);
    p += n;
  };
  put(kOpen.data(), kOpen.size());
  put(name.data(), name.size());
  put(kSep.data(), kSep.size());
  put(data.data(), data.size());
  put(kClose.data(), kClose.size());
  return t;
}

const char* to_string(sio_kind k) noexcept {
  switch (k) {
    case sio_kind::invalid:
      return "invalid";
    case sio_kind::open:
      return "open";
    case sio_kind::close:
      return "close";
    case sio_kind::ping:
      return "ping";
    case sio_kind::pong:
      return "pong";
    case sio_kind::noop:
      return "noop";
    case sio_kind::connect:
      return "connect";
    case sio_kind::disconnect:
      return "disconnect";
    case sio_kind::connect_error:
      return "connect_error";
    case sio_kind::event:
      return "event";
  }
  return "?";
}

sio_packet scan_sio_packet(std::span<const uint8_t> head, uint64_t length,
                           const uint8_t tail[2]) noexcept {
  sio_packet r;
  if (length == 0 || head.empty()) return r;
  if (head.size() > length) head = head.first(static_cast<size_t>(length));
  switch (head[0]) {
    case '0':  // OPEN, once, right after the upgrade
      if (is_sid_object(head, length, tail, 1)) r.kind = sio_kind::open;
      return r;
    case '1':  // CLOSE
      if (length == 1) r.kind = sio_kind::close;
      return r;
    case '2':  // PING, PONG: any data must be in the head (the answer echoes it)
    case '3':
      if (length <= head.size()) r.kind = head[0] == '2' ? sio_kind::ping : sio_kind::pong;
      return r;
    case '6':  // NOOP
      if (length == 1) r.kind = sio_kind::noop;
      return r;
    case '4':  // MESSAGE: a Socket.IO packet follows
      break;
    default:
      return r;
  }
  if (length < 2 || head.size() < 2) return r;
  switch (head[1]) {
    case '0':
      if (is_sid_object(head, length, tail, 2)) r.kind = sio_kind::connect;
      return r;
    case '1':
      if (length == 2) r.kind = sio_kind::disconnect;
      return r;
    case '2':
      return scan_event(head, length, tail);
    case '4':
      r.kind = sio_kind::connect_error;
      return r;
    default:  // ACK, binary packets, anything else: never expected by this client
      return r;
  }
}

sio_packet scan_sio_packet(std::string_view message) noexcept {
  const auto* bytes = reinterpret_cast<const uint8_t*>(message.data());
  uint8_t tail[2] = {0, 0};
  if (message.size() >= 2) std::memcpy(tail, bytes + message.size() - 2, 2);
  const size_t h = message.size() < kSioHead ? message.size() : kSioHead;
  return scan_sio_packet({bytes, h}, message.size(), tail);
}

}  // namespace relay::bench
