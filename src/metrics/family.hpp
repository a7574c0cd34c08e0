#pragma once
// A metric family: one name, one help text, fixed label names, and one series per distinct set
// of label values. Families are created by the registry and live as long as it does.
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/counter.hpp"
#include "metrics/gauge.hpp"
#include "metrics/histogram.hpp"

namespace relay::metrics {

class registry;

namespace detail {

// What the registry keeps of every family, including callback ones.
class family_base {
 public:
  family_base(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~family_base() = default;
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;

  // Appends the family in text format; called with the registry's lock held. A family without
  // any series writes nothing.
  virtual void render(std::string& out) const = 0;

 protected:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

}  // namespace detail

// Metric is counter, gauge or histogram.
template <typename Metric>
class family final : public detail::family_base {
 public:
  // The series for these label values (as many as the family has label names, in the same
  // order), created on first use. Thread-safe: takes the registry's lock, so not for the hot
  // path — call it once and keep the reference, which stays valid for the registry's lifetime.
  // Throws std::invalid_argument if the number of values is wrong.
  Metric& with(std::initializer_list<std::string_view> label_values = {}) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  Metric& with(std::span<const std::string_view> label_values);

  void render(std::string& out) const override;

 private:
  friend class registry;
  // upper_bounds: histograms only (checked by the registry), empty otherwise.
  family(std::string name, std::string help, std::vector<std::string> label_names,
         std::mutex& registry_lock, unsigned shards, std::vector<double> upper_bounds = {});

  struct series {
    std::vector<std::string> label_values;
    std::unique_ptr<Metric> metric;
  };

  std::mutex& registry_lock_;
  const unsigned shards_;
  const std::vector<double> upper_bounds_;
  std::deque<series> series_;  // in creation order, the order they are rendered in
  std::map<std::vector<std::string>, Metric*, std::less<>> by_label_values_;
};

extern template class family<counter>;
extern template class family<gauge>;
extern template class family<histogram>;

}  // namespace relay::metrics
