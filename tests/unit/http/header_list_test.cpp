#include "relay/header_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relay {
namespace {

TEST(HeaderList, KeepsOrderLowerCasesNamesAndFindsAnyCase) {
  header_list h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.begin(), h.end());
  h.add("Host", "example.com");
  h.add("X-Empty", "");
  h.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  h.add("host", "second");
  EXPECT_EQ(h.size(), 4u);
  std::vector<std::pair<std::string, std::string>> all;
  for (auto [name, value] : h) all.emplace_back(name, value);
  const std::vector<std::pair<std::string, std::string>> want{
      {"host", "example.com"},
      {"x-empty", ""},
      {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"host", "second"}};
  EXPECT_EQ(all, want);
  EXPECT_EQ(h.get("HOST"), "example.com");  // the first one
  EXPECT_EQ(h.get("sec-websocket-KEY"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(h.get("x-empty"), "");
  EXPECT_EQ(h.get("missing"), "");
  EXPECT_EQ(h.get("hos"), "");
}

TEST(HeaderList, LongFieldsAndCopies) {
  header_list h;
  const std::string big(70000, 'v');
  const std::string mid(300, 'm');  // past one length byte
  h.add("Big", big);
  h.add(std::string(300, 'N'), mid);
  EXPECT_EQ(h.get("big").size(), 0xffffu);  // cut at 65,535
  EXPECT_EQ(h.get(std::string(300, 'n')), mid);
  header_list copy = h;
  h = header_list();
  EXPECT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy.get(std::string(300, 'N')), mid);
}

TEST(HeaderList, TargetRidesAheadOfTheFields) {
  header_list h;
  EXPECT_EQ(h.target(), "");
  h.add("Host", "a");
  h.set_target("/socket.io/?EIO=4&transport=websocket");  // after a field: still in front
  h.add("X-Two", "b");
  EXPECT_EQ(h.target(), "/socket.io/?EIO=4&transport=websocket");
  std::vector<header_list::value_type> all(h.begin(), h.end());
  const std::vector<header_list::value_type> want{{"host", "a"}, {"x-two", "b"}};
  EXPECT_EQ(all, want);
  h.set_target("/x");  // replaced, fields intact
  EXPECT_EQ(h.target(), "/x");
  EXPECT_EQ(h.get("x-two"), "b");
  EXPECT_EQ(h.size(), 2u);
  header_list copy = h;
  EXPECT_EQ(copy.target(), "/x");
  EXPECT_EQ(copy.get("host"), "a");
}

}  // namespace
}  // namespace relay
