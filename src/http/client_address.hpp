#pragma once
// The address of the client behind reverse proxies. Behind a load balancer every connection
// comes from the balancer, so a per-address limit would count all clients as one; the proxies
// the operator trusts say who the client was in X-Forwarded-For, and only those are believed.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

namespace relay::http {

// Addresses and CIDR ranges ("10.0.0.0/8", "::1", "fd00::/8") of trusted proxies.
class proxy_trust {
 public:
  // Start-up time: an error names the entry that is not an address or range.
  static tl::expected<proxy_trust, std::string> parse(const std::vector<std::string>& entries);
  bool empty() const noexcept { return ranges_.empty(); }
  bool trusts(std::string_view ip) const noexcept;

 private:
  struct range {
    std::array<uint8_t, 16> bytes{};  // IPv4 as its IPv4-mapped IPv6 form
    unsigned prefix_bits = 128;
  };
  std::vector<range> ranges_;
};

// The client's address: the TCP peer, or, when the peer is a trusted proxy, the rightmost
// X-Forwarded-For entry that is not one (entries left of it could be forged by the client).
// Every entry trusted: the leftmost. A malformed entry stops the walk: the last address
// accepted so far is the answer.
std::string client_address(std::string_view peer, std::string_view forwarded_for,
                           const proxy_trust& trusted);

}  // namespace relay::http
