#pragma once
// Durable history for a single node (`--data-dir`): memory_history serves every append and
// read; one writer thread copies its changes into a SQLite database, so no caller ever waits
// for the disk. At start-up the database is loaded back into memory.
//
// Durability window: the writer commits whatever accumulated every kBatchInterval (10 ms), in
// one transaction, in WAL mode with synchronous=NORMAL.
//   - a clean stop (flush(), the destructor) loses nothing;
//   - a crash of the process loses the changes not yet committed: at most the last ~10 ms, plus
//     what arrived while a batch was being written;
//   - a crash of the machine (power loss) may also undo the commits since the last WAL sync;
//     the file itself stays consistent.
// If the writer falls behind by more than memory_history::kMaxChangesPerStripe changes in a
// stripe, further appends are served from memory but not saved (stats().unsaved_changes_dropped);
// a batch that fails to write (disk full, I/O error) is dropped, reported once on stderr and
// counted (stats().write_errors). Either way the server runs on.
//
// Offsets are never reused within an epoch, even across a crash: the file records whether the
// last run closed having saved everything. After a crash, a failed write or a dropped change it
// did not, and every room gets a new epoch at the next open (its saved entries and offsets stay):
// clients that may have seen offsets past the saved ones resync instead of being served other
// messages under the same numbers. The loader keeps only the saved entries that end contiguously
// at a room's saved last offset.
//
// One process at a time: the database is held with an exclusive lock while open.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "store/history.hpp"
#include "store/memory_history.hpp"

namespace relay::store {

class sqlite_history final : public history_store {
 public:
  static constexpr std::chrono::milliseconds kBatchInterval{10};

  // Opens the database file at `path` (creating it and its schema if missing), loads each room's
  // epoch, last offset and retained entries within today's limits at now_ms, and starts the
  // writer. Start-up only: throws std::runtime_error naming the file when it cannot be opened or
  // created, is not a relay history database, or is in use by another process; throws
  // std::invalid_argument when options.limits is empty.
  sqlite_history(const std::string& path, history_options options, int64_t now_ms);
  // Writes everything appended so far, then stops the writer and closes the file.
  ~sqlite_history() override;
  sqlite_history(const sqlite_history&) = delete;
  sqlite_history& operator=(const sqlite_history&) = delete;

  stream_position append(std::string_view room, std::string event, std::string data,
                         int64_t now_ms) override;
  history_page since(std::string_view room, uint64_t after_offset, size_t max_count,
                     int64_t now_ms) const override;
  history_page latest(std::string_view room, size_t n, int64_t now_ms) const override;
  stream_position stream_top(std::string_view room, int64_t now_ms) override;
  // Also deletes the aged-out rows and forgotten rooms from the file (in the next batch).
  void expire(int64_t now_ms) override;
  history_stats stats() const override;

  // Blocks until every change made before the call is committed (or failed): for shutdown and
  // tests, never on an event loop thread.
  void flush();

 private:
  class writer;
  memory_history memory_;
  std::unique_ptr<writer> writer_;  // declared after memory_: stops before memory_ goes
};

}  // namespace relay::store
