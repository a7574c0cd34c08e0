#pragma once
// Wall-clock time in Unix milliseconds, for what outlives the process or is shown to people
// (history timestamps, expiry of stored entries). Timers use event_loop::now_ms() instead.
#include <chrono>
#include <cstdint>

namespace relay::core {

inline int64_t wall_clock_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace relay::core
