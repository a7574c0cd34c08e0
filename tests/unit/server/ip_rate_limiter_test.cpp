#include "server/ip_rate_limiter.hpp"

#include <gtest/gtest.h>

namespace relay::server {
namespace {

TEST(IpRateLimiter, EachAddressHasItsOwnBucket) {
  ip_rate_limiter limiter(2, 3);  // 2/s, burst 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take("10.0.0.1", 1000));
  EXPECT_FALSE(limiter.take("10.0.0.1", 1000));
  EXPECT_TRUE(limiter.take("10.0.0.2", 1000));
  EXPECT_FALSE(limiter.take("10.0.0.1", 1400));  // 0.8 of a token
  EXPECT_TRUE(limiter.take("10.0.0.1", 1500));   // 1 token after 500 ms at 2/s
}

TEST(IpRateLimiter, SweepForgetsAddressesThatRefilled) {
  ip_rate_limiter limiter(1, 2);
  limiter.take("a", 0);
  limiter.take("b", 0);
  limiter.take("b", 0);
  EXPECT_EQ(limiter.tracked(), 2u);
  limiter.sweep(1000);  // a is full again, b has 1 of 2
  EXPECT_EQ(limiter.tracked(), 1u);
  limiter.sweep(2000);
  EXPECT_EQ(limiter.tracked(), 0u);
}

}  // namespace
}  // namespace relay::server
