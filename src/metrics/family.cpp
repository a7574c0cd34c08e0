#include "metrics/family.hpp"

#include <stdexcept>
#include <type_traits>

#include "metrics/text_format.hpp"

namespace relay::metrics {
namespace {

void render_series(std::string& out, std::string_view name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const counter& metric) {
  detail::append_series(out, name, label_names, label_values);
  detail::append_value(out, metric.value());
}

void render_series(std::string& out, std::string_view name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const gauge& metric) {
  detail::append_series(out, name, label_names, label_values);
  detail::append_value(out, metric.value());
}

void render_series(std::string& out, std::string_view name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const histogram& metric) {
  const histogram::snapshot snapshot = metric.collect();
  const std::string bucket_name = std::string(name) + "_bucket";
  std::string le;
  for (std::size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    le.clear();
    if (i < metric.upper_bounds().size()) {
      detail::append_float(le, metric.upper_bounds()[i]);
    } else {
      le = "+Inf";
    }
    detail::append_series(out, bucket_name, label_names, label_values, le);
    detail::append_value(out, snapshot.cumulative_counts[i]);
  }
  detail::append_series(out, std::string(name) + "_sum", label_names, label_values);
  detail::append_value(out, snapshot.sum);
  detail::append_series(out, std::string(name) + "_count", label_names, label_values);
  detail::append_value(out, snapshot.cumulative_counts.back());
}

constexpr std::string_view type_name(const counter*) { return "counter"; }
constexpr std::string_view type_name(const gauge*) { return "gauge"; }
constexpr std::string_view type_name(const histogram*) { return "histogram"; }

}  // namespace

template <typename Metric>
family<Metric>::family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::mutex& registry_lock, unsigned shards, std::vector<double> upper_bounds)
    : family_base(std::move(name), std::move(help), std::move(label_names)),
      registry_lock_(registry_lock),
      shards_(shards),
      upper_bounds_(std::move(upper_bounds)) {}

template <typename Metric>
Metric& family<Metric>::with(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(label_values.size()));
  }
  std::vector<std::string> key(label_values.begin(), label_values.end());
  std::lock_guard lock(registry_lock_);
  if (auto found = by_label_values_.find(key); found != by_label_values_.end()) {
    return *found->second;
  }
  std::unique_ptr<Metric> metric;
  if constexpr (std::is_same_v<Metric, histogram>) {
    // Spelled with Metric: a non-dependent `new histogram` is access-checked by clang even in
    // family<gauge>, where this branch is discarded (and histogram's constructor is private).
    metric.reset(new Metric(shards_, upper_bounds_));
  } else {
    metric.reset(new Metric(shards_));
  }
  Metric& result = *metric;
  series_.push_back(series{key, std::move(metric)});
  by_label_values_.emplace(std::move(key), &result);
  return result;
}

template <typename Metric>
void family<Metric>::render(std::string& out) const {
  if (series_.empty()) return;
  detail::append_header(out, name_, help_, type_name(static_cast<const Metric*>(nullptr)));
  for (const series& s : series_) {
    render_series(out, name_, label_names_, s.label_values, *s.metric);
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

}  // namespace relay::metrics
