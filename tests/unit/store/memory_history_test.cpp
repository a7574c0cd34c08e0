#include "store/memory_history.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace relay::store {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

history_options options_with(history_limits limits, uint64_t empty_room_ttl_ms = 60'000) {
  return {.limits = [limits](std::string_view) { return limits; },
          .empty_room_ttl_ms = empty_room_ttl_ms};
}

TEST(memory_history, RequiresLimits) {
  EXPECT_THROW(memory_history(history_options{}), std::invalid_argument);
}

TEST(memory_history, AppendGivesOffsetsAndOneEpochPerRoom) {
  memory_history h(options_with({.max_messages = 100}));
  const stream_position a1 = h.append("a", "msg", "1", kT0);
  const stream_position a2 = h.append("a", "msg", "2", kT0);
  const stream_position b1 = h.append("b", "msg", "1", kT0);
  EXPECT_EQ(a1.offset, 1u);
  EXPECT_EQ(a2.offset, 2u);
  EXPECT_EQ(b1.offset, 1u);
  EXPECT_EQ(a1.epoch.size(), 8u);
  EXPECT_EQ(a1.epoch, a2.epoch);
  EXPECT_NE(a1.epoch, b1.epoch);  // 40 random bits each

  const history_page page = h.since("a", 0, 0, kT0);
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0]->event, "msg");
  EXPECT_EQ(page.entries[1]->data, "2");
  EXPECT_EQ(page.entries[1]->time_ms, kT0);
  EXPECT_EQ(page.last_offset, 2u);
  EXPECT_EQ(page.epoch, a1.epoch);
  EXPECT_FALSE(page.truncated);
}

TEST(memory_history, UnknownRoom) {
  memory_history h(options_with({.max_messages = 100}));
  history_page page = h.since("nowhere", 0, 0, kT0);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_EQ(page.last_offset, 0u);
  EXPECT_EQ(page.epoch, "");
  EXPECT_FALSE(page.truncated);
  EXPECT_TRUE(h.since("nowhere", 7, 0, kT0).truncated);
  EXPECT_TRUE(h.latest("nowhere", 10, kT0).entries.empty());
  EXPECT_EQ(h.stats().rooms, 0u);  // reads create nothing
}

TEST(memory_history, StreamTopFixesTheEpochBeforeTheFirstMessage) {
  memory_history h(options_with({.max_messages = 100}));
  const stream_position top = h.stream_top("r", kT0);
  EXPECT_EQ(top.offset, 0u);
  EXPECT_EQ(top.epoch.size(), 8u);
  const stream_position first = h.append("r", "m", "x", kT0);
  EXPECT_EQ(first.epoch, top.epoch);
  EXPECT_EQ(first.offset, 1u);
  const history_page page = h.since("r", top.offset, 0, kT0);
  EXPECT_EQ(page.entries.size(), 1u);
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(h.stream_top("r", kT0).offset, 1u);
}

TEST(memory_history, LatestAndLimitsPerRoom) {
  history_options options{.limits = [](std::string_view room) {
    return room.starts_with("small:") ? history_limits{.max_messages = 2}
                                      : history_limits{.max_messages = 100};
  }};
  memory_history h(std::move(options));
  for (int i = 0; i < 5; ++i) {
    h.append("small:x", "m", std::to_string(i), kT0);
    h.append("big", "m", std::to_string(i), kT0);
  }
  EXPECT_EQ(h.latest("small:x", 0, kT0).entries.size(), 2u);
  const history_page page = h.latest("big", 2, kT0);
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[0]->offset, 4u);
  EXPECT_EQ(page.entries[1]->offset, 5u);
  const history_stats stats = h.stats();
  EXPECT_EQ(stats.rooms, 2u);
  EXPECT_EQ(stats.entries, 7u);
  EXPECT_EQ(stats.bytes, 7u * 2u);
}

TEST(memory_history, ReadersKeepTheirEntriesWhileTheStoreTrims) {
  memory_history h(options_with({.max_messages = 1}));
  h.append("r", "m", "first", kT0);
  const history_page held = h.since("r", 0, 0, kT0);
  for (int i = 0; i < 10; ++i) h.append("r", "m", "later", kT0);
  ASSERT_EQ(held.entries.size(), 1u);
  EXPECT_EQ(held.entries[0]->data, "first");
  EXPECT_EQ(held.entries[0].use_count(), 1);  // the store let go, the page still holds it
}

TEST(memory_history, ExpireKeepsOffsetsOfEmptiedRoomsThenForgetsThem) {
  memory_history h(options_with({.max_age_ms = 1000}, /*empty_room_ttl_ms=*/5000));
  const std::string epoch = h.append("r", "m", "a", kT0).epoch;
  h.append("r", "m", "b", kT0);
  h.expire(kT0 + 1000);
  history_stats stats = h.stats();
  EXPECT_EQ(stats.rooms, 1u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  // A client that had seen 2 missed nothing; one that had seen 1 lost continuity.
  EXPECT_FALSE(h.since("r", 2, 0, kT0 + 2000).truncated);
  EXPECT_TRUE(h.since("r", 1, 0, kT0 + 2000).truncated);
  // The room lives on: offsets continue in the same epoch.
  const stream_position next = h.append("r", "m", "c", kT0 + 2000);
  EXPECT_EQ(next.offset, 3u);
  EXPECT_EQ(next.epoch, epoch);

  h.expire(kT0 + 2000 + 1000 + 4999);
  EXPECT_EQ(h.stats().rooms, 1u);
  h.expire(kT0 + 2000 + 1000 + 5000);
  EXPECT_EQ(h.stats().rooms, 0u);
  // Forgotten: a new history, told apart by its epoch.
  const stream_position reborn = h.append("r", "m", "d", kT0 + 10'000);
  EXPECT_EQ(reborn.offset, 1u);
  EXPECT_NE(reborn.epoch, epoch);
}

TEST(memory_history, RecordsChangesInOrder) {
  memory_history h(options_with({.max_messages = 1, .max_age_ms = 1000}, 0), record_changes::yes);
  h.append("r", "m", "a", kT0);
  h.append("r", "m", "b", kT0);
  h.stream_top("s", kT0);
  std::vector<history_change> changes;
  h.take_changes(changes);
  ASSERT_EQ(changes.size(), 4u);
  using kind = history_change::kind;
  // "r" and "s" may sit in different stripes: look at r's changes alone.
  std::vector<history_change> r;
  for (auto& c : changes) {
    if (c.room == "r") r.push_back(c);
  }
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].what, kind::room_created);
  EXPECT_EQ(r[1].what, kind::appended);
  EXPECT_EQ(r[1].entry->offset, 1u);
  EXPECT_EQ(r[1].epoch, r[0].epoch);
  EXPECT_EQ(r[1].first_kept, 1u);
  EXPECT_EQ(r[2].what, kind::appended);
  EXPECT_EQ(r[2].first_kept, 2u);  // the append trimmed offset 1

  changes.clear();
  h.take_changes(changes);
  EXPECT_TRUE(changes.empty());
  h.expire(kT0 + 1000);
  h.take_changes(changes);
  ASSERT_EQ(changes.size(), 2u);  // r forgotten at once (ttl 0); s too (never had entries)
  for (const auto& c : changes) EXPECT_EQ(c.what, kind::room_dropped);
}

TEST(memory_history, ChangeRecordingIsBoundedWhenNobodyCollects) {
  memory_history h(options_with({.max_messages = 10}), record_changes::yes);
  const size_t n = memory_history::kMaxChangesPerStripe + 100;
  for (size_t i = 0; i < n; ++i) h.append("r", "m", "x", kT0);
  EXPECT_GT(h.stats().unsaved_changes_dropped, 0u);
  std::vector<history_change> changes;
  h.take_changes(changes);
  EXPECT_EQ(changes.size(), memory_history::kMaxChangesPerStripe);
  // The store itself is unaffected.
  EXPECT_EQ(h.stream_top("r", kT0).offset, n);
}

TEST(memory_history, ConcurrentAppendsToOneRoomGetEachOffsetOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10'000;
  memory_history h(options_with({.max_messages = 100}));
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      got[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) got[t].push_back(h.append("one", "m", "x", kT0).offset);
    });
  }
  for (auto& t : threads) t.join();
  std::vector<bool> seen(kThreads * kPerThread + 1, false);
  for (const auto& offsets : got) {
    uint64_t previous = 0;
    for (const uint64_t o : offsets) {
      ASSERT_GE(o, 1u);
      ASSERT_LE(o, static_cast<uint64_t>(kThreads * kPerThread));
      ASSERT_FALSE(seen[o]) << "offset " << o << " given twice";
      seen[o] = true;
      ASSERT_GT(o, previous);  // each thread sees its own appends in order
      previous = o;
    }
  }
  const history_page page = h.since("one", 0, 0, kT0);
  EXPECT_EQ(page.last_offset, 40'000u);
  ASSERT_EQ(page.entries.size(), 100u);
  EXPECT_EQ(page.entries.front()->offset, 39'901u);
}

TEST(memory_history, ConcurrentRoomsReadersAndExpire) {
  constexpr int kThreads = 4;
  constexpr int kRooms = 50;
  constexpr int kRounds = 200;
  memory_history h(options_with({.max_messages = 20, .max_age_ms = 60'000, .max_bytes = 4096}));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      for (int r = 0; r < kRooms; ++r) {
        const std::string room = "room" + std::to_string(r);
        const history_page page = h.since(room, 0, 0, kT0);
        for (size_t i = 1; i < page.entries.size(); ++i) {
          ASSERT_EQ(page.entries[i]->offset, page.entries[i - 1]->offset + 1);
        }
        if (!page.entries.empty()) {
          ASSERT_EQ(page.entries.back()->offset, page.last_offset);
        }
      }
      h.expire(kT0);
      (void)h.stats();
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        for (int r = 0; r < kRooms; ++r) {
          h.append("room" + std::to_string(r), "m", std::to_string(t), kT0);
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  for (int r = 0; r < kRooms; ++r) {
    const history_page page = h.since("room" + std::to_string(r), 0, 0, kT0);
    EXPECT_EQ(page.last_offset, static_cast<uint64_t>(kThreads * kRounds));
    EXPECT_EQ(page.entries.size(), 20u);
  }
  const history_stats stats = h.stats();
  EXPECT_EQ(stats.rooms, static_cast<size_t>(kRooms));
  EXPECT_EQ(stats.entries, static_cast<size_t>(kRooms * 20));
  EXPECT_EQ(stats.bytes, static_cast<size_t>(kRooms * 20 * 2));
}

}  // namespace
}  // namespace relay::store
