// Registration rules and the lifetime of with() handles.
#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace relay::metrics {
namespace {

TEST(MetricsRegistry, RefusesInvalidMetricNames) {
  registry metrics(1);
  EXPECT_THROW(metrics.add_gauge("", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("1abc", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("a-b", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("a b", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("caf\xC3\xA9", "H."), std::invalid_argument);
  EXPECT_NO_THROW(metrics.add_gauge("_a:b_C9", "H."));
}

TEST(MetricsRegistry, CountersAndOnlyCountersEndInTotal) {
  registry metrics(1);
  EXPECT_THROW(metrics.add_counter("sent", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_counter_callback("sent", "H.", {}, [](sample_sink&) {}),
               std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("open_total", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge_callback("open_total", "H.", {}, [](sample_sink&) {}),
               std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("h_total", "H.", {1}), std::invalid_argument);
  EXPECT_NO_THROW(metrics.add_counter("sent_total", "H."));
}

TEST(MetricsRegistry, RefusesInvalidLabelNames) {
  registry metrics(1);
  EXPECT_THROW(metrics.add_gauge("g1", "H.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("g2", "H.", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("g3", "H.", {"9a"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("g4", "H.", {""}), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("g5", "H.", {"le"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("g6", "H.", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge("g7", "H.", {"a", "a"}), std::invalid_argument);
  EXPECT_NO_THROW(metrics.add_gauge("g8", "H.", {"_a", "b_9"}));
}

TEST(MetricsRegistry, RefusesAbsurdShardCounts) {
  EXPECT_THROW(registry(~0u), std::invalid_argument);
  EXPECT_NO_THROW(registry(0));  // every thread then shares the overflow shard
}

TEST(MetricsRegistry, RefusesEmptyHelp) {
  registry metrics(1);
  EXPECT_THROW(metrics.add_gauge("g", ""), std::invalid_argument);
}

TEST(MetricsRegistry, RefusesTakenNamesIncludingHistogramSuffixes) {
  registry metrics(1);
  metrics.add_gauge("g", "H.");
  EXPECT_THROW(metrics.add_gauge("g", "H."), std::invalid_argument);
  EXPECT_THROW(metrics.add_gauge_callback("g", "H.", {}, [](sample_sink&) {}),
               std::invalid_argument);
  metrics.add_histogram("h", "H.", {1});
  EXPECT_THROW(metrics.add_gauge("h_count", "H."), std::invalid_argument);
  metrics.add_gauge("x_sum", "H.");
  EXPECT_THROW(metrics.add_histogram("x", "H.", {1}), std::invalid_argument);
  // A refused registration leaves nothing behind.
  EXPECT_NO_THROW(metrics.add_histogram("x_seconds", "H.", {1}));
}

TEST(MetricsRegistry, RefusesBadBucketBounds) {
  registry metrics(1);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(metrics.add_histogram("h1", "H.", {1, 1}), std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("h2", "H.", {2, 1}), std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("h3", "H.", {std::nan(""), 1}), std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("h4", "H.", {-inf, 1}), std::invalid_argument);
  EXPECT_THROW(metrics.add_histogram("h5", "H.", {inf, inf}), std::invalid_argument);
  EXPECT_NO_THROW(metrics.add_histogram("h6", "H.", {-1, 0, 1, inf}));
  EXPECT_NO_THROW(metrics.add_histogram("h7", "H.", {}));  // only +Inf
}

TEST(MetricsRegistry, WithRefusesTheWrongNumberOfLabelValues) {
  registry metrics(1);
  auto& f = metrics.add_counter("c_total", "H.", {"a", "b"});
  EXPECT_THROW(f.with({"x"}), std::invalid_argument);
  EXPECT_THROW(f.with({"x", "y", "z"}), std::invalid_argument);
  EXPECT_THROW(metrics.add_counter("d_total", "H.").with({"x"}), std::invalid_argument);
}

TEST(MetricsRegistry, WithHandlesAreStable) {
  registry metrics(1);
  auto& family = metrics.add_counter("c_total", "H.", {"id"});
  counter& first = family.with({"first"});
  first.inc(5);
  for (int i = 0; i < 10000; ++i) family.with({std::to_string(i)}).inc();
  EXPECT_EQ(&family.with({"first"}), &first);
  std::vector<std::string_view> values{"first"};
  EXPECT_EQ(&family.with(values), &first);
  first.inc();
  EXPECT_EQ(first.value(), 6u);
  EXPECT_EQ(family.with({"9999"}).value(), 1u);
}

TEST(MetricsRegistry, ConcurrentWithAndRenderAgree) {
  registry metrics(4);
  auto& family = metrics.add_counter("c_total", "H.", {"id"});
  std::vector<counter*> seen(8);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      set_thread_shard(t % 4);
      for (int i = 0; i < 200; ++i) family.with({std::to_string(i)}).inc();
      seen[t] = &family.with({"0"});
    });
  }
  for (int i = 0; i < 20; ++i) (void)metrics.render();
  for (auto& thread : threads) thread.join();
  for (counter* handle : seen) EXPECT_EQ(handle, seen[0]);
  EXPECT_EQ(seen[0]->value(), 8u);
  EXPECT_NE(metrics.render().find("c_total{id=\"199\"} 8\n"), std::string::npos);
}

}  // namespace
}  // namespace relay::metrics
