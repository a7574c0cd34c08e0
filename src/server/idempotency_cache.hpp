#pragma once
// Remembers the answers of requests that carried an idempotency key, for a while (5 minutes for
// the HTTP publish API): a client that retries after a lost response gets the first answer
// again instead of publishing twice.
//
// Threading: any thread; one mutex, taken once per keyed request (keys are rare next to
// messages). Memory is bounded by max_entries: the oldest key goes first.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relay::server {

class idempotency_cache {
 public:
  idempotency_cache(uint64_t ttl_ms, size_t max_entries) : ttl_ms_(ttl_ms), max_(max_entries) {}

  // A request with `key` arrives. fresh: the key is now this request's, which must complete()
  // it; answered: the stored answer; in_progress: an earlier request with the key has not
  // answered yet (two first attempts racing: only one may publish).
  enum class claim_state { fresh, answered, in_progress };
  struct claim_result {
    claim_state state;
    std::string answer;  // when answered
  };
  claim_result claim(std::string_view key, uint64_t now_ms);
  // The answer of the request that claimed `key`.
  void complete(std::string_view key, std::string answer);

  size_t size() const;

 private:
  void drop_expired(uint64_t now_ms);

  struct entry {
    uint64_t expires_ms;
    std::string answer;
    bool pending = false;  // claimed, not answered yet
  };
  const uint64_t ttl_ms_;
  const size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> entries_;
  std::deque<std::pair<uint64_t, std::string>> order_;  // (expiry, key), oldest first
};

}  // namespace relay::server
