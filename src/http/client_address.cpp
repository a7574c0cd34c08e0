#include "http/client_address.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

namespace relay::http {
namespace {

// An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96), or nullopt.
std::optional<std::array<uint8_t, 16>> address_bytes(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

tl::expected<proxy_trust, std::string> proxy_trust::parse(const std::vector<std::string>& entries) {
  proxy_trust t;
  for (const std::string& e : entries) {
    std::string_view text = e;
    std::optional<unsigned> bits;
    if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
      unsigned n = 0;
      const std::string_view digits = text.substr(slash + 1);
      if (digits.empty() || digits.size() > 3) return tl::unexpected(e);
      for (const char c : digits) {
        if (c < '0' || c > '9') return tl::unexpected(e);
        n = n * 10 + static_cast<unsigned>(c - '0');
      }
      bits = n;
      text = text.substr(0, slash);
    }
    const auto bytes = address_bytes(text);
    if (!bytes) return tl::unexpected(e);
    const bool v4 = text.find(':') == std::string_view::npos;
    const unsigned max_bits = v4 ? 32 : 128;
    if (bits && *bits > max_bits) return tl::unexpected(e);
    t.ranges_.push_back(range{*bytes, (v4 ? 96 : 0) + bits.value_or(max_bits)});
  }
  return t;
}

bool proxy_trust::trusts(std::string_view ip) const noexcept {
  const auto bytes = address_bytes(ip);
  if (!bytes) return false;
  for (const range& r : ranges_) {
    const unsigned whole = r.prefix_bits / 8;
    if (std::memcmp(bytes->data(), r.bytes.data(), whole) != 0) continue;
    const unsigned rest = r.prefix_bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    if (((*bytes)[whole] & mask) == (r.bytes[whole] & mask)) return true;
  }
  return false;
}

std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           const proxy_trust& trusted) {
  std::string_view client = peer;
  if (trusted.empty() || !trusted.trusts(peer)) return std::string(client);
  // Right to left: each hop was added by the one after it; stop at the first we do not trust.
  while (!forwarded_for.empty()) {
    const size_t comma = forwarded_for.rfind(',');
    const std::string_view entry =
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view() : forwarded_for.substr(0, comma);
    if (!address_bytes(entry)) break;
    client = entry;
    if (!trusted.trusts(entry)) break;
  }
  return std::string(client);
}

}  // namespace relay::http
