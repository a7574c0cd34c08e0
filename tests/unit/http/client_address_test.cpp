#include "http/client_address.hpp"

#include <gtest/gtest.h>

namespace relay::http {
namespace {

proxy_trust trust(std::vector<std::string> entries) {
  auto t = proxy_trust::parse(entries);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error());
  return t ? *t : proxy_trust{};
}

TEST(ProxyTrust, AddressesAndRanges) {
  const proxy_trust t = trust({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"});
  EXPECT_TRUE(t.trusts("127.0.0.1"));
  EXPECT_FALSE(t.trusts("127.0.0.2"));
  EXPECT_TRUE(t.trusts("10.255.3.4"));
  EXPECT_FALSE(t.trusts("11.0.0.1"));
  EXPECT_TRUE(t.trusts("192.168.1.200"));
  EXPECT_FALSE(t.trusts("192.168.1.127"));
  EXPECT_TRUE(t.trusts("fd12:3456::1"));
  EXPECT_FALSE(t.trusts("fe80::1"));
  EXPECT_TRUE(t.trusts("::1"));
  EXPECT_TRUE(t.trusts("::ffff:10.1.2.3"));  // IPv4-mapped
  EXPECT_FALSE(t.trusts("not an address"));
  EXPECT_FALSE(t.trusts(""));
}

TEST(ProxyTrust, BadEntriesAreNamed) {
  for (const char* bad :
       {"10.0.0.0/33", "::/129", "example.com", "10.0.0.1/", "10.0.0.1/x", "", "10.0.0.0/1000"}) {
    auto t = proxy_trust::parse({"127.0.0.1", bad});
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error(), bad);
  }
  EXPECT_TRUE(proxy_trust::parse({"0.0.0.0/0", "::/0"}).has_value());
}

TEST(ClientAddress, OnlyATrustedPeerIsBelieved) {
  const proxy_trust t = trust({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(client_address("203.0.113.9", "198.51.100.1", t), "203.0.113.9");  // not a proxy
  EXPECT_EQ(client_address("127.0.0.1", "", t), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", "198.51.100.1", t), "198.51.100.1");
  EXPECT_EQ(client_address("127.0.0.1", "198.51.100.1", proxy_trust{}), "127.0.0.1");
}

TEST(ClientAddress, RightmostUntrustedEntryWins) {
  const proxy_trust t = trust({"127.0.0.1", "10.0.0.0/8"});
  // A client may write anything to the left; the proxies append on the right.
  EXPECT_EQ(client_address("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.1.1", t), "198.51.100.1");
  EXPECT_EQ(client_address("127.0.0.1", " 2001:db8::7 ,10.0.0.2", t), "2001:db8::7");
  // Every hop trusted: the leftmost one.
  EXPECT_EQ(client_address("127.0.0.1", "10.0.0.5,10.0.0.6", t), "10.0.0.5");
  // A malformed entry ends the walk at the last good one.
  EXPECT_EQ(client_address("127.0.0.1", "198.51.100.1, junk, 10.0.0.9", t), "10.0.0.9");
  EXPECT_EQ(client_address("127.0.0.1", "junk", t), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", ",,", t), "127.0.0.1");
}

}  // namespace
}  // namespace relay::http
