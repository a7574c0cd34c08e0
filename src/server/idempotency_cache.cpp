#include "server/idempotency_cache.hpp"

namespace relay::server {

void idempotency_cache::drop_expired(uint64_t now_ms) {
  while (!order_.empty() && (order_.front().first <= now_ms || order_.size() > max_)) {
    const auto it = entries_.find(order_.front().second);
    // A key stored again later has a newer expiry: only the entry this record made goes.
    if (it != entries_.end() && it->second.expires_ms == order_.front().first) entries_.erase(it);
    order_.pop_front();
  }
}

idempotency_cache::claim_result idempotency_cache::claim(std::string_view key, uint64_t now_ms) {
  std::lock_guard lock(mu_);
  drop_expired(now_ms);
  const uint64_t expires = now_ms + ttl_ms_;
  const auto [it, inserted] = entries_.try_emplace(std::string(key), entry{expires, {}, true});
  if (!inserted) {
    if (it->second.pending) return {claim_state::in_progress, {}};
    return {claim_state::answered, it->second.answer};
  }
  order_.emplace_back(expires, it->first);
  drop_expired(now_ms);
  return {claim_state::fresh, {}};
}

void idempotency_cache::complete(std::string_view key, std::string answer) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;  // evicted meanwhile
  it->second.answer = std::move(answer);
  it->second.pending = false;
}

size_t idempotency_cache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace relay::server
