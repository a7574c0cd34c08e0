#include "metrics/gauge.hpp"

namespace relay::metrics {

void gauge::set(int64_t value) noexcept {
  base_.store(static_cast<uint64_t>(value) - cells_.sum(0), std::memory_order_relaxed);
}

int64_t gauge::value() const noexcept {
  return static_cast<int64_t>(base_.load(std::memory_order_relaxed) + cells_.sum(0));
}

}  // namespace relay::metrics
