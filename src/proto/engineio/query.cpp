#include "proto/engineio/query.hpp"

#include <cstring>

namespace relay::engineio {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Form-decodes in into out[0..cap). Returns the decoded size, or cap + 1 if it does not fit.
size_t form_decode(std::string_view in, char* out, size_t cap) noexcept {
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (n == cap) return cap + 1;
    char c = in[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi << 4 | lo);
        i += 2;
      }
    }
    out[n++] = c;
  }
  return n;
}

// A small decoded copy of a name or value, enough to compare against the few we know.
struct short_text {
  char bytes[16];
  size_t size;
  explicit short_text(std::string_view raw) noexcept
      : size(form_decode(raw, bytes, sizeof bytes)) {}
  bool operator==(std::string_view s) const noexcept {
    return size == s.size() && std::memcmp(bytes, s.data(), size) == 0;
  }
};

enum class key : uint8_t { other, eio, transport, sid, b64 };

key classify(std::string_view raw_name) noexcept {
  const short_text name(raw_name);
  if (name == "EIO") return key::eio;
  if (name == "transport") return key::transport;
  if (name == "sid") return key::sid;
  if (name == "b64") return key::b64;
  return key::other;
}

uint32_t parse_eio(const short_text& v) noexcept {
  if (v.size == 0 || v.size > 9) return 0;
  uint32_t n = 0;
  for (size_t i = 0; i < v.size; ++i) {
    if (v.bytes[i] < '0' || v.bytes[i] > '9') return 0;
    n = n * 10 + static_cast<uint32_t>(v.bytes[i] - '0');
  }
  return n;
}

handshake_query fail(handshake_query q, handshake_error e, std::string_view reason) noexcept {
  q.valid = false;
  q.error = e;
  q.reason = reason;
  return q;
}

}  // namespace

handshake_query parse_query(std::string_view query) noexcept {
  if (!query.empty() && query[0] == '?') query.remove_prefix(1);
  handshake_query q;
  bool seen[5] = {};
  const char* duplicate = nullptr;
  bool eio_is_4 = false;
  bool transport_known = false;
  bool sid_too_long = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    const key k = classify(name);
    if (k == key::other) continue;
    if (seen[static_cast<int>(k)]) {
      duplicate = k == key::eio         ? "duplicate EIO"
                  : k == key::transport ? "duplicate transport"
                  : k == key::sid       ? "duplicate sid"
                                        : "duplicate b64";
      break;
    }
    seen[static_cast<int>(k)] = true;
    switch (k) {
      case key::eio: {
        const short_text v(value);
        q.eio = parse_eio(v);
        eio_is_4 = v == "4";
        break;
      }
      case key::transport: {
        const short_text v(value);
        transport_known = true;
        if (v == "polling") {
          q.transport = transport_kind::polling;
        } else if (v == "websocket") {
          q.transport = transport_kind::websocket;
        } else {
          transport_known = false;
        }
        break;
      }
      case key::sid: {
        q.has_sid = true;
        const size_t n = form_decode(value, q.sid_, kMaxQuerySidSize);
        sid_too_long = n > kMaxQuerySidSize;
        q.sid_size_ = sid_too_long ? 0 : static_cast<uint8_t>(n);
        break;
      }
      case key::b64:
        q.b64 = !value.empty();
        break;
      case key::other:
        break;
    }
  }
  if (duplicate != nullptr) return fail(q, handshake_error::bad_request, duplicate);
  if (!transport_known) {
    return fail(q, handshake_error::unknown_transport,
                seen[static_cast<int>(key::transport)] ? "unknown transport" : "no transport");
  }
  if (!eio_is_4) {
    return fail(q, handshake_error::unsupported_protocol_version,
                seen[static_cast<int>(key::eio)] ? "EIO is not 4" : "no EIO");
  }
  if (q.has_sid && sid_too_long) return fail(q, handshake_error::unknown_sid, "sid too long");
  if (q.has_sid && q.sid_size_ == 0) return fail(q, handshake_error::bad_request, "empty sid");
  q.valid = true;
  return q;
}

}  // namespace relay::engineio
