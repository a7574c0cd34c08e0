#include "http/request.hpp"

#include <gtest/gtest.h>

namespace relay::http {
namespace {

request with_headers(std::initializer_list<header_field> fields) {
  request req;
  req.headers.assign(fields);
  return req;
}

TEST(Request, Iequals) {
  EXPECT_TRUE(iequals("Upgrade", "upgrade"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("A-B_9", "a-b_9"));
  EXPECT_FALSE(iequals("upgrade", "upgrad"));
  EXPECT_FALSE(iequals("upgrade", "upgradf"));
  // ASCII folding only: '@' (0x40) and '`' (0x60) are not a case pair, nor are '[' and '{'.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));
}

TEST(Request, HeaderReturnsFirstMatch) {
  const request req = with_headers({{"X-A", "1"}, {"x-a", "2"}, {"Empty", ""}});
  EXPECT_EQ(req.header("X-A"), "1");
  EXPECT_EQ(req.header("x-A"), "1");
  EXPECT_TRUE(req.has_header("empty"));
  EXPECT_EQ(req.header("empty"), "");
  EXPECT_FALSE(req.has_header("X-AB"));
  EXPECT_FALSE(req.has_header("X-"));
}

TEST(Request, HeaderHasToken) {
  const request req = with_headers({{"Connection", "keep-alive, Upgrade"},
                                    {"Upgrade", "websocket"},
                                    {"connection", " ,\tHTTP2-Settings ,, "},
                                    {"X-List", "a b, c"}});
  EXPECT_TRUE(req.header_has_token("connection", "upgrade"));
  EXPECT_TRUE(req.header_has_token("CONNECTION", "Keep-Alive"));
  EXPECT_TRUE(req.header_has_token("Connection", "http2-settings")) << "second occurrence";
  EXPECT_TRUE(req.header_has_token("Upgrade", "WebSocket"));
  EXPECT_TRUE(req.header_has_token("X-List", "a b"));
  EXPECT_TRUE(req.header_has_token("X-List", "c"));
  EXPECT_FALSE(req.header_has_token("X-List", "a"));
  EXPECT_FALSE(req.header_has_token("Upgrade", "websockets"));
  EXPECT_FALSE(req.header_has_token("Upgrade", "socket"));
  EXPECT_FALSE(req.header_has_token("Connection", "close"));
  EXPECT_FALSE(req.header_has_token("Connection", "keep"));
  EXPECT_FALSE(req.header_has_token("Missing", "websocket"));
  EXPECT_FALSE(req.header_has_token("Connection", "")) << "empty elements never match";
  EXPECT_FALSE(req.header_has_token("Connection", " "));
}

TEST(Request, ClearKeepsCapacity) {
  request req = with_headers({{"a", "1"}, {"b", "2"}});
  req.method = "GET";
  req.keep_alive = false;
  req.chunked = true;
  req.version_minor = 0;
  const size_t capacity = req.headers.capacity();
  req.clear();
  EXPECT_TRUE(req.headers.empty());
  EXPECT_EQ(req.headers.capacity(), capacity);
  EXPECT_EQ(req.method, "");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_FALSE(req.chunked);
  EXPECT_EQ(req.version_minor, 1);
}

}  // namespace
}  // namespace relay::http
