#include "bench/latency_histogram.hpp"

#include <cmath>

namespace relay::bench {

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

void latency_histogram::reset() noexcept { *this = latency_histogram{}; }

uint64_t latency_histogram::bucket_lowest(size_t index) noexcept {
  if (index < kSubBucketCount) return index;
  const size_t j = index - kSubBucketCount;
  const int shift = static_cast<int>(j / kHalfSubBucketCount) + 1;
  const uint64_t top = j % kHalfSubBucketCount + kHalfSubBucketCount;
  return top << shift;
}

uint64_t latency_histogram::bucket_highest(size_t index) noexcept {
  if (index < kSubBucketCount) return index;
  const size_t j = index - kSubBucketCount;
  const int shift = static_cast<int>(j / kHalfSubBucketCount) + 1;
  const uint64_t top = j % kHalfSubBucketCount + kHalfSubBucketCount;
  return ((top + 1) << shift) - 1;
}

uint64_t latency_histogram::value_at_quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  if (q <= 0.0) return min();
  if (q >= 1.0) return max_;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t v = bucket_highest(i);
      return v < max_ ? v : max_;
    }
  }
  return max_;
}

}  // namespace relay::bench
