#include "bench/client_handshake.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ws/handshake.hpp"

namespace relay::bench {
namespace {

constexpr char kRfcKey[] = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 §1.3
constexpr char kRfcAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string accept_for(const char* key) {
  char a[kAcceptSize];
  expected_accept(key, a);
  return std::string(a, kAcceptSize);
}

std::string response(std::string_view extra_headers, std::string_view accept = kRfcAccept) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(accept) + "\r\n" + std::string(extra_headers) + "\r\n";
}

upgrade_result parse(const std::string& r) { return parse_upgrade_response(r, kRfcAccept); }

TEST(ClientHandshake, AcceptKeyOfTheRfcExample) { EXPECT_EQ(accept_for(kRfcKey), kRfcAccept); }

TEST(ClientHandshake, AcceptKeyAgreesWithTheServer) {
  std::mt19937 rng(11);
  for (int i = 0; i < 100; ++i) {
    uint8_t random[16];
    for (uint8_t& b : random) b = static_cast<uint8_t>(rng());
    char key[kKeySize];
    make_client_key(random, key);
    EXPECT_EQ(accept_for(key), ws::compute_accept_key(std::string_view(key, kKeySize)));
  }
}

TEST(ClientHandshake, RequestHasEverythingRfc6455Requires) {
  char out[512];
  const size_t n = write_upgrade_request(out, sizeof out, "127.0.0.1:8080", "/echo?x=1", kRfcKey);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(std::string(out, n),
            "GET /echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(write_upgrade_request(out, 20, "127.0.0.1:8080", "/echo", kRfcKey), 0u);
}

TEST(ClientHandshake, AcceptsAValidResponseAndKeepsTheBytesBehindIt) {
  const std::string head = response("Date: today\r\n");
  const upgrade_result r = parse(head + "\x81\x02hi");
  EXPECT_EQ(r.status, upgrade_status::ok);
  EXPECT_EQ(r.http_status, 101);
  EXPECT_EQ(r.head_size, head.size());
}

TEST(ClientHandshake, HeaderNamesAndTokensAreCaseInsensitive) {
  const std::string r =
      "HTTP/1.1 101 OK\r\nupgrade:  WebSocket \r\nCONNECTION: keep-alive, upgrade\r\n"
      "sec-websocket-accept: " +
      std::string(kRfcAccept) + "\r\n\r\n";
  EXPECT_EQ(parse(r).status, upgrade_status::ok);
}

TEST(ClientHandshake, IncompleteUntilTheEmptyLine) {
  const std::string full = response("");
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_EQ(parse(full.substr(0, n)).status, upgrade_status::incomplete) << n;
}

TEST(ClientHandshake, RejectsBadResponses) {
  const upgrade_result refused = parse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(refused.status, upgrade_status::not_101);
  EXPECT_EQ(refused.http_status, 404);

  EXPECT_EQ(parse(response("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).status, upgrade_status::bad_accept);
  EXPECT_EQ(parse("HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                  std::string(kRfcAccept) + "\r\n\r\n")
                .status,
            upgrade_status::bad_upgrade);
  EXPECT_EQ(parse("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " +
                  std::string(kRfcAccept) + "\r\n\r\n")
                .status,
            upgrade_status::bad_upgrade);
  EXPECT_EQ(parse(response("Sec-WebSocket-Extensions: permessage-deflate\r\n")).status,
            upgrade_status::unexpected_extension);
  EXPECT_EQ(parse(response("Sec-WebSocket-Protocol: chat\r\n")).status,
            upgrade_status::unexpected_extension);
  EXPECT_EQ(parse("HTTP/1.1 1x1 X\r\n\r\n").status, upgrade_status::malformed);
  EXPECT_EQ(parse("SIP/2.0 101 X\r\n\r\n").status, upgrade_status::malformed);
  EXPECT_EQ(parse(response("no colon here\r\n")).status, upgrade_status::malformed);
  EXPECT_EQ(parse(std::string(kMaxResponseHead + 1, 'a')).status, upgrade_status::malformed);
}

}  // namespace
}  // namespace relay::bench
