#include "store/room_log.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace relay::store {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

room_log make_log(history_limits limits) { return room_log("ep", limits, 0, kT0, {}, kT0); }

size_t add(room_log& log, std::string data, int64_t now_ms = kT0) {
  auto e = std::make_shared<history_entry>();
  e->event = "m";
  e->data = std::move(data);
  return log.append(std::move(e), now_ms);
}

std::vector<uint64_t> offsets(const history_page& page) {
  std::vector<uint64_t> out;
  for (const auto& e : page.entries) out.push_back(e->offset);
  return out;
}

TEST(room_log, OffsetsStartAtOneAndStayContiguous) {
  room_log log = make_log({});
  for (int i = 0; i < 5; ++i) add(log, "x");
  EXPECT_EQ(log.last_offset(), 5u);
  EXPECT_EQ(log.first_offset(), 1u);
  EXPECT_EQ(offsets(log.since(0, 0, kT0)), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(offsets(log.since(3, 0, kT0)), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(offsets(log.since(0, 2, kT0)), (std::vector<uint64_t>{1, 2}));
}

TEST(room_log, SinceTheLastOffsetIsEmptyAndNotTruncated) {
  room_log log = make_log({.max_messages = 2});
  for (int i = 0; i < 5; ++i) add(log, "x");
  const history_page page = log.since(5, 0, kT0);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(page.last_offset, 5u);
  EXPECT_EQ(page.epoch, "ep");
  // Ahead of the history: a position it never issued.
  EXPECT_TRUE(log.since(6, 0, kT0).truncated);
}

TEST(room_log, TrimsByCountAndReportsTruncation) {
  room_log log = make_log({.max_messages = 3});
  for (int i = 0; i < 10; ++i) add(log, "x");
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.first_offset(), 8u);
  // 7 was the last one seen: 8.. are all there.
  history_page page = log.since(7, 0, kT0);
  EXPECT_EQ(offsets(page), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_FALSE(page.truncated);
  // 6 was the last one seen: 7 is gone.
  page = log.since(6, 0, kT0);
  EXPECT_EQ(offsets(page), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_TRUE(page.truncated);
  EXPECT_TRUE(log.since(0, 0, kT0).truncated);
}

TEST(room_log, TrimsByBytes) {
  room_log log = make_log({.max_bytes = 10});  // each entry: "m" + 4 bytes = 5
  add(log, "aaaa");
  add(log, "bbbb");
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log.bytes(), 10u);
  EXPECT_EQ(add(log, "cccc"), 1u);
  EXPECT_EQ(log.first_offset(), 2u);
  // Alone larger than the limit: kept nowhere, but its offset is spent.
  EXPECT_EQ(add(log, std::string(20, 'z')), 3u);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_EQ(log.bytes(), 0u);
  EXPECT_EQ(log.last_offset(), 4u);
  const history_page page = log.since(3, 0, kT0);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_TRUE(page.truncated);
}

TEST(room_log, AgedEntriesAreHiddenBeforeTheyAreDropped) {
  room_log log = make_log({.max_age_ms = 1000});
  add(log, "a", kT0);
  add(log, "b", kT0 + 500);
  add(log, "c", kT0 + 900);
  history_page page = log.since(0, 0, kT0 + 1000);  // 1 is exactly max_age old: gone
  EXPECT_EQ(offsets(page), (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(page.truncated);
  EXPECT_FALSE(log.since(1, 0, kT0 + 1000).truncated);
  EXPECT_EQ(log.size(), 3u);  // read-only: still held
  EXPECT_EQ(log.drop_aged(kT0 + 1500), 2u);
  EXPECT_EQ(offsets(log.latest(0, kT0 + 1500)), (std::vector<uint64_t>{3}));
  EXPECT_EQ(log.drop_aged(kT0 + 1900), 1u);
  EXPECT_EQ(log.size(), 0u);
  page = log.since(3, 0, kT0 + 1900);
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(page.last_offset, 3u);
}

TEST(room_log, TimesNeverGoBackwards) {
  room_log log = make_log({.max_age_ms = 1000});
  add(log, "a", kT0 + 100);
  add(log, "b", kT0 + 50);  // another thread's older clock reading
  const history_page page = log.latest(0, kT0 + 100);
  ASSERT_EQ(page.entries.size(), 2u);
  EXPECT_EQ(page.entries[1]->time_ms, kT0 + 100);
}

TEST(room_log, LatestGivesTheNewestInOrder) {
  room_log log = make_log({.max_messages = 100});
  for (int i = 0; i < 10; ++i) add(log, "x");
  const history_page page = log.latest(3, kT0);
  EXPECT_EQ(offsets(page), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_FALSE(page.truncated);
  EXPECT_EQ(log.latest(50, kT0).entries.size(), 10u);
}

TEST(room_log, ManyAppendsKeepTheWindow) {
  // Exercises the dead-prefix compaction.
  room_log log = make_log({.max_messages = 7});
  for (int i = 1; i <= 1000; ++i) {
    add(log, std::to_string(i));
    ASSERT_EQ(log.first_offset(), static_cast<uint64_t>(i > 7 ? i - 6 : 1));
  }
  const history_page page = log.since(0, 0, kT0);
  ASSERT_EQ(page.entries.size(), 7u);
  size_t bytes = 0;
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(page.entries[i]->offset, 994 + i);
    EXPECT_EQ(page.entries[i]->data, std::to_string(994 + i));
    bytes += 1 + page.entries[i]->data.size();
  }
  EXPECT_EQ(log.bytes(), bytes);
}

TEST(room_log, RestoredEntriesAreTrimmedToTheLimits) {
  std::vector<history_entry_ptr> saved;
  for (uint64_t o = 11; o <= 20; ++o) {
    saved.push_back(std::make_shared<const history_entry>(
        history_entry{.offset = o, .time_ms = kT0 + static_cast<int64_t>(o), .event = "m"}));
  }
  room_log log("ep", {.max_messages = 4}, 20, kT0, std::move(saved), kT0 + 100);
  EXPECT_EQ(log.first_offset(), 17u);
  EXPECT_EQ(log.last_offset(), 20u);
  add(log, "next", kT0 + 100);
  EXPECT_EQ(log.last_offset(), 21u);
}

TEST(room_log, ForgettableOnlyWhenEmptyPastAgeAndTtl) {
  room_log log = make_log({.max_age_ms = 1000});
  add(log, "a", kT0);
  EXPECT_FALSE(log.forgettable(kT0 + 5000, 2000));  // not dropped yet
  log.drop_aged(kT0 + 1000);
  EXPECT_FALSE(log.forgettable(kT0 + 2999, 2000));
  EXPECT_TRUE(log.forgettable(kT0 + 3000, 2000));
  room_log unlimited_ttl = make_log({.max_age_ms = 1000});
  EXPECT_FALSE(unlimited_ttl.forgettable(kT0 + 1'000'000, UINT64_MAX));
}

}  // namespace
}  // namespace relay::store
