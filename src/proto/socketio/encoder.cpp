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

// <type>[<attachments>-][<nsp>,][<id>]
void write_head(packet_type type, size_t binaries, std::string_view nsp,
                std::optional<uint64_t> id, std::string& out) {
  out += to_char(type);
  if (binaries != 0) {
    append_number(binaries, out);
    out += '-';
  }
  if (!nsp.empty() && nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (id) append_number(*id, out);
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

  write_head(type, binaries, p.nsp, p.id, out.text);
  if (!has_data) return;
  if (binaries != 0) {
    out.attachments.reserve(binaries);
    json::serialize_with_placeholders(*p.data, out.text, out.attachments);
  } else {
    json::serialize(*p.data, out.text);
  }
}

void encode_event(std::string_view nsp, std::optional<uint64_t> id, std::string_view event,
                  const json::array& args, encoded_packet& out) {
  out.text.clear();
  out.attachments.clear();
  size_t binaries = 0;
  for (const json::value& a : args) binaries += count_binaries(a);
  write_head(binaries != 0 ? packet_type::binary_event : packet_type::event, binaries, nsp, id,
             out.text);
  out.text += '[';
  json::serialize(json::value(std::string(event)), out.text);
  if (binaries != 0) out.attachments.reserve(binaries);
  for (const json::value& a : args) {
    out.text += ',';
    // Placeholders number the blobs in order across the arguments, as one array would.
    if (binaries != 0) {
      json::serialize_with_placeholders(a, out.text, out.attachments);
    } else {
      json::serialize(a, out.text);
    }
  }
  out.text += ']';
}

encoded_packet encode(const packet& p) {
  encoded_packet out;
  encode(p, out);
  return out;
}

}  // namespace relay::socketio
