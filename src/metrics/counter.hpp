#pragma once
// A monotonically increasing count (Prometheus type counter). Obtained from
// registry::add_counter(...).with(...); the reference lives as long as the registry.
#include <cstdint>

#include "metrics/sharded_cells.hpp"

namespace relay::metrics {

template <typename Metric>
class family;

class counter {
 public:
  // Any thread, lock-free: one relaxed fetch_add on the calling loop's own cache line.
  void inc(uint64_t n = 1) noexcept { cells_.local(0).fetch_add(n, std::memory_order_relaxed); }
  // Sum over all shards; reads every shard's line, so meant for scrapes and tests.
  uint64_t value() const noexcept { return cells_.sum(0); }

  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

 private:
  friend class family<counter>;
  explicit counter(unsigned shards) : cells_(shards, 1) {}

  detail::sharded_cells cells_;
};

}  // namespace relay::metrics
