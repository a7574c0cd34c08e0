#pragma once
// Log-linear latency histogram (the bucketing of HdrHistogram, reduced to what the load
// generator needs): values below 2^kSubBucketBits are stored exactly; above that, every
// power-of-two range is split into 2^(kSubBucketBits-1) equal buckets, so any value is known
// to within 1/128 (< 0.8 %) of itself. Memory is fixed (kBucketCount counters, ~36 KiB),
// record() is O(1) with no branches on the hot path beyond one compare, and two histograms
// merge by adding their buckets, so each thread keeps its own and they are merged at the end.
//
// Not thread-safe: one instance per thread. Units are the caller's (the bench records ns).
#include <array>
#include <cstddef>
#include <cstdint>

namespace relay::bench {

class latency_histogram {
 public:
  static constexpr int kSubBucketBits = 8;
  static constexpr int kMaxValueBits = 42;  // 2^42 ns ~ 73 min; larger values are clamped
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxValueBits) - 1;
  static constexpr size_t kSubBucketCount = size_t{1} << kSubBucketBits;
  static constexpr size_t kHalfSubBucketCount = kSubBucketCount / 2;
  static constexpr size_t kBucketCount =
      kSubBucketCount + (kMaxValueBits - kSubBucketBits) * kHalfSubBucketCount;

  void record(uint64_t value) noexcept {
    if (value > kMaxValue) value = kMaxValue;
    ++counts_[bucket_index(value)];
    ++count_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }
  void merge(const latency_histogram& other) noexcept;
  void reset() noexcept;

  uint64_t count() const noexcept { return count_; }
  uint64_t min() const noexcept { return count_ ? min_ : 0; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The value below or at which a fraction q (0..1) of the recorded values lie: the highest
  // value of the bucket holding the ceil(q * count)-th smallest value, capped at max() (so
  // quantile(1) == max() exactly). 0 when empty.
  uint64_t value_at_quantile(double q) const noexcept;

  // Bucket geometry, exposed for tests.
  static size_t bucket_index(uint64_t value) noexcept {
    if (value < kSubBucketCount) return static_cast<size_t>(value);
    const int msb = 63 - __builtin_clzll(value);
    // shift >= 1 keeps the top kSubBucketBits-1 bits below the leading one: 128 buckets/octave.
    const int shift = msb - (kSubBucketBits - 1);
    const size_t top = static_cast<size_t>(value >> shift);  // in [128, 256)
    return kSubBucketCount + static_cast<size_t>(shift - 1) * kHalfSubBucketCount +
           (top - kHalfSubBucketCount);
  }
  static uint64_t bucket_lowest(size_t index) noexcept;
  static uint64_t bucket_highest(size_t index) noexcept;

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace relay::bench
