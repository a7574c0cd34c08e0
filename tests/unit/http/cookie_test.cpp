#include "http/cookie.hpp"

#include <gtest/gtest.h>

namespace relay::http {
namespace {

TEST(Cookie, FindsTheNamedValue) {
  EXPECT_EQ(cookie_value("relay_token=abc", "relay_token"), "abc");
  EXPECT_EQ(cookie_value("a=1; relay_token=abc.def; b=2", "relay_token"), "abc.def");
  EXPECT_EQ(cookie_value("a=1;relay_token=x", "relay_token"), "x");
  EXPECT_EQ(cookie_value("relay_token=\"quoted\"", "relay_token"), "quoted");
  EXPECT_EQ(cookie_value("relay_token=first; relay_token=second", "relay_token"), "first");
  EXPECT_EQ(cookie_value("xrelay_token=no; relay_tokenx=no", "relay_token"), "");
  EXPECT_EQ(cookie_value("", "relay_token"), "");
  EXPECT_EQ(cookie_value("relay_token", "relay_token"), "");  // no '='
  EXPECT_EQ(cookie_value("relay_token=", "relay_token"), "");
  EXPECT_EQ(cookie_value(";;; relay_token=v ;", "relay_token"), "v");
  EXPECT_EQ(cookie_value("relay_token=\"", "relay_token"), "\"");  // one quote is the value
}

}  // namespace
}  // namespace relay::http
