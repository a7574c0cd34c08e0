#pragma once
// Connections closed because they did not read fast enough (a send queue past its limit), over
// the process: a rare event worth a metric and a log line. One relaxed atomic shared by the
// loops: it moves only when a consumer is cut off.
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/log.hpp"

namespace relay::core {

inline std::atomic<uint64_t> g_slow_consumer_closes{0};

inline void note_slow_consumer(std::string_view transport, uint64_t queued, uint64_t limit) {
  g_slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
  log::warn("slow consumer closed", {{"transport", transport},
                                     {"queued_bytes", static_cast<int64_t>(queued)},
                                     {"limit_bytes", static_cast<int64_t>(limit)}});
}

}  // namespace relay::core
