#pragma once
// A distribution over fixed buckets (Prometheus type histogram), e.g. latency in seconds.
// Obtained from registry::add_histogram(...).with(...); the reference lives as long as the
// registry.
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/sharded_cells.hpp"

namespace relay::metrics {

template <typename Metric>
class family;

// Upper bounds for latencies in seconds, 0.5 ms .. 2.5 s.
std::vector<double> latency_buckets_seconds();

class histogram {
 public:
  // Any thread, lock-free: a binary search over the bounds, one relaxed fetch_add for the bucket
  // and one compare-exchange for the sum, both on the calling loop's own lines. A value lands in
  // the first bucket whose bound is >= it (Prometheus "le"); NaN lands in +Inf and makes the sum
  // NaN, as in the Go client.
  void observe(double value) noexcept;

  struct snapshot {
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf (== count)
    double sum = 0;
  };
  // Adds up every shard; for scrapes and tests.
  snapshot collect() const;
  std::span<const double> upper_bounds() const noexcept { return upper_bounds_; }

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

 private:
  friend class family<histogram>;
  // upper_bounds: strictly increasing and finite (the registry checks), owned by the family.
  histogram(unsigned shards, std::span<const double> upper_bounds);

  // Words per shard: a non-cumulative count per bucket (bounds, then +Inf), then the sum as the
  // bits of a double. The count is not stored: it is the sum of the buckets, which keeps the two
  // consistent in every scrape and saves an atomic per observation. The sum is a per-shard double
  // updated with compare-exchange rather than an integer of fixed micro-units: it keeps any unit
  // and full precision, and since a shard has one writer the exchange almost never retries.
  unsigned sum_word() const noexcept { return static_cast<unsigned>(upper_bounds_.size()) + 1; }

  std::span<const double> upper_bounds_;
  detail::sharded_cells cells_;
};

}  // namespace relay::metrics
