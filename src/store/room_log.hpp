#pragma once
// One room's retained history: the entries still kept, oldest first, and the room's offset
// counter and epoch. Not thread-safe: memory_history guards each room_log with a stripe lock.
//
// Invariants: retained offsets are contiguous and end at last_offset() when any are retained;
// entry times are non-decreasing, so aged-out entries are always a prefix (found by binary
// search, dropped from the front).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/history.hpp"

namespace relay::store {

class room_log {
 public:
  // `entries` (contiguous offsets ending at last_offset, or none) are trimmed to the limits at
  // now_ms right away: this is how a persistent store restores a room.
  room_log(std::string epoch, history_limits limits, uint64_t last_offset, int64_t last_time_ms,
           std::vector<history_entry_ptr> entries, int64_t now_ms);

  const std::string& epoch() const noexcept { return epoch_; }
  uint64_t last_offset() const noexcept { return last_offset_; }
  // The oldest retained offset; last_offset() + 1 when nothing is retained.
  uint64_t first_offset() const noexcept { return last_offset_ + 1 - size(); }
  size_t size() const noexcept { return entries_.size() - head_; }
  size_t bytes() const noexcept { return bytes_; }

  // Gives `entry` the next offset and a time of at least the previous entry's, keeps it, then
  // drops the oldest entries past the limits. Returns how many were dropped (possibly the new
  // entry itself, when it alone is larger than max_bytes).
  size_t append(std::shared_ptr<history_entry> entry, int64_t now_ms);

  // Drops the aged-out entries; returns how many.
  size_t drop_aged(int64_t now_ms);

  // Nothing retained and nothing appended for max_age + empty_room_ttl: the room may be forgotten.
  bool forgettable(int64_t now_ms, uint64_t empty_room_ttl_ms) const noexcept;

  history_page since(uint64_t after_offset, size_t max_count, int64_t now_ms) const;
  history_page latest(size_t n, int64_t now_ms) const;

 private:
  bool aged(int64_t time_ms, int64_t now_ms) const noexcept;
  size_t first_live_index(int64_t now_ms) const noexcept;
  history_page page_from(size_t begin, size_t end) const;
  size_t trim(int64_t now_ms);
  void pop_front() noexcept;

  std::string epoch_;
  history_limits limits_;
  uint64_t last_offset_;
  int64_t last_time_ms_;  // of the newest entry, or of the room's creation
  size_t bytes_ = 0;
  // entries_[head_..] are retained: popping from the front only moves head_; the dead prefix is
  // erased once it is half the vector (amortized O(1), no per-room deque blocks).
  std::vector<history_entry_ptr> entries_;
  size_t head_ = 0;
};

}  // namespace relay::store
