#include "metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "metrics/callback_family.hpp"

namespace relay::metrics {
namespace {

bool is_letter_or_underscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || is_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter_or_underscore(c) || is_digit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and "__" is reserved for Prometheus' own labels.
bool is_valid_label_name(std::string_view name) {
  if (name.empty() || is_digit(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter_or_underscore(c) || is_digit(c); });
}

[[noreturn]] void refuse(std::string_view name, std::string_view why) {
  throw std::invalid_argument("metric \"" + std::string(name) + "\": " + std::string(why));
}

}  // namespace

std::string_view content_type() noexcept { return "text/plain; version=0.0.4; charset=utf-8"; }

registry::registry(unsigned shards) : shards_(shards) {
  if (shards > kMaxShards) throw std::invalid_argument("metrics registry: too many shards");
}
registry::~registry() = default;

std::vector<std::string> registry::claim_names(std::string_view name, std::string_view help,
                                               std::initializer_list<std::string_view> label_names,
                                               kind type) {
  if (!is_valid_metric_name(name)) refuse(name, "invalid name");
  if (help.empty()) refuse(name, "help text is empty");
  // Exposition format 0.0.4 names a counter's family with its _total suffix; promtool asks for
  // it on counters and against it elsewhere.
  const bool ends_in_total = name.ends_with("_total");
  if (type == kind::kCounter && !ends_in_total) refuse(name, "a counter's name ends in _total");
  if (type != kind::kCounter && ends_in_total) refuse(name, "only counters end in _total");

  std::vector<std::string> labels;
  for (std::string_view label : label_names) {
    if (!is_valid_label_name(label)) {
      refuse(name, "invalid label name \"" + std::string(label) + '"');
    }
    if (label == "le") refuse(name, "label \"le\" is reserved for histogram buckets");
    if (std::find(labels.begin(), labels.end(), label) != labels.end()) {
      refuse(name, "label \"" + std::string(label) + "\" given twice");
    }
    labels.emplace_back(label);
  }

  std::vector<std::string> written{std::string(name)};
  if (type == kind::kHistogram) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      written.push_back(std::string(name) + std::string(suffix));
    }
  }
  for (const auto& taken : written) {
    if (taken_names_.contains(taken)) refuse(name, "name \"" + taken + "\" already registered");
  }
  taken_names_.insert(written.begin(), written.end());
  return labels;
}

template <typename Metric>
family<Metric>& registry::add_family(std::string_view name, std::string_view help,
                                     std::initializer_list<std::string_view> label_names, kind type,
                                     std::vector<double> upper_bounds) {
  std::unique_lock lock(lock_);
  auto labels = claim_names(name, help, label_names, type);
  const bool unlabelled = labels.empty();
  std::unique_ptr<family<Metric>> created(new family<Metric>(std::string(name), std::string(help),
                                                             std::move(labels), lock_, shards_,
                                                             std::move(upper_bounds)));
  family<Metric>& result = *created;
  families_.push_back(std::move(created));
  lock.unlock();  // with() takes it
  if (unlabelled) result.with();
  return result;
}

family<counter>& registry::add_counter(std::string_view name, std::string_view help,
                                       std::initializer_list<std::string_view> label_names) {
  return add_family<counter>(name, help, label_names, kind::kCounter, {});
}

family<gauge>& registry::add_gauge(std::string_view name, std::string_view help,
                                   std::initializer_list<std::string_view> label_names) {
  return add_family<gauge>(name, help, label_names, kind::kGauge, {});
}

family<histogram>& registry::add_histogram(std::string_view name, std::string_view help,
                                           std::vector<double> upper_bounds,
                                           std::initializer_list<std::string_view> label_names) {
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();  // +Inf is always there
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) refuse(name, "bucket bounds must be finite");
    if (i > 0 && upper_bounds[i] <= upper_bounds[i - 1]) {
      refuse(name, "bucket bounds must increase strictly");
    }
  }
  return add_family<histogram>(name, help, label_names, kind::kHistogram, std::move(upper_bounds));
}

void registry::add_callback(std::string_view name, std::string_view help,
                            std::initializer_list<std::string_view> label_names, kind type,
                            collect_fn collect) {
  std::lock_guard lock(lock_);
  auto labels = claim_names(name, help, label_names, type);
  families_.push_back(std::make_unique<detail::callback_family>(
      std::string(name), std::string(help), std::move(labels),
      type == kind::kCounter ? "counter" : "gauge", std::move(collect)));
}

void registry::add_gauge_callback(std::string_view name, std::string_view help,
                                  std::initializer_list<std::string_view> label_names,
                                  collect_fn collect) {
  add_callback(name, help, label_names, kind::kGauge, std::move(collect));
}

void registry::add_counter_callback(std::string_view name, std::string_view help,
                                    std::initializer_list<std::string_view> label_names,
                                    collect_fn collect) {
  add_callback(name, help, label_names, kind::kCounter, std::move(collect));
}

std::string registry::render() const {
  std::string out;
  std::lock_guard lock(lock_);
  for (const auto& family : families_) family->render(out);
  return out;
}

}  // namespace relay::metrics
