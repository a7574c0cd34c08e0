#include "proto/socketio/encoder.hpp"

#include <cassert>
#include <charconv>

namespace relay::socketio {
namespace {

size_t count_binaries(const json::value& v) noexcept {
  switch (v.type()) {
    case json::value_type::binary:
      return 1;
    case json::value_type::array: {
      size_t n = 0;
      for (const json::value& e : v.as_array()) n += count_binaries(e);
      return n;
    }
    case json::value_type::object: {
      size_t n = 0;
      for (const json::member& m : v.as_object()) n += count_binaries(m.second);
      return n;
    }
    default:
      return 0;
  }
}

void append_number(uint64_t n, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

void encode(const packet& p, encoded_packet& out) {
  assert(is_valid(p));
  out.text.clear();
  out.attachments.clear();

  const bool has_data = p.data && !p.data->is_null();
  packet_type type = p.type;
  size_t binaries = 0;
  if (type == packet_type::event || type == packet_type::binary_event || type == packet_type::ack ||
      type == packet_type::binary_ack) {
    const bool is_event = type == packet_type::event || type == packet_type::binary_event;
    binaries = has_data ? count_binaries(*p.data) : 0;
    if (binaries != 0) {
      type = is_event ? packet_type::binary_event : packet_type::binary_ack;
    } else {
      type = is_event ? packet_type::event : packet_type::ack;
    }
  }

  out.text += to_char(type);
  if (binaries != 0) {
    append_number(binaries, out.text);
    out.text += '-';
  }
  if (!p.nsp.empty() && p.nsp != "/") {
    out.text += p.nsp;
    out.text += ',';
  }
  if (p.id) append_number(*p.id, out.text);
  if (!has_data) return;
  if (binaries != 0) {
    out.attachments.reserve(binaries);
    json::serialize_with_placeholders(*p.data, out.text, out.attachments);
  } else {
    json::serialize(*p.data, out.text);
  }
}

encoded_packet encode(const packet& p) {
  encoded_packet out;
  encode(p, out);
  return out;
}

}  // namespace relay::socketio
