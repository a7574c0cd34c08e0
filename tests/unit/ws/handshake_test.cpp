#include "ws/handshake.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace relay::ws {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ=="sv;  // RFC 6455 §1.3
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="sv;

// The request of RFC 6455 §1.2, minus Origin.
std::vector<http::header_field> base_headers() {
  return {{"Host", "server.example.com"},
          {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", kKey},
          {"Sec-WebSocket-Version", "13"}};
}

http::request make_request(std::vector<http::header_field> headers) {
  http::request req;
  req.method = "GET";
  req.target = req.path = "/chat";
  req.version_minor = 1;
  req.headers = std::move(headers);
  return req;
}

std::vector<http::header_field> without(std::string_view name) {
  std::vector<http::header_field> h = base_headers();
  std::erase_if(h, [&](const http::header_field& f) { return f.name == name; });
  return h;
}

std::vector<http::header_field> with(std::string_view name, std::string_view value) {
  std::vector<http::header_field> h = without(name);
  h.push_back({name, value});
  return h;
}

std::vector<http::header_field> plus(std::initializer_list<http::header_field> extra) {
  std::vector<http::header_field> h = base_headers();
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

std::string expected_response(std::string_view extra = {}) {
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  r.append(extra);
  r.append("\r\n");
  return r;
}

TEST(Handshake, AcceptKeyRfc6455Vector) {
  // RFC 6455 §1.3.
  EXPECT_EQ(compute_accept_key(kKey), kAccept);
  // RFC 6455 §4.2.2 is SHA-1 over key + GUID; cross-checked with `openssl sha1 | base64`.
  EXPECT_EQ(compute_accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  EXPECT_EQ(compute_accept_key(""), "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w=");
}

TEST(Handshake, AcceptsTheRfcRequest) {
  handshake_error error{};
  const auto result = accept_handshake(make_request(base_headers()), {}, &error);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->response, expected_response());
  EXPECT_EQ(result->subprotocol, "");
  EXPECT_FALSE(result->deflate.has_value());
}

TEST(Handshake, TokenListsAreCaseInsensitive) {
  const std::vector<http::header_field> variants[] = {
      with("Upgrade", "WebSocket"),
      with("Upgrade", "h2c, websocket"),
      with("Connection", "keep-alive, Upgrade"),
      with("Connection", "UPGRADE"),
      // Header names are case-insensitive too.
      {{"host", "h"},
       {"UPGRADE", "websocket"},
       {"connection", "upgrade"},
       {"sec-websocket-key", kKey},
       {"SEC-WEBSOCKET-VERSION", "13"}},
  };
  for (const auto& headers : variants) {
    const auto result = accept_handshake(make_request(headers), {}, nullptr);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->response, expected_response());
  }
  // Connection may list upgrade on a second field line.
  auto h = base_headers();
  h.push_back({"Connection", "keep-alive"});
  std::erase_if(h, [](const http::header_field& f) { return f.value == "Upgrade"; });
  h.push_back({"Connection", "Upgrade"});
  EXPECT_TRUE(accept_handshake(make_request(h), {}, nullptr).has_value());
}

struct rejection {
  std::string_view what;
  http::request req;
  http::status status;
  std::string_view extra_header;  // must appear in the response
};

TEST(Handshake, RejectsInvalidRequests) {
  auto post = make_request(base_headers());
  post.method = "POST";
  auto lower_get = make_request(base_headers());
  lower_get.method = "get";
  auto http10 = make_request(base_headers());
  http10.version_minor = 0;

  const rejection cases[] = {
      {"POST", post, http::status::method_not_allowed, "Allow: GET\r\n"},
      {"lowercase method", lower_get, http::status::method_not_allowed, "Allow: GET\r\n"},
      {"HTTP/1.0", http10, http::status::bad_request, ""},
      {"no Host", make_request(without("Host")), http::status::bad_request, ""},
      {"two Hosts", make_request(plus({{"Host", "other"}})), http::status::bad_request, ""},
      {"no Upgrade", make_request(without("Upgrade")), http::status::bad_request, ""},
      {"Upgrade h2c", make_request(with("Upgrade", "h2c")), http::status::bad_request, ""},
      {"Upgrade websockets", make_request(with("Upgrade", "websockets")), http::status::bad_request,
       ""},
      {"no Connection", make_request(without("Connection")), http::status::bad_request, ""},
      {"Connection close", make_request(with("Connection", "close")), http::status::bad_request,
       ""},
      {"Connection upgraded", make_request(with("Connection", "upgraded")),
       http::status::bad_request, ""},
      {"no version", make_request(without("Sec-WebSocket-Version")), http::status::upgrade_required,
       "Sec-WebSocket-Version: 13\r\n"},
      {"version 8", make_request(with("Sec-WebSocket-Version", "8")),
       http::status::upgrade_required, "Sec-WebSocket-Version: 13\r\n"},
      {"version 013", make_request(with("Sec-WebSocket-Version", "013")),
       http::status::upgrade_required, "Sec-WebSocket-Version: 13\r\n"},
      {"version list", make_request(with("Sec-WebSocket-Version", "13, 8")),
       http::status::upgrade_required, "Sec-WebSocket-Version: 13\r\n"},
      {"version empty", make_request(with("Sec-WebSocket-Version", "")),
       http::status::upgrade_required, "Sec-WebSocket-Version: 13\r\n"},
      {"two versions", make_request(plus({{"Sec-WebSocket-Version", "13"}})),
       http::status::bad_request, ""},
      {"no key", make_request(without("Sec-WebSocket-Key")), http::status::bad_request, ""},
      {"two keys", make_request(plus({{"Sec-WebSocket-Key", kKey}})), http::status::bad_request,
       ""},
      {"empty key", make_request(with("Sec-WebSocket-Key", "")), http::status::bad_request, ""},
  };
  for (const rejection& c : cases) {
    handshake_error error{};
    EXPECT_FALSE(accept_handshake(c.req, {}, &error).has_value()) << c.what;
    EXPECT_EQ(error.status, c.status) << c.what;
    EXPECT_FALSE(error.reason.empty()) << c.what;
    const std::string status_line = "HTTP/1.1 " + std::to_string(static_cast<int>(c.status)) + " ";
    EXPECT_EQ(error.response.rfind(status_line, 0), 0u) << c.what << ": " << error.response;
    if (!c.extra_header.empty()) {
      EXPECT_NE(error.response.find(c.extra_header), std::string::npos) << c.what;
    }
    // Every error closes the connection.
    EXPECT_NE(error.response.find("Connection: close\r\n"), std::string::npos) << c.what;
    EXPECT_EQ(error.response.find("Sec-WebSocket-Accept"), std::string::npos) << c.what;
  }
  // The checks run in the documented order: the first failing one decides.
  auto many = make_request({{"Upgrade", "websocket"}});
  many.method = "PUT";
  handshake_error error{};
  EXPECT_FALSE(accept_handshake(many, {}, &error).has_value());
  EXPECT_EQ(error.status, http::status::method_not_allowed);
  // A null error pointer is allowed.
  EXPECT_FALSE(accept_handshake(many, {}, nullptr).has_value());
}

TEST(Handshake, UpgradeRequiredNamesTheProtocol) {
  // RFC 9110 §15.5.22: a 426 sends Upgrade; §7.8: Upgrade is listed in Connection.
  handshake_error error{};
  ASSERT_FALSE(
      accept_handshake(make_request(without("Sec-WebSocket-Version")), {}, &error).has_value());
  EXPECT_EQ(error.response.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << error.response;
  EXPECT_NE(error.response.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(error.response.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
  EXPECT_NE(error.response.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(Handshake, KeyMustBeCanonicalBase64OfSixteenOctets) {
  const std::string_view valid[] = {
      "dGhlIHNhbXBsZSBub25jZQ==",
      "AAAAAAAAAAAAAAAAAAAAAA==",
      "/////////////////////w==",
      "+/+/+/+/+/+/+/+/+/+/+w==",
  };
  for (const std::string_view key : valid) {
    EXPECT_TRUE(
        accept_handshake(make_request(with("Sec-WebSocket-Key", key)), {}, nullptr).has_value())
        << key;
  }
  const std::string_view invalid[] = {
      "dGhlIHNhbXBsZSBub25jZQ",        // padding missing
      "dGhlIHNhbXBsZSBub25jZQ=",       // padding short
      "dGhlIHNhbXBsZSBub25jZQ===",     // padding long
      "dGhlIHNhbXBsZSBub25jZR==",      // non-zero bits in the padding
      "dGhlIHNhbXBsZSBub25jZQ==AAAA",  // 19 octets
      "dGhlIHNhbXBsZSBub25j",          // 15 octets
      "dGhlIHNhbXBsZSBub25jZWE=",      // 17 octets
      "dGhlIHNhbXBsZSBub25jZQ=A",      // "=" inside
      "dGhlIHNhbXBs=SBub25jZQ==",      // "=" inside
      "dGhlIHNhbXBsZSBub25jZ-==",      // URL-safe alphabet
      "dGhlIHNhbXBsZSBub25jZ_==",      // URL-safe alphabet
      "dGhlIHNhbXBsZSBub 25jZQ==",     // space
      "========================",     "dGhlIHNhbXBsZSBub25jZQ==\r",
  };
  for (const std::string_view key : invalid) {
    handshake_error error{};
    EXPECT_FALSE(
        accept_handshake(make_request(with("Sec-WebSocket-Key", key)), {}, &error).has_value())
        << key;
    EXPECT_EQ(error.status, http::status::bad_request) << key;
  }
  // A NUL inside (a string_view from the literal alone would stop at it).
  handshake_error error{};
  EXPECT_FALSE(
      accept_handshake(make_request(with("Sec-WebSocket-Key",
                                         std::string_view("dGhlIHNhbXBsZSBub25jZQ\0=", 24))),
                       {}, &error)
          .has_value());
}

TEST(Handshake, SubprotocolSelection) {
  const std::vector<std::string> supported = {"chat.v2", "chat", "superchat"};
  handshake_options options;
  options.subprotocols = supported;

  struct subprotocol_case {
    std::vector<http::header_field> extra;
    std::string_view selected;
  };
  const subprotocol_case cases[] = {
      {{{"Sec-WebSocket-Protocol", "chat"}}, "chat"},
      // The server's preference decides, not the client's order.
      {{{"Sec-WebSocket-Protocol", "superchat, chat"}}, "chat"},
      {{{"Sec-WebSocket-Protocol", "superchat, chat, chat.v2"}}, "chat.v2"},
      // Repeated field lines form one list.
      {{{"Sec-WebSocket-Protocol", "foo"}, {"Sec-WebSocket-Protocol", "superchat"}}, "superchat"},
      {{{"Sec-WebSocket-Protocol", "  superchat ,\tchat "}}, "chat"},
      {{{"Sec-WebSocket-Protocol", ",,superchat,"}}, "superchat"},
      // No match: the handshake still succeeds, without the header.
      {{{"Sec-WebSocket-Protocol", "foo, bar"}}, ""},
      // Names are case-sensitive and compared whole.
      {{{"Sec-WebSocket-Protocol", "Chat, CHAT.V2"}}, ""},
      {{{"Sec-WebSocket-Protocol", "cha, chat.v, chat.v22"}}, ""},
      {{{"Sec-WebSocket-Protocol", ""}}, ""},
      {{}, ""},
  };
  for (const subprotocol_case& c : cases) {
    auto headers = base_headers();
    headers.insert(headers.end(), c.extra.begin(), c.extra.end());
    const auto result = accept_handshake(make_request(headers), options, nullptr);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->subprotocol, c.selected);
    if (c.selected.empty()) {
      EXPECT_EQ(result->response, expected_response());
    } else {
      EXPECT_EQ(result->response,
                expected_response("Sec-WebSocket-Protocol: " + std::string(c.selected) + "\r\n"));
    }
  }
  // A server without subprotocols never answers one.
  const auto result = accept_handshake(make_request(plus({{"Sec-WebSocket-Protocol", "chat"}})),
                                       handshake_options{}, nullptr);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->subprotocol, "");
  // An empty entry in the server's list matches nothing, not an empty client element.
  const std::vector<std::string> with_empty = {"", "chat"};
  options.subprotocols = with_empty;
  const auto r2 = accept_handshake(make_request(plus({{"Sec-WebSocket-Protocol", ", chat"}})),
                                   options, nullptr);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->subprotocol, "chat");
}

TEST(Handshake, NegotiatesDeflate) {
  handshake_options options;
  const auto result = accept_handshake(
      make_request(
          plus({{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}})),
      options, nullptr);
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->deflate.has_value());
  EXPECT_EQ(result->deflate->client_max_window_bits, 15);
  EXPECT_EQ(result->response,
            expected_response(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n"));

  // Several field lines are one list: the offer on the second line is found.
  const auto two_lines = accept_handshake(
      make_request(
          plus({{"Sec-WebSocket-Extensions", "x-webkit-deflate-frame"},
                {"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"}})),
      options, nullptr);
  ASSERT_TRUE(two_lines.has_value());
  ASSERT_TRUE(two_lines->deflate.has_value());
  EXPECT_EQ(two_lines->deflate->server_max_window_bits, 10);
  EXPECT_EQ(two_lines->response,
            expected_response(
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"));

  // Disabled, declined or malformed: no header, the connection proceeds uncompressed.
  const std::string_view no_deflate[] = {"x-webkit-deflate-frame", "permessage-deflate; foo",
                                         "permessage-deflate;;", ""};
  for (const std::string_view offer : no_deflate) {
    const auto r = accept_handshake(make_request(plus({{"Sec-WebSocket-Extensions", offer}})),
                                    options, nullptr);
    ASSERT_TRUE(r.has_value()) << offer;
    EXPECT_FALSE(r->deflate.has_value()) << offer;
    EXPECT_EQ(r->response, expected_response()) << offer;
  }
  handshake_options disabled;
  disabled.deflate.enabled = false;
  const auto r = accept_handshake(
      make_request(plus({{"Sec-WebSocket-Extensions", "permessage-deflate"}})), disabled, nullptr);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->deflate.has_value());
  EXPECT_EQ(r->response, expected_response());
}

TEST(Handshake, ProtocolComesBeforeExtensions) {
  const std::vector<std::string> supported = {"chat"};
  handshake_options options;
  options.subprotocols = supported;
  options.deflate.server_no_context_takeover = true;
  const auto result =
      accept_handshake(make_request(plus({{"Sec-WebSocket-Protocol", "chat"},
                                          {"Sec-WebSocket-Extensions", "permessage-deflate"}})),
                       options, nullptr);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->response, expected_response("Sec-WebSocket-Protocol: chat\r\n"
                                                "Sec-WebSocket-Extensions: permessage-deflate; "
                                                "server_no_context_takeover\r\n"));
  ASSERT_TRUE(result->deflate.has_value());
  EXPECT_TRUE(result->deflate->server_no_context_takeover);
}

TEST(Handshake, IsWebsocketUpgrade) {
  EXPECT_TRUE(is_websocket_upgrade(make_request(base_headers())));
  EXPECT_TRUE(is_websocket_upgrade(make_request({{"Upgrade", "foo, WebSocket"}})));
  EXPECT_FALSE(is_websocket_upgrade(make_request(without("Upgrade"))));
  EXPECT_FALSE(is_websocket_upgrade(make_request(with("Upgrade", "h2c"))));
}

}  // namespace
}  // namespace relay::ws
