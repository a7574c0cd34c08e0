#include "http/query.hpp"

#include <gtest/gtest.h>

namespace relay::http {
namespace {

TEST(Query, FindsTheFirstParameterOfThatName) {
  EXPECT_EQ(query_param("a=1&token=x.y&token=z", "token"), "x.y");
  EXPECT_EQ(query_param("flag&b=2", "flag"), "");
  EXPECT_EQ(query_param("tokens=1", "token"), std::nullopt);
  EXPECT_EQ(query_param("", "a"), std::nullopt);
  EXPECT_EQ(query_param("a=", "a"), "");
}

TEST(Query, PercentDecodingRefusesBrokenEscapes) {
  std::string out;
  EXPECT_TRUE(percent_decode("chat%3A1%2fa+b", out));
  EXPECT_EQ(out, "chat:1/a+b");
  EXPECT_FALSE(percent_decode("a%zz", out));
  EXPECT_FALSE(percent_decode("a%4", out));
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_TRUE(percent_decode("", out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace relay::http
