#include "metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace relay::metrics {

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

histogram::histogram(unsigned shards, std::span<const double> upper_bounds)
    : upper_bounds_(upper_bounds), cells_(shards, static_cast<unsigned>(upper_bounds.size()) + 2) {}

void histogram::observe(double value) noexcept {
  // lower_bound: the first bound not below the value, i.e. bound >= value. NaN compares false
  // with everything, which would put it in the first bucket: send it to +Inf instead.
  const auto bucket = std::isnan(value)
                          ? upper_bounds_.size()
                          : static_cast<std::size_t>(std::lower_bound(upper_bounds_.begin(),
                                                                      upper_bounds_.end(), value) -
                                                     upper_bounds_.begin());
  cells_.local(static_cast<unsigned>(bucket)).fetch_add(1, std::memory_order_relaxed);

  auto& sum = cells_.local(sum_word());
  uint64_t old_bits = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(
      old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + value),
      std::memory_order_relaxed)) {
  }
}

histogram::snapshot histogram::collect() const {
  snapshot result;
  result.cumulative_counts.reserve(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (unsigned bucket = 0; bucket <= upper_bounds_.size(); ++bucket) {
    // Each bucket is read once and accumulated, so the counts never decrease along "le" even
    // while loops keep observing.
    running += cells_.sum(bucket);
    result.cumulative_counts.push_back(running);
  }
  cells_.for_each_shard(sum_word(),
                        [&](uint64_t bits) { result.sum += std::bit_cast<double>(bits); });
  return result;
}

}  // namespace relay::metrics
