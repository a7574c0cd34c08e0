#pragma once
// Per-room message history with offsets, for catching up after a reconnect (Socket.IO
// connection state recovery, SSE Last-Event-ID, GET /api/history/{room}?since=).
//
// Model (as Centrifugo's streams): each room's history has an epoch, a short random string
// chosen when the store first creates that history, and offsets that start at 1 and grow by
// exactly 1 per append. (epoch, offset) never names two different messages: an offset is not
// reused while the epoch lives, and a history that is forgotten and created again gets a new
// epoch. A client keeps the last (epoch, offset) it saw; on reconnect it asks since(offset) and
// must resync from scratch when the epoch differs or the page says `truncated`.
//
// Threading: every history_store method may be called from any thread concurrently. Reads
// never touch the disk. Entries are immutable and shared: a reader may keep the pointers of a
// page as long as it likes, whatever the store trims meanwhile.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relay::store {

struct history_entry {
  uint64_t offset = 0;
  int64_t time_ms = 0;  // publish wall time (Unix ms), made non-decreasing within a room
  std::string event{};
  std::string data{};  // opaque bytes (JSON text for the callers of today)
};
using history_entry_ptr = std::shared_ptr<const history_entry>;

// What a room keeps; 0 means unlimited. Bytes count event + data of the retained entries.
// An entry older than max_age_ms is never returned, even before expire() removes it.
struct history_limits {
  size_t max_messages = 0;
  uint64_t max_age_ms = 0;
  size_t max_bytes = 0;
};

struct history_options {
  // The limits of a room, asked once when the store first sees it (append, stream_top, or
  // loading from disk) and kept for that room's life. Required. Called under an internal lock:
  // it must be fast, thread-safe, and must not call the store.
  std::function<history_limits(std::string_view room)> limits;
  // How long a room whose entries are all gone is remembered (its last offset and epoch), after
  // its last entry would have aged out: a client that saw everything in a quiet room then
  // reconnects within this time is told it missed nothing, instead of meeting a new epoch.
  uint64_t empty_room_ttl_ms = 60 * 60 * 1000;
};

// A point in a room's history: the offset of an append, or a room's latest offset.
struct stream_position {
  uint64_t offset = 0;
  std::string epoch{};  // empty for a room the store does not know
};

struct history_page {
  std::vector<history_entry_ptr> entries{};  // ascending offsets
  uint64_t last_offset = 0;                  // the room's latest offset, even if nothing returned
  std::string epoch{};
  // Messages after the asked offset are gone (trimmed or aged out), or the offset is one this
  // history never issued: the client lost continuity and must resync.
  bool truncated = false;
};

struct history_stats {
  size_t rooms = 0;  // including emptied rooms still remembered for their offsets
  size_t entries = 0;
  size_t bytes = 0;           // event + data of the retained entries
  uint64_t write_errors = 0;  // persistent stores: failed batches (their changes are lost)
  uint64_t unsaved_changes_dropped = 0;  // persistent stores: dropped when the writer lagged
};

class history_store {
 public:
  virtual ~history_store() = default;

  // Appends to the room's history (creating it if new) and trims it to its limits. now_ms is
  // the wall clock in Unix ms. Returns the new entry's offset and the history's epoch.
  virtual stream_position append(std::string_view room, std::string event, std::string data,
                                 int64_t now_ms) = 0;

  // Entries with offset > after_offset that are still retained, oldest first, at most
  // max_count of them (0: no cap; a capped page continues with since(last entry's offset)).
  // An unknown room gives an empty page with last_offset 0 and an empty epoch (truncated when
  // after_offset is not 0: that position belonged to a history this store no longer has).
  virtual history_page since(std::string_view room, uint64_t after_offset, size_t max_count,
                             int64_t now_ms) const = 0;

  // The newest n retained entries (0: all), oldest first; truncated is always false.
  virtual history_page latest(std::string_view room, size_t n, int64_t now_ms) const = 0;

  // The room's latest offset and epoch. Creates the room's (empty) history if it has none, so
  // that a subscriber given this position keeps a stable epoch when the first message comes.
  virtual stream_position stream_top(std::string_view room, int64_t now_ms) = 0;

  // Removes aged-out entries and forgets rooms that stayed empty past empty_room_ttl_ms. Cost:
  // every room is visited, one lock stripe at a time; call it about once a second from one
  // thread (reads already skip aged-out entries, this only frees their memory).
  virtual void expire(int64_t now_ms) = 0;

  virtual history_stats stats() const = 0;
};

}  // namespace relay::store
