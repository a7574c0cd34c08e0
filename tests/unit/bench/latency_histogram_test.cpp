#include "bench/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace relay::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (uint64_t v = 0; v < latency_histogram::kSubBucketCount; ++v) {
    const size_t i = latency_histogram::bucket_index(v);
    EXPECT_EQ(latency_histogram::bucket_lowest(i), v);
    EXPECT_EQ(latency_histogram::bucket_highest(i), v);
  }
}

TEST(LatencyHistogram, BucketsCoverEveryValueWithinPrecision) {
  std::mt19937_64 rng(42);
  size_t last_index = 0;
  // Every power of two and its neighbours, plus random values across the whole range.
  std::vector<uint64_t> values;
  for (int b = 0; b < latency_histogram::kMaxValueBits; ++b) {
    const uint64_t p = uint64_t{1} << b;
    values.insert(values.end(), {p - 1, p, p + 1});
  }
  for (int i = 0; i < 100000; ++i) values.push_back(rng() & latency_histogram::kMaxValue);
  std::sort(values.begin(), values.end());
  for (const uint64_t v : values) {
    const size_t i = latency_histogram::bucket_index(v);
    ASSERT_LT(i, latency_histogram::kBucketCount) << v;
    ASSERT_GE(i, last_index) << "index must be monotonic in the value, at " << v;
    last_index = i;
    const uint64_t lo = latency_histogram::bucket_lowest(i);
    const uint64_t hi = latency_histogram::bucket_highest(i);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    // Bucket width relative to its values: at most 1/128.
    ASSERT_LE(static_cast<double>(hi - lo + 1), std::max(1.0, static_cast<double>(lo) / 128.0))
        << v;
  }
  EXPECT_EQ(latency_histogram::bucket_index(latency_histogram::kMaxValue),
            latency_histogram::kBucketCount - 1);
}

TEST(LatencyHistogram, EmptyHistogram) {
  latency_histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_quantile(0.5), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, SingleValueIsEveryQuantile) {
  latency_histogram h;
  h.record(123456);
  EXPECT_EQ(h.min(), 123456u);
  EXPECT_EQ(h.max(), 123456u);
  // Capped at max(): the bucket's upper edge is never reported above the largest sample.
  EXPECT_EQ(h.value_at_quantile(0.5), 123456u);
  EXPECT_EQ(h.value_at_quantile(0.999), 123456u);
  EXPECT_EQ(h.value_at_quantile(1.0), 123456u);
}

TEST(LatencyHistogram, QuantilesOfUniformValuesWithinOnePercent) {
  latency_histogram h;
  for (uint64_t v = 1; v <= 1'000'000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 1'000'000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_NEAR(h.mean(), 500000.5, 1e-6);
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double expected = q * 1e6;
    const double got = static_cast<double>(h.value_at_quantile(q));
    EXPECT_GE(got, expected) << q;  // the bucket's upper edge: never under-reports
    EXPECT_LE(got, expected * 1.01) << q;
  }
}

TEST(LatencyHistogram, QuantileMatchesSortedSamples) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // ~60 us median, long tail, in ns
  latency_histogram h;
  std::vector<uint64_t> samples;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = samples[static_cast<size_t>(std::ceil(q * samples.size())) - 1];
    const uint64_t got = h.value_at_quantile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 128) + 1) << q;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  latency_histogram a, b, all;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng() % 10'000'000;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (const double q : {0.1, 0.5, 0.9, 0.99, 0.999})
    EXPECT_EQ(a.value_at_quantile(q), all.value_at_quantile(q));
}

TEST(LatencyHistogram, HugeValuesAreClamped) {
  latency_histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.max(), latency_histogram::kMaxValue);
  EXPECT_EQ(h.value_at_quantile(0.5), latency_histogram::kMaxValue);
}

TEST(LatencyHistogram, ResetEmpties) {
  latency_histogram h;
  h.record(5);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.value_at_quantile(0.5), 0u);
  h.record(9);
  EXPECT_EQ(h.min(), 9u);
}

}  // namespace
}  // namespace relay::bench
