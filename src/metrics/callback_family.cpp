#include "metrics/callback_family.hpp"

#include "metrics/text_format.hpp"

namespace relay::metrics {

void sample_sink::emit(double value, std::span<const std::string_view> label_values) {
  if (label_values.size() != label_count_) return;
  samples_.push_back(sample{{label_values.begin(), label_values.end()}, value});
}

namespace detail {

void callback_family::render(std::string& out) const {
  sample_sink sink(label_names_.size());
  collect_(sink);
  if (sink.samples_.empty()) return;
  append_header(out, name_, help_, type_);
  for (const auto& sample : sink.samples_) {
    append_series(out, name_, label_names_, sample.label_values);
    append_value(out, sample.value);
  }
}

}  // namespace detail
}  // namespace relay::metrics
