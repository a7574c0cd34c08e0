#pragma once
// What a callback metric writes its samples into at scrape time (registry::add_gauge_callback,
// add_counter_callback): values the server already keeps, reported without double bookkeeping.
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace relay::metrics {

namespace detail {
class callback_family;
}

class sample_sink {
 public:
  // One sample. label_values match the family's label names in number and order; a sample with
  // the wrong number is dropped (a scrape must not fail). The callback must not emit the same
  // label values twice. Doubles hold integers exactly up to 2^53.
  void emit(double value, std::initializer_list<std::string_view> label_values = {}) {
    emit(value, std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  void emit(double value, std::span<const std::string_view> label_values);

 private:
  friend class detail::callback_family;
  explicit sample_sink(std::size_t label_count) : label_count_(label_count) {}

  struct sample {
    std::vector<std::string> label_values;
    double value;
  };
  std::size_t label_count_;
  std::vector<sample> samples_;
};

}  // namespace relay::metrics
