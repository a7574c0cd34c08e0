// Increments from many loop threads: exact totals, and each shard on its own cache line.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "metrics/registry.hpp"

namespace relay::metrics {
namespace {

constexpr int kIncrementsPerThread = 100000;

// Runs body on `threads` threads, thread i with shard shard_of(i), and joins them.
template <typename ShardOf, typename Body>
void run_threads(unsigned threads, ShardOf shard_of, Body body) {
  std::vector<std::thread> running;
  for (unsigned i = 0; i < threads; ++i) {
    running.emplace_back([=] {
      set_thread_shard(shard_of(i));
      body(i);
    });
  }
  for (auto& thread : running) thread.join();
}

TEST(MetricsSharding, CounterTotalIsExactAcrossLoopShards) {
  registry metrics(4);
  counter& sent = metrics.add_counter("sent_total", "H.").with();
  run_threads(
      4, [](unsigned i) { return i; },
      [&](unsigned) {
        for (int n = 0; n < kIncrementsPerThread; ++n) sent.inc();
      });
  EXPECT_EQ(sent.value(), 4u * kIncrementsPerThread);
  EXPECT_EQ(metrics.render(),
            "# HELP sent_total H.\n# TYPE sent_total counter\nsent_total 400000\n");
}

TEST(MetricsSharding, SharedAndOverflowShardsStayExact) {
  registry metrics(2);
  counter& sent = metrics.add_counter("sent_total", "H.").with();
  // Threads 0,1 share shard 0; 2 uses shard 1; 3 and 4 give indexes past the registry's shards;
  // 5 never calls set_thread_shard (kNoShard): the last three share the overflow shard.
  run_threads(
      6,
      [](unsigned i) {
        return i < 2 ? 0u : i == 2 ? 1u : i == 3 ? 2u : i == 4 ? 1000u : ~0u;
      },
      [&](unsigned) {
        for (int n = 0; n < kIncrementsPerThread; ++n) sent.inc(2);
      });
  EXPECT_EQ(sent.value(), 6u * 2 * kIncrementsPerThread);
}

TEST(MetricsSharding, GaugeAddsAndSubsOnDifferentLoopsCancel) {
  registry metrics(4);
  gauge& open = metrics.add_gauge("open", "H.").with();
  run_threads(
      4, [](unsigned i) { return i; },
      [&](unsigned i) {
        for (int n = 0; n < kIncrementsPerThread; ++n) {
          if (i % 2 == 0) {
            open.add(3);
          } else {
            open.sub(1);
          }
        }
      });
  EXPECT_EQ(open.value(), 2 * 3 * kIncrementsPerThread - 2 * kIncrementsPerThread);
}

TEST(MetricsSharding, HistogramCountsAndSumAreExact) {
  registry metrics(4);
  histogram& h = metrics.add_histogram("h_seconds", "H.", {0.5, 1}).with();
  run_threads(
      4, [](unsigned i) { return i; },
      [&](unsigned i) {
        // Dyadic values: every partial sum is exact, so the total must be too.
        for (int n = 0; n < kIncrementsPerThread; ++n) h.observe(i == 0 ? 2.0 : 0.25);
      });
  const auto snapshot = h.collect();
  EXPECT_EQ(snapshot.cumulative_counts,
            (std::vector<uint64_t>{3u * kIncrementsPerThread, 3u * kIncrementsPerThread,
                                   4u * kIncrementsPerThread}));
  EXPECT_EQ(snapshot.sum, 2.0 * kIncrementsPerThread + 0.25 * 3 * kIncrementsPerThread);
}

TEST(MetricsSharding, EachShardStartsItsOwnCacheLine) {
  detail::sharded_cells cells(3, 14);  // a histogram-sized block: two lines per shard
  std::vector<uintptr_t> first_words;
  for (unsigned shard : {0u, 1u, 2u, detail::kNoShard}) {
    set_thread_shard(shard);
    first_words.push_back(reinterpret_cast<uintptr_t>(&cells.local(0)));
    cells.local(13).fetch_add(1 + shard % 8);
  }
  set_thread_shard(detail::kNoShard);
  for (std::size_t i = 0; i < first_words.size(); ++i) {
    EXPECT_EQ(first_words[i] % 64, 0u);
    if (i > 0) {
      EXPECT_EQ(first_words[i] - first_words[i - 1], 128u);
    }
  }
  EXPECT_EQ(cells.sum(13), 1u + 2 + 3 + 8);
  EXPECT_EQ(cells.sum(0), 0u);
}

}  // namespace
}  // namespace relay::metrics
