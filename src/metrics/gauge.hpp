#pragma once
// A value that goes up and down (Prometheus type gauge), e.g. open connections. Obtained from
// registry::add_gauge(...).with(...); the reference lives as long as the registry.
#include <atomic>
#include <cstdint>

#include "metrics/sharded_cells.hpp"

namespace relay::metrics {

template <typename Metric>
class family;

class gauge {
 public:
  // Any thread, lock-free, one relaxed fetch_add on the calling loop's own line. A loop may
  // sub() what another loop add()ed: shards hold deltas, only their sum means anything.
  void add(int64_t n) noexcept {
    cells_.local(0).fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  void sub(int64_t n) noexcept {
    cells_.local(0).fetch_sub(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  // Not for the hot path: reads every shard to cancel their sum. Exact unless another set() runs
  // at the same time; an add() racing with it counts as made just before or just after the set.
  void set(int64_t value) noexcept;
  // Sum over all shards; meant for scrapes and tests.
  int64_t value() const noexcept;

  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

 private:
  friend class family<gauge>;
  explicit gauge(unsigned shards) : cells_(shards, 1) {}

  // Two's complement deltas added mod 2^64, so the sum is right whatever the order of adds and
  // subs.
  detail::sharded_cells cells_;
  std::atomic<uint64_t> base_{0};  // set() stores here value - (sum of the shards)
};

}  // namespace relay::metrics
