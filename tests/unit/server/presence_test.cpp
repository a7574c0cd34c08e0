#include "server/presence.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace relay::server {
namespace {

TEST(Presence, AUserCountsOnceAndLeavesWithTheLastConnection) {
  presence_registry p;
  EXPECT_TRUE(p.join("r", "alice", json::value("A")));
  EXPECT_FALSE(p.join("r", "alice", json::value("ignored")));
  EXPECT_TRUE(p.join("r", "bob", json::value()));
  auto members = p.members("r");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].user, "alice");
  EXPECT_EQ(members[0].connections, 2u);
  EXPECT_EQ(members[0].info, json::value("A"));
  EXPECT_FALSE(p.leave("r", "alice"));
  EXPECT_TRUE(p.leave("r", "alice"));
  EXPECT_FALSE(p.leave("r", "alice"));  // not there any more
  EXPECT_FALSE(p.leave("other", "bob"));
  EXPECT_EQ(p.count().rooms, 1u);
  EXPECT_TRUE(p.leave("r", "bob"));
  EXPECT_EQ(p.count().rooms, 0u);
  EXPECT_TRUE(p.members("r").empty());
}

TEST(Presence, ConcurrentJoinsAndLeavesBalance) {
  presence_registry p;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p] {
      for (int i = 0; i < 10'000; ++i) {
        const std::string room = "room" + std::to_string(i % 7);
        p.join(room, "u", json::value());
        p.leave(room, "u");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.count().rooms, 0u);
  EXPECT_EQ(p.count().members, 0u);
}

}  // namespace
}  // namespace relay::server
