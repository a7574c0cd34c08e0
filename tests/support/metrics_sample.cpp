// Prints a registry holding every kind of metric, with awkward label values and help texts, in
// the text exposition format: the input of the metrics.promtool_check test, where Prometheus'
// own parser and linter (promtool check metrics) judge it.
#include <cstdio>
#include <limits>
#include <thread>

#include "metrics/registry.hpp"

int main() {
  using namespace relay::metrics;
  registry metrics(2);

  auto& sent = metrics.add_counter("relay_sample_messages_sent_total",
                                   "Messages sent, with \"quotes\", a \\ backslash\nand a newline.",
                                   {"namespace", "room"});
  sent.with({"/", "lobby"}).inc(3);
  sent.with({"/chat", "say \"hi\""}).inc();
  sent.with({"/chat", "back\\slash"}).inc(2);
  sent.with({"/chat", "two\nlines"}).inc();
  sent.with({"/\xC3\xA9t\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"})
      .inc();                                       // été, 日本 😀
  sent.with({"/bad", "invalid \xFF utf-8"}).inc();  // -> U+FFFD
  sent.with({"/empty", ""}).inc();
  metrics.add_counter("relay_sample_unused_total", "Registered, never incremented.");

  auto& open = metrics.add_gauge("relay_sample_connections", "Open connections.", {"transport"});
  open.with({"websocket"}).add(5);
  open.with({"polling"}).add(2);
  open.with({"polling"}).sub(3);
  metrics.add_gauge("relay_sample_start_time_seconds", "Start time.").with().set(1700000000);

  auto& latency = metrics.add_histogram("relay_sample_ack_latency_seconds", "Ack latency.",
                                        latency_buckets_seconds(), {"event"});
  for (double seconds : {0.0001, 0.0005, 0.003, 0.02, 0.2, 1.5, 7.0}) {
    latency.with({"chat \"message\""}).observe(seconds);
  }
  latency.with({"idle"});  // a series with no observations: all zeros
  auto& sizes = metrics.add_histogram("relay_sample_frame_size_bytes", "Frame sizes.",
                                      {64, 1024, 65536, 1e6, 1e7});
  sizes.with().observe(100);
  sizes.with().observe(2e6);

  metrics.add_gauge_callback("relay_sample_history_messages", "Messages kept per room.", {"room"},
                             [](sample_sink& sink) {
                               sink.emit(12, {"lobby"});
                               sink.emit(0.5, {"half"});
                               sink.emit(std::numeric_limits<double>::infinity(), {"inf"});
                               sink.emit(-std::numeric_limits<double>::infinity(), {"neg_inf"});
                               sink.emit(std::numeric_limits<double>::quiet_NaN(), {"nan"});
                               sink.emit(1e-7, {"tiny"});
                             });
  metrics.add_counter_callback("relay_sample_bytes_received_total", "Bytes received.", {},
                               [](sample_sink& sink) { sink.emit(123456789); });

  // Increments from loop shards and from a thread with none, as the server will make them.
  std::thread loops[2];
  for (unsigned i = 0; i < 2; ++i) {
    loops[i] = std::thread([&sent, i] {
      set_thread_shard(i);
      for (int n = 0; n < 1000; ++n) sent.with({"/", "lobby"}).inc();
    });
  }
  for (auto& loop : loops) loop.join();

  const std::string text = metrics.render();
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
