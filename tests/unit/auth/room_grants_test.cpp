#include "auth/room_grants.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relay::auth {
namespace {

TEST(RoomGrants, PatternsMatchWithStars) {
  EXPECT_TRUE(room_matches("news", "news"));
  EXPECT_FALSE(room_matches("news", "news2"));
  EXPECT_FALSE(room_matches("news", "new"));
  EXPECT_TRUE(room_matches("chat:*", "chat:general"));
  EXPECT_TRUE(room_matches("chat:*", "chat:"));
  EXPECT_TRUE(room_matches("chat:*", "chat:a:b"));
  EXPECT_FALSE(room_matches("chat:*", "chat"));
  EXPECT_FALSE(room_matches("chat:*", "xchat:a"));
  EXPECT_TRUE(room_matches("*", ""));
  EXPECT_TRUE(room_matches("*", "anything"));
  EXPECT_TRUE(room_matches("*:admin", "team:admin"));
  EXPECT_FALSE(room_matches("*:admin", "team:admins"));
  EXPECT_TRUE(room_matches("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(room_matches("a*b*c", "abc"));
  EXPECT_FALSE(room_matches("a*b*c", "aXXcYYb"));
  EXPECT_TRUE(room_matches("**", "x"));
  EXPECT_FALSE(room_matches("", "x"));
  EXPECT_TRUE(room_matches("", ""));
  // Backtracking that a greedy matcher would get wrong.
  EXPECT_TRUE(room_matches("*ab", "aab"));
  EXPECT_TRUE(room_matches("a*aab", "aaaab"));
  // A long hostile name stays cheap (quadratic at worst, both sides bounded by the caller).
  const std::string long_room(4000, 'a');
  EXPECT_FALSE(room_matches("*a*a*a*b", long_room));
}

TEST(RoomGrants, FromClaims) {
  auto claims =
      json::parse(R"({"sub":"u","relay":{"subscribe":["chat:*","news",3],"publish":"chat:*"}})");
  ASSERT_TRUE(claims);
  const room_grants g = room_grants::from_claims(*claims);
  EXPECT_TRUE(g.may_subscribe("chat:x"));
  EXPECT_TRUE(g.may_subscribe("news"));
  EXPECT_FALSE(g.may_subscribe("sport"));
  EXPECT_FALSE(g.may_publish("chat:x"));  // not an array: nothing
  const room_grants none = room_grants::from_claims(json::object{{"sub", "u"}});
  EXPECT_FALSE(none.may_subscribe("x"));
  EXPECT_TRUE(room_grants::all().may_publish("x"));
}

}  // namespace
}  // namespace relay::auth
