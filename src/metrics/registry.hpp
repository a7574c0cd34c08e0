#pragma once
// The metrics of one process and their Prometheus text rendering (docs/metrics.md).
//
//   relay::metrics::registry registry(loop_count);
//   relay::metrics::counter& sent =                  // at start-up; keep the reference
//       registry.add_counter("relay_messages_sent_total", "Messages sent.", {"transport"})
//           .with({"websocket"});
//   relay::metrics::set_thread_shard(loop_index);    // once, on each loop's thread
//   sent.inc();                                      // hot path: no lock, no shared cache line
//   std::string body = registry.render();            // GET /metrics, any thread
//
// Thread safety: everything here may be called from any thread. Registration, with() and
// render() take one mutex; increments never do. Families cannot be removed. The registry must
// outlive every thread that still increments its metrics.
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/counter.hpp"
#include "metrics/family.hpp"
#include "metrics/gauge.hpp"
#include "metrics/histogram.hpp"
#include "metrics/sample_sink.hpp"
#include "metrics/sharded_cells.hpp"

namespace relay::metrics {

// The Content-Type of render()'s output.
std::string_view content_type() noexcept;

class registry {
 public:
  // shards: the number of loop threads that call set_thread_shard(0..shards-1); every series
  // keeps one cache line per shard plus one for all other threads. At most kMaxShards, or
  // std::invalid_argument.
  static constexpr unsigned kMaxShards = 4096;
  explicit registry(unsigned shards);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Registration, at start-up. Names match [a-zA-Z_:][a-zA-Z0-9_:]*; counter names end in
  // "_total" and other names do not, so the name written here is the one scraped. Label names
  // match [a-zA-Z_][a-zA-Z0-9_]*, do not start with "__" and are not "le" (reserved for
  // histogram buckets). Help must not be empty. A name already taken (including a histogram's
  // _bucket, _sum and _count) throws std::invalid_argument, as does any rule above.
  //
  // A family without labels gets its one series at once, so it is scraped as 0 before use.
  family<counter>& add_counter(std::string_view name, std::string_view help,
                               std::initializer_list<std::string_view> label_names = {});
  family<gauge>& add_gauge(std::string_view name, std::string_view help,
                           std::initializer_list<std::string_view> label_names = {});
  // upper_bounds: finite, strictly increasing; a trailing +Inf may be given or left out.
  family<histogram>& add_histogram(std::string_view name, std::string_view help,
                                   std::vector<double> upper_bounds,
                                   std::initializer_list<std::string_view> label_names = {});

  // Metrics whose values the server already keeps: collect runs at every render(), on the
  // scraping thread and under the registry's lock, so it must read its data thread-safely and
  // must not call into this registry.
  using collect_fn = std::function<void(sample_sink&)>;
  void add_gauge_callback(std::string_view name, std::string_view help,
                          std::initializer_list<std::string_view> label_names, collect_fn collect);
  void add_counter_callback(std::string_view name, std::string_view help,
                            std::initializer_list<std::string_view> label_names,
                            collect_fn collect);

  // Text exposition format 0.0.4: families in registration order, series in creation order.
  // Reads every shard of every series; meant for scrapes, not for loops.
  std::string render() const;

 private:
  enum class kind { kCounter, kGauge, kHistogram };
  // Validates the names and reserves the ones the family will write; returns the label names.
  void add_callback(std::string_view name, std::string_view help,
                    std::initializer_list<std::string_view> label_names, kind type,
                    collect_fn collect);
  std::vector<std::string> claim_names(std::string_view name, std::string_view help,
                                       std::initializer_list<std::string_view> label_names,
                                       kind type);
  template <typename Metric>
  family<Metric>& add_family(std::string_view name, std::string_view help,
                             std::initializer_list<std::string_view> label_names, kind type,
                             std::vector<double> upper_bounds);

  const unsigned shards_;
  mutable std::mutex lock_;
  std::vector<std::unique_ptr<detail::family_base>> families_;
  std::set<std::string, std::less<>> taken_names_;
};

}  // namespace relay::metrics
