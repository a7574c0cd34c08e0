#pragma once
// The in-memory history store: rooms spread over 64 lock stripes by the hash of their name, so
// publishes to different rooms rarely wait for each other and a stripe's lock is held only for
// the few pointer moves of one operation (entries are built before the lock is taken).
//
// It can also record what changed (room created, entry appended, entries trimmed, room
// forgotten) for a persistent store to write elsewhere: each change is kept beside the room's
// stripe, in order, until take_changes() collects it.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/history.hpp"
#include "store/room_log.hpp"

namespace relay::store {

struct history_change {
  enum class kind : uint8_t {
    room_created,  // epoch, time_ms: a new history (any older one of that name is gone)
    appended,      // epoch, entry, first_kept (the trim this append caused, in the same change)
    trimmed,       // first_kept: every entry below it is gone (expire, restore)
    room_dropped,  // the room and its history are forgotten
  };
  kind what;
  std::string room{};
  std::string epoch{};
  history_entry_ptr entry{};
  uint64_t first_kept = 0;
  int64_t time_ms = 0;
};

enum class record_changes : bool { no, yes };

class memory_history final : public history_store {
 public:
  // Past this many uncollected changes in one stripe, appends and trims are no longer recorded
  // (counted in stats().unsaved_changes_dropped): a stalled disk must not exhaust memory.
  // One change is ~100 bytes (plus the entry it keeps alive): at most ~110 MB in all stripes.
  static constexpr size_t kMaxChangesPerStripe = 16384;

  // Throws std::invalid_argument when options.limits is empty (start-up).
  explicit memory_history(history_options options, record_changes record = record_changes::no);

  stream_position append(std::string_view room, std::string event, std::string data,
                         int64_t now_ms) override;
  history_page since(std::string_view room, uint64_t after_offset, size_t max_count,
                     int64_t now_ms) const override;
  history_page latest(std::string_view room, size_t n, int64_t now_ms) const override;
  stream_position stream_top(std::string_view room, int64_t now_ms) override;
  void expire(int64_t now_ms) override;
  history_stats stats() const override;

  // For a persistent store at start-up: puts back a room as it was saved (entries contiguous and
  // ending at last_offset, or none), trimmed to today's limits. Records only the trim.
  void restore(std::string_view room, std::string epoch, uint64_t last_offset, int64_t last_time_ms,
               std::vector<history_entry_ptr> entries, int64_t now_ms);

  // Moves every recorded change into `out`, in order within each room.
  void take_changes(std::vector<history_change>& out);

 private:
  struct name_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct alignas(64) stripe {
    mutable std::mutex mutex;
    std::unordered_map<std::string, room_log, name_hash, std::equal_to<>> rooms;
    size_t entries = 0;  // sums over rooms, for stats()
    size_t bytes = 0;
    std::vector<history_change> changes;
    uint64_t changes_dropped = 0;
  };
  static constexpr size_t kStripes = 64;

  stripe& stripe_of(std::string_view room) const noexcept;
  // Under the stripe's lock.
  room_log& find_or_create(stripe& s, std::string_view room, int64_t now_ms);
  void record(stripe& s, history_change change);
  void record_trim(stripe& s, std::string_view room, const room_log& log);

  const history_options options_;
  const bool record_;
  mutable std::array<stripe, kStripes> stripes_;
};

}  // namespace relay::store
