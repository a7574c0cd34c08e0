#include "server/idempotency_cache.hpp"

#include <gtest/gtest.h>

namespace relay::server {
namespace {

TEST(IdempotencyCache, RemembersAnAnswerUntilItsTtl) {
  idempotency_cache cache(1000, 10);
  EXPECT_FALSE(cache.find("k", 0));
  EXPECT_TRUE(cache.remember("k", "first", 0));
  EXPECT_FALSE(cache.remember("k", "second", 500));  // the live answer stays
  EXPECT_EQ(cache.find("k", 999), "first");
  EXPECT_FALSE(cache.find("k", 1000));
  EXPECT_TRUE(cache.remember("k", "again", 1000));
  EXPECT_EQ(cache.find("k", 1500), "again");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(IdempotencyCache, TheOldestKeyGoesPastTheBound) {
  idempotency_cache cache(1000, 2);
  cache.remember("a", "1", 0);
  cache.remember("b", "2", 1);
  cache.remember("c", "3", 2);
  EXPECT_FALSE(cache.find("a", 3));
  EXPECT_EQ(cache.find("b", 3), "2");
  EXPECT_EQ(cache.find("c", 3), "3");
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace relay::server
