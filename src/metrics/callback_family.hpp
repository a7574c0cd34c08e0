#pragma once
// A family whose samples a callback produces at each scrape (registry::add_gauge_callback and
// add_counter_callback). Internal to src/metrics.
#include <functional>

#include "metrics/family.hpp"
#include "metrics/sample_sink.hpp"

namespace relay::metrics::detail {

class callback_family final : public family_base {
 public:
  callback_family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::string_view type, std::function<void(sample_sink&)> collect)
      : family_base(std::move(name), std::move(help), std::move(label_names)),
        type_(type),
        collect_(std::move(collect)) {}

  void render(std::string& out) const override;

 private:
  std::string_view type_;  // a literal: "gauge" or "counter"
  std::function<void(sample_sink&)> collect_;
};

}  // namespace relay::metrics::detail
