// The text exposition format 0.0.4, checked as exact text on small registries.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/registry.hpp"

namespace relay::metrics {
namespace {

TEST(MetricsRender, CounterWithLabelsInCreationOrder) {
  registry metrics(2);
  auto& sent = metrics.add_counter("relay_sent_total", "Messages sent.", {"transport", "ns"});
  sent.with({"websocket", "/"}).inc(3);
  sent.with({"polling", "/chat"}).inc();
  sent.with({"websocket", "/"}).inc();
  EXPECT_EQ(metrics.render(),
            "# HELP relay_sent_total Messages sent.\n"
            "# TYPE relay_sent_total counter\n"
            "relay_sent_total{transport=\"websocket\",ns=\"/\"} 4\n"
            "relay_sent_total{transport=\"polling\",ns=\"/chat\"} 1\n");
}

TEST(MetricsRender, UnlabelledFamiliesAreScrapedAsZeroBeforeUse) {
  registry metrics(1);
  metrics.add_counter("a_total", "A.");
  metrics.add_gauge("b", "B.");
  EXPECT_EQ(metrics.render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP b B.\n# TYPE b gauge\nb 0\n");
}

TEST(MetricsRender, LabelledFamilyWithoutSeriesWritesNothing) {
  registry metrics(1);
  metrics.add_counter("a_total", "A.", {"x"});
  metrics.add_gauge_callback("b", "B.", {}, [](sample_sink&) {});
  EXPECT_EQ(metrics.render(), "");
}

TEST(MetricsRender, GaugeAddSubSet) {
  registry metrics(1);
  auto& open = metrics.add_gauge("relay_open", "Open.").with();
  open.add(5);
  open.sub(7);
  EXPECT_EQ(metrics.render(), "# HELP relay_open Open.\n# TYPE relay_open gauge\nrelay_open -2\n");
  open.set(42);
  open.add(1);
  EXPECT_EQ(open.value(), 43);
  open.set(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(open.value(), std::numeric_limits<int64_t>::min());
}

TEST(MetricsRender, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  registry metrics(1);
  auto& latency =
      metrics.add_histogram("relay_latency_seconds", "Latency.", {0.125, 0.5, 1, 2.5}, {"op"});
  auto& emit = latency.with({"emit"});
  emit.observe(0.0625);
  emit.observe(0.125);  // on a bound: le means <=
  emit.observe(0.75);
  emit.observe(3);
  EXPECT_EQ(metrics.render(),
            "# HELP relay_latency_seconds Latency.\n"
            "# TYPE relay_latency_seconds histogram\n"
            "relay_latency_seconds_bucket{op=\"emit\",le=\"0.125\"} 2\n"
            "relay_latency_seconds_bucket{op=\"emit\",le=\"0.5\"} 2\n"
            "relay_latency_seconds_bucket{op=\"emit\",le=\"1\"} 3\n"
            "relay_latency_seconds_bucket{op=\"emit\",le=\"2.5\"} 3\n"
            "relay_latency_seconds_bucket{op=\"emit\",le=\"+Inf\"} 4\n"
            "relay_latency_seconds_sum{op=\"emit\"} 3.9375\n"
            "relay_latency_seconds_count{op=\"emit\"} 4\n");
}

TEST(MetricsRender, UnlabelledHistogramAndExplicitInfBound) {
  registry metrics(1);
  auto& sizes = metrics.add_histogram("relay_size_bytes", "Sizes.",
                                      {64, 1024, std::numeric_limits<double>::infinity()});
  sizes.with().observe(100);
  EXPECT_EQ(metrics.render(),
            "# HELP relay_size_bytes Sizes.\n"
            "# TYPE relay_size_bytes histogram\n"
            "relay_size_bytes_bucket{le=\"64\"} 0\n"
            "relay_size_bytes_bucket{le=\"1024\"} 1\n"
            "relay_size_bytes_bucket{le=\"+Inf\"} 1\n"
            "relay_size_bytes_sum 100\n"
            "relay_size_bytes_count 1\n");
}

TEST(MetricsRender, HistogramNanGoesToInfAndPoisonsTheSum) {
  registry metrics(1);
  auto& h = metrics.add_histogram("h", "H.", {1}).with();
  h.observe(std::nan(""));
  h.observe(-5);
  const auto snapshot = h.collect();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(std::isnan(snapshot.sum));
  EXPECT_NE(metrics.render().find("h_sum NaN\n"), std::string::npos);
}

TEST(MetricsRender, LatencyBucketsSpellTheirBoundsShortest) {
  registry metrics(1);
  metrics.add_histogram("l_seconds", "L.", latency_buckets_seconds());
  const std::string text = metrics.render();
  for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25", "0.5", "1", "2.5", "+Inf"}) {
    EXPECT_NE(text.find(std::string("l_seconds_bucket{le=\"") + le + "\"} 0\n"), std::string::npos)
        << le;
  }
}

TEST(MetricsRender, BucketBoundsSpellLeAsTheGoClient) {
  registry metrics(1);
  metrics.add_histogram("b", "B.", {1e-5, 0.0001, 1, 123456, 1e6, 1.5e6});
  const std::string text = metrics.render();
  for (const char* le : {"1e-05", "0.0001", "1", "123456", "1e+06", "1.5e+06"}) {
    EXPECT_NE(text.find(std::string("b_bucket{le=\"") + le + "\"} 0\n"), std::string::npos) << le;
  }
}

TEST(MetricsRender, EscapesLabelValuesAndHelp) {
  registry metrics(1);
  auto& f =
      metrics.add_counter("e_total", "Help with \\ backslash,\nnewline and \"quotes\".", {"v"});
  f.with({"a\"b\\c\nd"}).inc();
  f.with({"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"}).inc();  // é € 😀 pass unchanged
  EXPECT_EQ(metrics.render(),
            "# HELP e_total Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE e_total counter\n"
            "e_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"
            "e_total{v=\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"} 1\n");
}

TEST(MetricsRender, InvalidUtf8BecomesReplacementCharacter) {
  registry metrics(1);
  auto& f = metrics.add_counter("u_total", "U.", {"v"});
  // A lone continuation byte, an overlong '/', a surrogate (U+D800), a truncated 3-byte sequence.
  f.with({"a\x80"
          "b\xC0\xAF"
          "c\xED\xA0\x80"
          "d\xE2\x82"})
      .inc();
  EXPECT_EQ(metrics.render(),
            "# HELP u_total U.\n# TYPE u_total counter\n"
            "u_total{v=\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "d\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n");
}

TEST(MetricsRender, CallbackGaugeNumbers) {
  registry metrics(1);
  metrics.add_gauge_callback("n", "Numbers.", {"k"}, [](sample_sink& sink) {
    sink.emit(3, {"int"});
    sink.emit(-0.25, {"frac"});
    sink.emit(0.1, {"tenth"});
    sink.emit(123456, {"below_e6"});
    sink.emit(1e6, {"e6"});
    sink.emit(1.5e6, {"e6_fraction"});
    sink.emit(9007199254740992.0, {"two_to_53"});
    sink.emit(1e21, {"big"});
    sink.emit(0.0001, {"e_minus_4"});
    sink.emit(0.00001, {"e_minus_5"});
    sink.emit(-0.0, {"negative_zero"});
    sink.emit(std::numeric_limits<double>::infinity(), {"inf"});
    sink.emit(-std::numeric_limits<double>::infinity(), {"neg_inf"});
    sink.emit(std::nan(""), {"nan"});
    sink.emit(1, {"too", "many"});  // wrong number of label values: dropped
  });
  EXPECT_EQ(metrics.render(),
            "# HELP n Numbers.\n# TYPE n gauge\n"
            "n{k=\"int\"} 3\n"
            "n{k=\"frac\"} -0.25\n"
            "n{k=\"tenth\"} 0.1\n"
            "n{k=\"below_e6\"} 123456\n"
            "n{k=\"e6\"} 1000000\n"
            "n{k=\"e6_fraction\"} 1500000\n"
            "n{k=\"two_to_53\"} 9.007199254740992e+15\n"
            "n{k=\"big\"} 1e+21\n"
            "n{k=\"e_minus_4\"} 0.0001\n"
            "n{k=\"e_minus_5\"} 1e-05\n"
            "n{k=\"negative_zero\"} 0\n"
            "n{k=\"inf\"} +Inf\n"
            "n{k=\"neg_inf\"} -Inf\n"
            "n{k=\"nan\"} NaN\n");
}

TEST(MetricsRender, CallbacksRunAtEveryScrapeInRegistrationOrder) {
  registry metrics(1);
  int connections = 2;
  metrics.add_counter("first_total", "First.");
  metrics.add_gauge_callback("conns", "Connections.", {},
                             [&](sample_sink& sink) { sink.emit(connections); });
  metrics.add_counter_callback("bytes_total", "Bytes.", {"dir"}, [](sample_sink& sink) {
    sink.emit(10, {"in"});
    sink.emit(20, {"out"});
  });
  const std::string tail =
      "# HELP bytes_total Bytes.\n# TYPE bytes_total counter\n"
      "bytes_total{dir=\"in\"} 10\nbytes_total{dir=\"out\"} 20\n";
  const std::string head =
      "# HELP first_total First.\n# TYPE first_total counter\nfirst_total 0\n"
      "# HELP conns Connections.\n# TYPE conns gauge\n";
  EXPECT_EQ(metrics.render(), head + "conns 2\n" + tail);
  connections = 7;
  EXPECT_EQ(metrics.render(), head + "conns 7\n" + tail);
}

TEST(MetricsRender, ContentType) {
  EXPECT_EQ(content_type(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace relay::metrics
