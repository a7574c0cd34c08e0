#pragma once
// New connections per client address, as token buckets (limits.connections_per_ip_per_second):
// what stops one address from opening sessions as fast as it can. Behind a proxy every client
// has the proxy's address, so it is off by default.
//
// Threading: any loop thread; addresses are spread over lock stripes. sweep() (once a second,
// any thread) forgets addresses whose bucket has refilled, so memory follows the addresses
// active in the last seconds, not every address ever seen.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relay::server {

class ip_rate_limiter {
 public:
  ip_rate_limiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}

  // Takes one connection's token for the address; false when it has none left.
  bool take(std::string_view ip, uint64_t now_ms);
  void sweep(uint64_t now_ms);
  size_t tracked() const;

 private:
  struct bucket {
    double tokens;
    uint64_t updated_ms;
  };
  struct stripe {
    mutable std::mutex mu;
    std::unordered_map<std::string, bucket> by_ip;
  };
  void refill(bucket& b, uint64_t now_ms) const;

  const double rate_;
  const double burst_;
  std::array<stripe, 16> stripes_;
};

}  // namespace relay::server
