#include "store/sqlite_history.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace relay::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'700'000'000'000;

// A fresh directory under /tmp, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "relay_store_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

history_options options_with(history_limits limits, uint64_t empty_room_ttl_ms = 60'000) {
  return {.limits = [limits](std::string_view) { return limits; },
          .empty_room_ttl_ms = empty_room_ttl_ms};
}

const history_limits kDefaults{.max_messages = 100, .max_age_ms = 300'000, .max_bytes = 1 << 20};

std::string open_error(const std::string& path) {
  try {
    sqlite_history h(path, options_with(kDefaults), kT0);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(sqlite_history, ReopenGivesTheSameEntriesOffsetsAndEpoch) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  std::string epoch;
  {
    sqlite_history h(db, options_with(kDefaults), kT0);
    epoch = h.append("chat", "msg", R"({"text":"hi"})", kT0).epoch;
    h.append("chat", "msg", std::string("bin\0ary", 7), kT0 + 1);
    h.append("chat", "", "", kT0 + 2);
    h.append("news", "n", "1", kT0 + 3);
  }  // the destructor writes everything
  sqlite_history h(db, options_with(kDefaults), kT0 + 10);
  const history_page page = h.since("chat", 0, 0, kT0 + 10);
  EXPECT_EQ(page.epoch, epoch);
  EXPECT_EQ(page.last_offset, 3u);
  EXPECT_FALSE(page.truncated);
  ASSERT_EQ(page.entries.size(), 3u);
  EXPECT_EQ(page.entries[0]->offset, 1u);
  EXPECT_EQ(page.entries[0]->event, "msg");
  EXPECT_EQ(page.entries[0]->data, R"({"text":"hi"})");
  EXPECT_EQ(page.entries[0]->time_ms, kT0);
  EXPECT_EQ(page.entries[1]->data, std::string("bin\0ary", 7));
  EXPECT_EQ(page.entries[2]->event, "");
  EXPECT_EQ(page.entries[2]->data, "");
  EXPECT_EQ(h.since("news", 0, 0, kT0 + 10).entries.size(), 1u);

  // Offsets go on where they stopped, in the same epoch.
  const stream_position next = h.append("chat", "msg", "again", kT0 + 20);
  EXPECT_EQ(next.offset, 4u);
  EXPECT_EQ(next.epoch, epoch);
}

TEST(sqlite_history, EmptyRoomsKeepTheirEpochAndOffsets) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  stream_position top;
  std::string trimmed_epoch;
  {
    sqlite_history h(db, options_with({.max_messages = 10, .max_bytes = 4}), kT0);
    top = h.stream_top("quiet", kT0);                // no message yet
    h.append("big", "m", "too large to keep", kT0);  // trimmed at once
    trimmed_epoch = h.append("big", "m", "also large", kT0).epoch;
  }
  sqlite_history h(db, options_with({.max_messages = 10, .max_bytes = 4}), kT0);
  EXPECT_EQ(h.stream_top("quiet", kT0).epoch, top.epoch);
  EXPECT_EQ(h.append("quiet", "m", "x", kT0).offset, 1u);
  const history_page big = h.since("big", 1, 0, kT0);
  EXPECT_EQ(big.last_offset, 2u);
  EXPECT_TRUE(big.truncated);
  EXPECT_EQ(big.epoch, trimmed_epoch);
  EXPECT_EQ(h.append("big", "m", "ok", kT0).offset, 3u);
}

TEST(sqlite_history, TrimmedRowsStayTrimmedAfterReopen) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  {
    sqlite_history h(db, options_with({.max_messages = 3}), kT0);
    for (int i = 1; i <= 10; ++i) h.append("r", "m", std::to_string(i), kT0);
  }
  // Reopened with room for more: the trimmed rows were deleted, not just hidden.
  sqlite_history h(db, options_with({.max_messages = 100}), kT0);
  const history_page page = h.since("r", 0, 0, kT0);
  ASSERT_EQ(page.entries.size(), 3u);
  EXPECT_EQ(page.entries[0]->offset, 8u);
  EXPECT_EQ(page.entries[0]->data, "8");
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(h.stats().entries, 3u);
}

TEST(sqlite_history, LimitsOfTodayApplyOnLoad) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  {
    sqlite_history h(db, options_with({.max_messages = 100, .max_age_ms = 10'000}), kT0);
    for (int i = 0; i < 10; ++i) h.append("count", "m", "x", kT0);
    h.append("old", "m", "a", kT0);
    h.append("old", "m", "b", kT0 + 5000);
  }
  {
    sqlite_history h(db, options_with({.max_messages = 4, .max_age_ms = 10'000}), kT0 + 12'000);
    EXPECT_EQ(h.since("count", 0, 0, kT0 + 12'000).entries.size(), 0u);  // all aged
    const history_page old = h.since("old", 0, 0, kT0 + 12'000);
    ASSERT_EQ(old.entries.size(), 1u);
    EXPECT_EQ(old.entries[0]->offset, 2u);
  }
  sqlite_history h(db, options_with({.max_messages = 4, .max_age_ms = 100'000}), kT0 + 12'000);
  // The first reopen deleted what its limits cut: a longer max_age does not bring it back.
  EXPECT_EQ(h.since("old", 0, 0, kT0 + 12'000).entries.size(), 1u);
  EXPECT_EQ(h.since("count", 0, 0, kT0 + 12'000).last_offset, 10u);
}

TEST(sqlite_history, ForgottenRoomsAreDeleted) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  std::string epoch;
  {
    sqlite_history h(db, options_with({.max_age_ms = 1000}, /*empty_room_ttl_ms=*/1000), kT0);
    epoch = h.append("gone", "m", "a", kT0).epoch;
    h.append("kept", "m", "a", kT0 + 1500);
    h.expire(kT0 + 2000);
    EXPECT_EQ(h.stats().rooms, 1u);
  }
  sqlite_history h(db, options_with({.max_age_ms = 1000}, 1000), kT0 + 2000);
  EXPECT_EQ(h.stats().rooms, 1u);
  const stream_position reborn = h.append("gone", "m", "b", kT0 + 2000);
  EXPECT_EQ(reborn.offset, 1u);
  EXPECT_NE(reborn.epoch, epoch);
}

TEST(sqlite_history, RoomsForgottenWhileDownAreDroppedOnLoad) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  {
    sqlite_history h(db, options_with({.max_age_ms = 1000}, 1000), kT0);
    h.append("r", "m", "a", kT0);
  }
  {
    sqlite_history h(db, options_with({.max_age_ms = 1000}, 1000), kT0 + 60'000);
    EXPECT_EQ(h.stats().rooms, 0u);
  }
  sqlite_history h(db, options_with({.max_age_ms = 1000}, 1000), kT0);  // clock back: still gone
  EXPECT_EQ(h.stats().rooms, 0u);
}

TEST(sqlite_history, FlushPutsEverythingOnDisk) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  sqlite_history h(db, options_with(kDefaults), kT0);
  h.append("r", "m", "x", kT0);
  h.flush();
  h.flush();  // nothing new: returns too
  EXPECT_TRUE(fs::exists(db));
  EXPECT_EQ(h.stats().write_errors, 0u);
}

TEST(sqlite_history, OpenErrorsNameTheFile) {
  temp_dir dir;
  // A directory that cannot exist: its parent is a file (root ignores permission bits).
  const std::string blocker = dir.file("plain_file");
  std::ofstream(blocker) << "x";
  const std::string under_file = blocker + "/history.db";
  std::string error = open_error(under_file);
  EXPECT_NE(error.find(under_file), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;

  const std::string garbage = dir.file("garbage.db");
  std::ofstream(garbage) << std::string(8192, 'g');
  error = open_error(garbage);
  EXPECT_NE(error.find(garbage), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

TEST(sqlite_history, OneProcessAtATime) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  {
    sqlite_history first(db, options_with(kDefaults), kT0);
    const std::string error = open_error(db);
    EXPECT_NE(error.find(db), std::string::npos) << error;
    EXPECT_NE(error.find("locked"), std::string::npos) << error;
  }
  EXPECT_EQ(open_error(db), "");  // released on close
}

TEST(sqlite_history, WriteErrorsAreCountedAndReportedOnce) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  auto h = std::make_unique<sqlite_history>(db, options_with(kDefaults), kT0);
  h->flush();
  // Files of this process may not grow past 64 KiB from now on: the next batches fail (EFBIG,
  // with SIGXFSZ ignored) as on a full disk.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto previous_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  testing::internal::CaptureStderr();
  for (int batch = 0; batch < 3; ++batch) {
    for (int i = 0; i < 40; ++i) h->append("r", "m", std::string(4096, 'x'), kT0);
    h->flush();
  }
  const std::string log = testing::internal::GetCapturedStderr();
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous_handler);

  EXPECT_GE(h->stats().write_errors, 2u);
  EXPECT_NE(log.find(db), std::string::npos) << log;
  EXPECT_EQ(log.find("write failed"), log.rfind("write failed")) << "said more than once: " << log;
  // Memory still serves everything.
  EXPECT_EQ(h->since("r", 0, 0, kT0).entries.size(), 100u);
  const stream_position last = h->append("r", "m", "small", kT0);
  EXPECT_EQ(last.offset, 121u);

  // Offsets up to 121 reached clients but not the file: the next run must not hand them out
  // again under the same epoch.
  h.reset();
  sqlite_history reopened(db, options_with(kDefaults), kT0);
  EXPECT_NE(reopened.stream_top("r", kT0).epoch, last.epoch);
}

TEST(sqlite_history, ACrashRenewsEveryEpoch) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  std::string epoch;
  {
    sqlite_history h(db, options_with(kDefaults), kT0);
    epoch = h.append("r", "m", "saved", kT0).epoch;
  }
  int to_parent[2];
  ASSERT_EQ(pipe(to_parent), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child saves one more entry, hands out another one, and dies without closing.
    close(to_parent[0]);
    auto* h = new sqlite_history(db, options_with(kDefaults), kT0);
    h->append("r", "m", "flushed", kT0);
    h->flush();
    h->append("r", "m", "maybe lost", kT0);
    const char done = 1;
    (void)!write(to_parent[1], &done, 1);
    _exit(0);
  }
  close(to_parent[1]);
  char done = 0;
  EXPECT_EQ(read(to_parent[0], &done, 1), 1);
  close(to_parent[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));

  sqlite_history h(db, options_with(kDefaults), kT0);
  const history_page page = h.since("r", 0, 0, kT0);
  EXPECT_NE(page.epoch, epoch);
  ASSERT_GE(page.entries.size(), 2u);  // what was saved stays, under the new epoch
  EXPECT_EQ(page.entries[0]->data, "saved");
  EXPECT_EQ(page.entries[1]->data, "flushed");
  EXPECT_EQ(h.append("r", "m", "next", kT0).offset, page.last_offset + 1);
}

TEST(sqlite_history, ACleanCloseKeepsTheEpoch) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  std::string epoch;
  {
    sqlite_history h(db, options_with(kDefaults), kT0);
    epoch = h.append("r", "m", "x", kT0).epoch;
  }
  for (int i = 0; i < 3; ++i) {
    sqlite_history h(db, options_with(kDefaults), kT0);
    EXPECT_EQ(h.stream_top("r", kT0).epoch, epoch);
  }
}

TEST(sqlite_history, ConcurrentAppendsWithTheWriterSurviveReopen) {
  temp_dir dir;
  const std::string db = dir.file("history.db");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  constexpr int kRooms = 8;
  {
    sqlite_history h(db, options_with({.max_messages = 50}), kT0);
    std::atomic<bool> done{false};
    std::thread reader([&] {
      while (!done.load()) {
        (void)h.since("room0", 0, 0, kT0);
        h.expire(kT0);
        h.flush();
      }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          h.append("room" + std::to_string(i % kRooms), "m", std::to_string(t), kT0);
        }
      });
    }
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    const history_stats stats = h.stats();
    EXPECT_EQ(stats.write_errors, 0u);
    EXPECT_EQ(stats.unsaved_changes_dropped, 0u);
  }
  sqlite_history h(db, options_with({.max_messages = 50}), kT0);
  for (int r = 0; r < kRooms; ++r) {
    const history_page page = h.since("room" + std::to_string(r), 0, 0, kT0);
    EXPECT_EQ(page.last_offset, static_cast<uint64_t>(kThreads * kPerThread / kRooms));
    ASSERT_EQ(page.entries.size(), 50u);
    for (size_t i = 0; i < page.entries.size(); ++i) {
      EXPECT_EQ(page.entries[i]->offset, page.last_offset - 49 + i);
    }
  }
}

}  // namespace
}  // namespace relay::store
