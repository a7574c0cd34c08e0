#include "server/ip_rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <iterator>

namespace relay::server {

void ip_rate_limiter::refill(bucket& b, uint64_t now_ms) const {
  if (now_ms <= b.updated_ms) return;
  b.tokens = std::min(burst_, b.tokens + rate_ * static_cast<double>(now_ms - b.updated_ms) / 1000);
  b.updated_ms = now_ms;
}

bool ip_rate_limiter::take(std::string_view ip, uint64_t now_ms) {
  stripe& s = stripes_[std::hash<std::string_view>{}(ip) % stripes_.size()];
  std::lock_guard lock(s.mu);
  auto [it, fresh] = s.by_ip.try_emplace(std::string(ip), bucket{burst_, now_ms});
  bucket& b = it->second;
  if (!fresh) refill(b, now_ms);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void ip_rate_limiter::sweep(uint64_t now_ms) {
  for (stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.by_ip.begin(); it != s.by_ip.end();) {
      refill(it->second, now_ms);
      // Full again: as if never seen.
      it = it->second.tokens >= burst_ ? s.by_ip.erase(it) : std::next(it);
    }
  }
}

size_t ip_rate_limiter::tracked() const {
  size_t n = 0;
  for (const stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    n += s.by_ip.size();
  }
  return n;
}

}  // namespace relay::server
