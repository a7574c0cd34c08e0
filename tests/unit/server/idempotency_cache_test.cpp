#include "server/idempotency_cache.hpp"

#include <gtest/gtest.h>

namespace relay::server {
namespace {

TEST(IdempotencyCache, TheOldestKeyGoesPastTheBound) {
  using claim = idempotency_cache::claim_state;
  idempotency_cache cache(1000, 2);
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_EQ(cache.claim(k, 0).state, claim::fresh);
    cache.complete(k, k);
  }
  EXPECT_EQ(cache.claim("a", 3).state, claim::fresh);  // "a" was dropped for "c"
  EXPECT_EQ(cache.claim("c", 3).answer, "c");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(IdempotencyCache, OneClaimPerKeyTheOthersWaitForItsAnswer) {
  using claim = idempotency_cache::claim_state;
  idempotency_cache cache(1000, 10);
  EXPECT_EQ(cache.claim("k", 0).state, claim::fresh);
  EXPECT_EQ(cache.claim("k", 1).state, claim::in_progress);  // a racing first attempt
  cache.complete("k", "answer");
  const idempotency_cache::claim_result again = cache.claim("k", 2);
  EXPECT_EQ(again.state, claim::answered);
  EXPECT_EQ(again.answer, "answer");
  EXPECT_EQ(cache.claim("k", 1000).state, claim::fresh);  // expired: a new claim
  cache.complete("gone", "nobody claimed it");            // ignored
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace relay::server
