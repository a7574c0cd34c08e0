#include "store/sqlite_history.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/epoch.hpp"

namespace relay::store {
namespace {

constexpr int kSchemaVersion = 1;

// rooms is the truth for offsets: a room's row outlives its messages (trimmed, aged out) until
// the room is forgotten. Names and payloads are BLOBs: stored byte for byte, no UTF-8 rules.
// meta.clean_shutdown is 0 while a relay has the file open, 1 once it closed having saved all.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES ('clean_shutdown', 1);
CREATE TABLE rooms (
  room BLOB PRIMARY KEY,
  epoch TEXT NOT NULL,
  last_offset INTEGER NOT NULL,
  last_time_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
  room BLOB NOT NULL,
  msg_offset INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  event BLOB NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (room, msg_offset)
);
PRAGMA user_version = 1;
)sql";

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view doing) {
  std::string message = "history database '" + path + "': " + std::string(doing) + ": ";
  if (db == nullptr) {
    message += "out of memory";
  } else {
    message += sqlite3_errmsg(db);
    if (const int err = sqlite3_system_errno(db); err != 0) {
      message += " (";
      message += std::strerror(err);
      message += ")";
    }
    if ((sqlite3_errcode(db) & 0xff) == SQLITE_BUSY) message += " (is another relay using it?)";
  }
  throw std::runtime_error(message);
}

void exec(sqlite3* db, const std::string& path, const char* sql, std::string_view doing) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path, doing);
}

statement_ptr prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    fail(db, path, "preparing a statement");
  }
  return statement_ptr(s);
}

// The first column of a one-row answer, as text.
std::string query_text(sqlite3* db, const std::string& path, const char* sql,
                       std::string_view doing) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) fail(db, path, doing);
  const statement_ptr s(raw);
  if (sqlite3_step(s.get()) != SQLITE_ROW) fail(db, path, doing);
  const auto* text = sqlite3_column_text(s.get(), 0);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

int64_t to_db(uint64_t offset) { return static_cast<int64_t>(offset); }

void bind_bytes(sqlite3_stmt* s, int i, std::string_view bytes) {
  // SQLITE_STATIC: the bytes outlive the step that reads them. A non-null pointer even for
  // empty bytes, or SQLite would store NULL.
  sqlite3_bind_blob64(s, i, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_STATIC);
}

std::string column_bytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  const int n = sqlite3_column_bytes(s, i);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

// Steps a statement that returns no rows and makes it ready for the next use.
bool run(sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc == SQLITE_DONE;
}

struct opened_database {
  db_ptr db;
  // Whether the last relay to use the file saved everything it handed out. If not (a crash, a
  // failed write, changes dropped), offsets after the saved ones may have reached clients: the
  // loader gives every room a new epoch so that no (epoch, offset) can name two messages.
  bool closed_cleanly;
};

opened_database open_database(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) fail(db.get(), path, "cannot open");
  sqlite3_extended_result_codes(db.get(), 1);
  // Exclusive before WAL: the file stays locked while open (a second relay on the same
  // data dir fails here instead of interleaving offsets), and WAL needs no shared memory file.
  exec(db.get(), path, "PRAGMA locking_mode=EXCLUSIVE", "setting the locking mode");
  if (query_text(db.get(), path, "PRAGMA journal_mode=WAL", "opening") != "wal") {
    throw std::runtime_error("history database '" + path + "': cannot use WAL journaling");
  }
  // FULL for the first commit: its clean_shutdown = 0 must survive even a power loss.
  exec(db.get(), path, "PRAGMA synchronous=FULL", "setting synchronous=FULL");
  // The write lock, taken now and kept: the schema check below and every later batch.
  exec(db.get(), path, "BEGIN IMMEDIATE", "locking");
  const int version =
      std::stoi(query_text(db.get(), path, "PRAGMA user_version", "reading the schema version"));
  if (version == 0) {
    exec(db.get(), path, kSchema, "creating the schema");
  } else if (version != kSchemaVersion) {
    throw std::runtime_error("history database '" + path + "': schema version " +
                             std::to_string(version) + ", this relay knows " +
                             std::to_string(kSchemaVersion));
  }
  const bool closed_cleanly =
      query_text(db.get(), path, "SELECT value FROM meta WHERE key = 'clean_shutdown'",
                 "reading the shutdown state") == "1";
  exec(db.get(), path, "UPDATE meta SET value = 0 WHERE key = 'clean_shutdown'",
       "writing the shutdown state");
  exec(db.get(), path, "COMMIT", "opening");
  exec(db.get(), path, "PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL");
  return {std::move(db), closed_cleanly};
}

// Reads every saved room back into `memory`. Rows that can no longer be served (not part of a
// contiguous run ending at the room's saved last offset, or of no saved room) are deleted.
void load(sqlite3* db, const std::string& path, memory_history& memory, int64_t now_ms,
          bool renew_epochs) {
  struct saved_room {
    std::string epoch;
    uint64_t last_offset;
    int64_t last_time_ms;
    std::vector<history_entry_ptr> entries{};
    bool discarded = false;
  };
  std::unordered_map<std::string, saved_room> rooms;
  {
    const statement_ptr s =
        prepare(db, path, "SELECT room, epoch, last_offset, last_time_ms FROM rooms");
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      const auto* epoch = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
      rooms.emplace(
          column_bytes(s.get(), 0),
          saved_room{.epoch = epoch == nullptr ? "" : epoch,
                     .last_offset = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 2)),
                     .last_time_ms = sqlite3_column_int64(s.get(), 3)});
    }
    if (rc != SQLITE_DONE) fail(db, path, "reading rooms");
  }
  bool orphans = false;
  {
    const statement_ptr s = prepare(
        db, path,
        "SELECT room, msg_offset, time_ms, event, data FROM messages ORDER BY room, msg_offset");
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      const auto it = rooms.find(column_bytes(s.get(), 0));
      if (it == rooms.end()) {
        orphans = true;
        continue;
      }
      auto entry = std::make_shared<history_entry>();
      entry->offset = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 1));
      entry->time_ms = sqlite3_column_int64(s.get(), 2);
      entry->event = column_bytes(s.get(), 3);
      entry->data = column_bytes(s.get(), 4);
      if (entry->offset > it->second.last_offset) {
        it->second.discarded = true;
        continue;
      }
      it->second.entries.push_back(std::move(entry));
    }
    if (rc != SQLITE_DONE) fail(db, path, "reading messages");
  }

  exec(db, path, "BEGIN", "cleaning up");
  const statement_ptr discard = prepare(
      db, path, "DELETE FROM messages WHERE room = ?1 AND (msg_offset < ?2 OR msg_offset > ?3)");
  const statement_ptr set_epoch = prepare(db, path, "UPDATE rooms SET epoch = ?2 WHERE room = ?1");
  for (auto& [room, saved] : rooms) {
    if (renew_epochs) {
      saved.epoch = new_epoch();
      bind_bytes(set_epoch.get(), 1, room);
      bind_bytes(set_epoch.get(), 2, saved.epoch);
      if (!run(set_epoch.get())) fail(db, path, "renewing epochs");
    }
    // Keep the contiguous run that ends at last_offset: what since() can serve without a gap.
    std::vector<history_entry_ptr>& entries = saved.entries;
    uint64_t expected = saved.last_offset;
    size_t begin = entries.size();
    while (begin != 0 && entries[begin - 1]->offset == expected) {
      --begin;
      --expected;
    }
    if (begin != 0) {
      entries.erase(entries.begin(), entries.begin() + static_cast<ptrdiff_t>(begin));
      saved.discarded = true;
    }
    if (saved.discarded) {
      sqlite3_stmt* s = discard.get();
      bind_bytes(s, 1, room);
      sqlite3_bind_int64(s, 2, to_db(expected + 1));
      sqlite3_bind_int64(s, 3, to_db(saved.last_offset));
      if (!run(s)) fail(db, path, "deleting unusable rows");
    }
    memory.restore(room, std::move(saved.epoch), saved.last_offset, saved.last_time_ms,
                   std::move(entries), now_ms);
  }
  if (orphans) {
    exec(db, path, "DELETE FROM messages WHERE room NOT IN (SELECT room FROM rooms)",
         "deleting rows of unknown rooms");
  }
  exec(db, path, "COMMIT", "cleaning up");
  // What aged out while the server was down goes now (the writer deletes it from the file).
  memory.expire(now_ms);
}

}  // namespace

// Owns the connection once the store is open; only its thread uses it from then on.
class sqlite_history::writer {
 public:
  writer(std::string path, db_ptr db, memory_history& memory)
      : path_(std::move(path)),
        db_(std::move(db)),
        memory_(memory),
        begin_(prepare(db_.get(), path_, "BEGIN")),
        commit_(prepare(db_.get(), path_, "COMMIT")),
        insert_message_(prepare(db_.get(), path_,
                                "INSERT OR REPLACE INTO messages (room, msg_offset, time_ms, "
                                "event, data) VALUES (?1, ?2, ?3, ?4, ?5)")),
        create_room_(prepare(db_.get(), path_,
                             "INSERT OR REPLACE INTO rooms (room, epoch, last_offset, "
                             "last_time_ms) VALUES (?1, ?2, 0, ?3)")),
        // The epoch is written too: should a failed batch have lost a room's re-creation, the
        // row then still names the epoch its offsets belong to.
        update_top_(prepare(db_.get(), path_,
                            "INSERT INTO rooms (room, epoch, last_offset, last_time_ms) "
                            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (room) DO UPDATE SET "
                            "last_offset = CASE WHEN epoch = excluded.epoch "
                            "THEN max(last_offset, excluded.last_offset) "
                            "ELSE excluded.last_offset END, "
                            "last_time_ms = max(last_time_ms, excluded.last_time_ms), "
                            "epoch = excluded.epoch")),
        delete_room_(prepare(db_.get(), path_, "DELETE FROM rooms WHERE room = ?1")),
        delete_messages_(prepare(db_.get(), path_, "DELETE FROM messages WHERE room = ?1")),
        trim_messages_(
            prepare(db_.get(), path_, "DELETE FROM messages WHERE room = ?1 AND msg_offset < ?2")),
        thread_([this] { run_loop(); }) {}

  ~writer() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();  // after the last batch
    if (write_errors() == 0 && memory_.stats().unsaved_changes_dropped == 0) {
      sqlite3_exec(db_.get(), "UPDATE meta SET value = 1 WHERE key = 'clean_shutdown'", nullptr,
                   nullptr, nullptr);
    }
  }

  void flush() {
    std::unique_lock lock(mutex_);
    const uint64_t ticket = ++flush_asked_;
    wake_.notify_all();
    wake_.wait(lock, [&] { return flush_done_ >= ticket; });
  }

  uint64_t write_errors() const noexcept { return write_errors_.load(std::memory_order_relaxed); }

 private:
  struct room_top {
    std::string epoch;
    uint64_t offset;
    int64_t time_ms;
  };

  void run_loop() {
    std::vector<history_change> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, kBatchInterval, [&] { return stop_ || flush_asked_ != flush_done_; });
      const bool stopping = stop_;
      const uint64_t asked = flush_asked_;
      lock.unlock();
      // Collected after `asked` was read: every change made before that flush() is included.
      memory_.take_changes(batch);
      if (!batch.empty()) {
        if (!write(batch)) report_failure();
        batch.clear();  // releases the entries now, not at the next batch
      }
      lock.lock();
      flush_done_ = asked;
      wake_.notify_all();
      if (stopping) return;
    }
  }

  // One transaction. Deletes from trims and the rooms' last offsets are coalesced per room and
  // written at the end; a creation or drop in the same batch cancels what came before it.
  bool write(const std::vector<history_change>& batch) {
    tops_.clear();
    trims_.clear();
    if (!run(begin_.get())) return false;
    for (const history_change& c : batch) {
      switch (c.what) {
        case history_change::kind::room_created:
          tops_.erase(c.room);
          trims_.erase(c.room);
          if (!delete_all(c.room)) return false;
          bind_bytes(create_room_.get(), 1, c.room);
          bind_bytes(create_room_.get(), 2, c.epoch);
          sqlite3_bind_int64(create_room_.get(), 3, c.time_ms);
          if (!run(create_room_.get())) return false;
          break;
        case history_change::kind::appended: {
          const history_entry& e = *c.entry;
          sqlite3_stmt* s = insert_message_.get();
          bind_bytes(s, 1, c.room);
          sqlite3_bind_int64(s, 2, to_db(e.offset));
          sqlite3_bind_int64(s, 3, e.time_ms);
          bind_bytes(s, 4, e.event);
          bind_bytes(s, 5, e.data);
          if (!run(s)) return false;
          tops_.insert_or_assign(c.room, room_top{c.epoch, e.offset, e.time_ms});
          [[fallthrough]];  // with the trim it caused
        }
        case history_change::kind::trimmed: {
          uint64_t& first_kept = trims_[c.room];
          first_kept = std::max(first_kept, c.first_kept);
          break;
        }
        case history_change::kind::room_dropped:
          tops_.erase(c.room);
          trims_.erase(c.room);
          if (!delete_all(c.room)) return false;
          bind_bytes(delete_room_.get(), 1, c.room);
          if (!run(delete_room_.get())) return false;
          break;
      }
    }
    for (const auto& [room, top] : tops_) {
      sqlite3_stmt* s = update_top_.get();
      bind_bytes(s, 1, room);
      bind_bytes(s, 2, top.epoch);
      sqlite3_bind_int64(s, 3, to_db(top.offset));
      sqlite3_bind_int64(s, 4, top.time_ms);
      if (!run(s)) return false;
    }
    for (const auto& [room, first_kept] : trims_) {
      sqlite3_stmt* s = trim_messages_.get();
      bind_bytes(s, 1, room);
      sqlite3_bind_int64(s, 2, to_db(first_kept));
      if (!run(s)) return false;
    }
    return run(commit_.get());
  }

  bool delete_all(const std::string& room) {
    bind_bytes(delete_messages_.get(), 1, room);
    return run(delete_messages_.get());
  }

  // The batch is lost (its rows stay in memory). Said once: a full disk fails every batch.
  void report_failure() {
    if (write_errors_.fetch_add(1, std::memory_order_relaxed) == 0) {
      std::fprintf(stderr,
                   "relay: history database '%s': write failed: %s; history is kept in memory "
                   "only until writes succeed again (failures are counted, not repeated here)\n",
                   path_.c_str(), sqlite3_errmsg(db_.get()));
    }
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  const std::string path_;
  db_ptr db_;
  memory_history& memory_;
  statement_ptr begin_, commit_, insert_message_, create_room_, update_top_, delete_room_,
      delete_messages_, trim_messages_;
  std::unordered_map<std::string, room_top> tops_;  // per batch; kept for their capacity
  std::unordered_map<std::string, uint64_t> trims_;
  std::atomic<uint64_t> write_errors_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t flush_asked_ = 0;
  uint64_t flush_done_ = 0;
  std::thread thread_;  // last: starts once everything above is built
};

sqlite_history::sqlite_history(const std::string& path, history_options options, int64_t now_ms)
    : memory_(std::move(options), record_changes::yes) {
  opened_database opened = open_database(path);
  load(opened.db.get(), path, memory_, now_ms, !opened.closed_cleanly);
  writer_ = std::make_unique<writer>(path, std::move(opened.db), memory_);
}

sqlite_history::~sqlite_history() = default;  // the writer's destructor drains, then joins

stream_position sqlite_history::append(std::string_view room, std::string event, std::string data,
                                       int64_t now_ms) {
  return memory_.append(room, std::move(event), std::move(data), now_ms);
}

history_page sqlite_history::since(std::string_view room, uint64_t after_offset, size_t max_count,
                                   int64_t now_ms) const {
  return memory_.since(room, after_offset, max_count, now_ms);
}

history_page sqlite_history::latest(std::string_view room, size_t n, int64_t now_ms) const {
  return memory_.latest(room, n, now_ms);
}

stream_position sqlite_history::stream_top(std::string_view room, int64_t now_ms) {
  return memory_.stream_top(room, now_ms);
}

void sqlite_history::expire(int64_t now_ms) { memory_.expire(now_ms); }

history_stats sqlite_history::stats() const {
  history_stats s = memory_.stats();
  s.write_errors = writer_->write_errors();
  return s;
}

void sqlite_history::flush() { writer_->flush(); }

}  // namespace relay::store
