#include "proto/engineio/open_packet.hpp"

#include <charconv>

namespace relay::engineio {
namespace {

void append_number(uint64_t v, std::string& out) {
  char buf[20];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// ECMA-262 QuoteJSONString: short escapes for \b \t \n \f \r, \u00xx (lowercase hex) for the
// other control characters; '/' and DEL stay as they are.
void append_json_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u >= 0x20) {
      out.push_back(c);
    } else if (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
      out.push_back('\\');
      out.push_back(c == '\b' ? 'b' : c == '\t' ? 't' : c == '\n' ? 'n' : c == '\f' ? 'f' : 'r');
    } else {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  out.push_back('"');
}

}  // namespace

void encode_open_packet(std::string_view sid, can_upgrade upgrade, uint32_t ping_interval_ms,
                        uint32_t ping_timeout_ms, uint64_t max_payload, std::string& out) {
  out.reserve(out.size() + 112 + sid.size());
  out.append("{\"sid\":");
  append_json_string(sid, out);
  out.append(upgrade == can_upgrade::yes ? ",\"upgrades\":[\"websocket\"]" : ",\"upgrades\":[]");
  out.append(",\"pingInterval\":");
  append_number(ping_interval_ms, out);
  out.append(",\"pingTimeout\":");
  append_number(ping_timeout_ms, out);
  out.append(",\"maxPayload\":");
  append_number(max_payload, out);
  out.push_back('}');
}

}  // namespace relay::engineio
