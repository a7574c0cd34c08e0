// Request line, header fields, head limits and connection persistence (RFC 9112 §2-5, §9).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "http/request_parser.hpp"
#include "parse_harness.hpp"

namespace relay::http {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
using test::error_of;
using test::make_request;
using test::parse_all_ways;
using test::snapshot;

constexpr std::string_view kUpgradeRequest =
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    "Host: chat.example.com:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Origin: https://chat.example.com\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "\r\n";

TEST(RequestParserHead, ParsesUpgradeRequest) {
  const snapshot s = parse_all_ways(kUpgradeRequest);
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.consumed, kUpgradeRequest.size());
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.target, "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(s.path, "/socket.io/");
  EXPECT_EQ(s.query, "EIO=4&transport=websocket");
  EXPECT_EQ(s.version_minor, 1);
  EXPECT_TRUE(s.keep_alive);
  EXPECT_FALSE(s.chunked);
  EXPECT_EQ(s.body, "");
  ASSERT_EQ(s.headers.size(), 11u);
  EXPECT_EQ(s.headers[0], std::pair("Host"s, "chat.example.com:8080"s));
  EXPECT_EQ(s.headers[9], std::pair("Connection"s, "keep-alive, Upgrade"s));
  EXPECT_EQ(s.headers[10], std::pair("Upgrade"s, "websocket"s));
}

TEST(RequestParserHead, ViewsPointIntoTheBuffer) {
  std::string buf(kUpgradeRequest);
  request_parser parser;
  request req;
  const parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  const char* begin = buf.data();
  const char* end = buf.data() + buf.size();
  for (std::string_view v : {req.method, req.target, req.path, req.query}) {
    EXPECT_GE(v.data(), begin);
    EXPECT_LE(v.data() + v.size(), end);
  }
  EXPECT_EQ(req.method.data(), begin);
  EXPECT_EQ(req.header("sec-websocket-key").data(), buf.data() + buf.find("dGhl"));
  EXPECT_TRUE(req.header_has_token("connection", "upgrade"));
}

TEST(RequestParserHead, IncompleteUntilBlankLine) {
  std::string buf = "GET / HTTP/1.1\r\nHost: a\r\n";
  request_parser parser;
  request req;
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  buf += "\r";
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  buf += "\n";
  const parse_result r = parser.parse({buf.data(), buf.size()}, req);
  EXPECT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, buf.size());
  EXPECT_EQ(parser.parse({}, req).state, parse_status::complete) << "sticky until reset";
  parser.reset();
  EXPECT_EQ(parser.parse({}, req).state, parse_status::incomplete);
}

TEST(RequestParserHead, QuerySplitsAtFirstQuestionMark) {
  snapshot s = parse_all_ways(make_request("GET /a/b?x=1?y=2&z HTTP/1.1"));
  EXPECT_EQ(s.path, "/a/b");
  EXPECT_EQ(s.query, "x=1?y=2&z");
  s = parse_all_ways(make_request("GET /a? HTTP/1.1"));
  EXPECT_EQ(s.path, "/a");
  EXPECT_EQ(s.query, "");
  EXPECT_EQ(s.target, "/a?");
  s = parse_all_ways(make_request("GET / HTTP/1.1"));
  EXPECT_EQ(s.path, "/");
  EXPECT_EQ(s.query, "");
}

TEST(RequestParserHead, AcceptsAnyTokenMethod) {
  // Methods are case-sensitive tokens (RFC 9110 §9.1); the router decides 405/501.
  for (std::string_view m : {"POST", "get", "M-SEARCH", "PATCH", "X!#$%&'*+-.^_`|~9"}) {
    const snapshot s = parse_all_ways(make_request(std::string(m) + " / HTTP/1.1"));
    ASSERT_EQ(s.state, parse_status::complete) << m;
    EXPECT_EQ(s.method, m);
  }
}

TEST(RequestParserHead, RejectsBadMethods) {
  EXPECT_EQ(error_of(make_request("G(T / HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET\t/ HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request(" GET / HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET")), status::bad_request);
  EXPECT_EQ(error_of(make_request("G\x80T / HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, RejectsBadTargets) {
  // RFC 9112 §3.2: no whitespace or control characters in the request-target.
  for (std::string_view t : {"/a\x01z"sv, "/a\tz"sv, "/a\x7fz"sv, "/a\rz"sv, "/a\0z"sv}) {
    EXPECT_EQ(error_of(make_request("GET " + std::string(t) + " HTTP/1.1")), status::bad_request)
        << t;
  }
  EXPECT_EQ(error_of(make_request("GET  / HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET /  HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / a HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET  HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET relative HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, PassesObsTextInTarget) {
  const snapshot s = parse_all_ways(make_request("GET /caf\xc3\xa9?q=\xff HTTP/1.1"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.path, "/caf\xc3\xa9");
  EXPECT_EQ(s.query, "q=\xff");
}

TEST(RequestParserHead, AbsoluteForm) {
  // RFC 9112 §3.2.2: a server MUST accept absolute-form; `path` is its path component.
  snapshot s = parse_all_ways(make_request("GET http://example.com/chat/room?x=1 HTTP/1.1"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.target, "http://example.com/chat/room?x=1");
  EXPECT_EQ(s.path, "/chat/room");
  EXPECT_EQ(s.query, "x=1");

  s = parse_all_ways(make_request("GET HTTPS://[::1]:8443 HTTP/1.1"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.path, "/");
  EXPECT_EQ(s.query, "");

  s = parse_all_ways(make_request("GET http://h?q=1 HTTP/1.1"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.path, "/");
  EXPECT_EQ(s.query, "q=1");

  EXPECT_EQ(error_of(make_request("GET ftp://example.com/ HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET http:///path HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET http://user@host/ HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET http:/host/ HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, AsteriskFormOnlyForOptions) {
  const snapshot s = parse_all_ways(make_request("OPTIONS * HTTP/1.1"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.target, "*");
  EXPECT_EQ(s.path, "*");
  EXPECT_EQ(error_of(make_request("GET * HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of(make_request("OPTIONS *x HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, RejectsAuthorityForm) {
  EXPECT_EQ(error_of(make_request("CONNECT example.com:443 HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, Versions) {
  EXPECT_EQ(parse_all_ways(make_request("GET / HTTP/1.0")).version_minor, 0);
  EXPECT_EQ(parse_all_ways(make_request("GET / HTTP/1.1")).version_minor, 1);
  // Well-formed but unsupported: 505 (RFC 9110 §15.6.6).
  for (std::string_view v : {"HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/1.2", "HTTP/9.9"}) {
    EXPECT_EQ(error_of(make_request("GET / " + std::string(v))), status::http_version_not_supported)
        << v;
  }
  // Not an HTTP-version at all: 400.
  for (std::string_view v : {"http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1.", "HTTP/1.1 ",
                             "HTTP /1.1", "HTTP/a.1", "HTTPS/1.1", "HTTP/1,1", "HTTP/1.1\t"}) {
    EXPECT_EQ(error_of(make_request("GET / " + std::string(v))), status::bad_request) << v;
  }
}

TEST(RequestParserHead, VersionErrorDoesNotWaitForTheHead) {
  const parser_limits limits;
  EXPECT_EQ(test::parse_once("GET / HTTP/2.0\r\nHost: a\r\n", limits).error,
            status::http_version_not_supported);
  EXPECT_EQ(test::parse_once("GET /\x01 HTTP/1.1\r\n", limits).error, status::bad_request);
}

TEST(RequestParserHead, BinaryFailsOnFirstByte) {
  // A TLS ClientHello on the plain port starts with 0x16.
  EXPECT_EQ(test::parse_once("\x16"sv).error, status::bad_request);
  EXPECT_EQ(test::parse_once("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv).error,
            status::bad_request);
  EXPECT_EQ(test::parse_once("\r\n\x16"sv).error, status::bad_request);
  EXPECT_EQ(test::parse_once("G"sv).state, parse_status::incomplete);
  EXPECT_EQ(test::parse_once("\r"sv).state, parse_status::incomplete);
}

TEST(RequestParserHead, SkipsLeadingEmptyLines) {
  // RFC 9112 §2.2: ignore at least one empty line before the request line.
  for (int n = 1; n <= 4; ++n) {
    std::string input;
    for (int i = 0; i < n; ++i) input += "\r\n";
    input += make_request("GET /x HTTP/1.1");
    const snapshot s = parse_all_ways(input);
    ASSERT_EQ(s.state, parse_status::complete) << n;
    EXPECT_EQ(s.path, "/x");
    EXPECT_EQ(s.consumed, input.size()) << "the empty lines belong to this request";
  }
  EXPECT_EQ(error_of("\r\n\r\n\r\n\r\n\r\n" + make_request("GET / HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of("\n" + make_request("GET / HTTP/1.1")), status::bad_request);
  EXPECT_EQ(error_of("\r\r\n" + make_request("GET / HTTP/1.1")), status::bad_request);
}

TEST(RequestParserHead, BareLineFeedsAreRejected) {
  // The line-ending policy: CRLF only, anywhere in the head.
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: a\n\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: 1\n\r\n"), status::bad_request);
}

TEST(RequestParserHead, BareCarriageReturnsAreRejected) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), status::bad_request);
}

TEST(RequestParserHead, HeaderNamesAndValues) {
  const snapshot s = parse_all_ways(make_request("GET / HTTP/1.1",
                                                 "X-Trim:   a b \t\r\n"
                                                 "X-Empty:\r\n"
                                                 "X-Spaces:    \r\n"
                                                 "x-lower:v\r\n"
                                                 "X-Obs-Text: caf\xc3\xa9\r\n"
                                                 "X-Inner-Tab: a\tb\r\n"));
  ASSERT_EQ(s.state, parse_status::complete);
  ASSERT_EQ(s.headers.size(), 7u);
  EXPECT_EQ(s.headers[1], std::pair("X-Trim"s, "a b"s));
  EXPECT_EQ(s.headers[2], std::pair("X-Empty"s, ""s));
  EXPECT_EQ(s.headers[3], std::pair("X-Spaces"s, ""s));
  EXPECT_EQ(s.headers[4], std::pair("x-lower"s, "v"s));
  EXPECT_EQ(s.headers[5], std::pair("X-Obs-Text"s, "caf\xc3\xa9"s));
  EXPECT_EQ(s.headers[6], std::pair("X-Inner-Tab"s, "a\tb"s));
}

TEST(RequestParserHead, FieldValueBytesAtEveryPositionAndLength) {
  // Values are checked 8 bytes at a time: every length around the word size, every position,
  // every forbidden byte must still be caught, and every allowed byte pass.
  std::string forbidden;
  for (int c = 0; c < 0x20; ++c) {
    if (c != '\t' && c != '\r' && c != '\n') forbidden.push_back(static_cast<char>(c));
  }
  forbidden.push_back('\x7f');
  forbidden.push_back('\r');  // a bare CR inside the value
  const std::string allowed = "\t \x21\x7e\x80\xff";
  for (size_t len = 1; len <= 26; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (char bad : forbidden) {
        std::string value(len, 'v');
        value[pos] = bad;
        EXPECT_EQ(test::parse_once(make_request("GET / HTTP/1.1", "X: " + value + "\r\n")).error,
                  status::bad_request)
            << "len " << len << " pos " << pos << " byte " << int(bad);
      }
      for (char good : allowed) {
        std::string value(len, 'v');
        value[pos] = good;
        const snapshot s = test::parse_once(make_request("GET / HTTP/1.1", "X: " + value + "\r\n"));
        ASSERT_EQ(s.state, parse_status::complete) << "len " << len << " pos " << pos;
        const size_t first = value.find_first_not_of(" \t");
        const size_t last = value.find_last_not_of(" \t");
        EXPECT_EQ(s.headers[1].second,
                  first == std::string::npos ? "" : value.substr(first, last - first + 1));
      }
    }
  }
}

TEST(RequestParserHead, StaleRequestContentsAreReplaced) {
  // The caller reuses one request object and need not clear it.
  std::string a = make_request("POST /a?x HTTP/1.1", "A: 1\r\nB: 2\r\nContent-Length: 1\r\n", "z");
  std::string b = "GET /b HTTP/1.0\r\n\r\n";
  request_parser parser;
  request req;
  ASSERT_EQ(parser.parse({a.data(), a.size()}, req).state, parse_status::complete);
  parser.reset();
  ASSERT_EQ(parser.parse({b.data(), b.size()}, req).state, parse_status::complete);
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.query, "");
  EXPECT_TRUE(req.headers.empty());
  EXPECT_EQ(req.body, "");
  EXPECT_EQ(req.version_minor, 0);
  EXPECT_FALSE(req.keep_alive);
}

TEST(RequestParserHead, HeaderLookupIsCaseInsensitive) {
  std::string buf = make_request("GET / HTTP/1.1", "Content-Type: text/plain\r\nX-A: 1\r\n");
  request_parser parser;
  request req;
  ASSERT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::complete);
  EXPECT_EQ(req.header("content-type"), "text/plain");
  EXPECT_EQ(req.header("CONTENT-TYPE"), "text/plain");
  EXPECT_TRUE(req.has_header("x-a"));
  EXPECT_FALSE(req.has_header("x-b"));
  EXPECT_EQ(req.header("x-b"), "");
}

TEST(RequestParserHead, RejectsMalformedFieldLines) {
  // RFC 9112 §5.1: no whitespace between name and colon (request smuggling defense).
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X-A : 1\r\n")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X-A\t: 1\r\n")), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "Transfer-Encoding : chunked\r\n")),
            status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "NoColon\r\n")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", ": empty-name\r\n")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X@Y: 1\r\n")), status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X\x80: 1\r\n")), status::bad_request);
  for (std::string_view v : {"a\x01z"sv, "a\0z"sv, "a\x7fz"sv, "a\x1bz"sv}) {
    EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X: " + std::string(v) + "\r\n")),
              status::bad_request);
  }
}

TEST(RequestParserHead, RejectsObsFold) {
  // RFC 9112 §5.2: obs-fold may be rejected with 400; §2.2: so may whitespace before the
  // first field line.
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X-A: 1\r\n  continued\r\n")),
            status::bad_request);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "X-A: 1\r\n\tcontinued\r\n")),
            status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), status::bad_request);
}

TEST(RequestParserHead, HostRules) {
  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, or any with two.
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX: y\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), status::bad_request);
  EXPECT_EQ(error_of("GET / HTTP/1.0\r\n\r\n"), status::ok);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n"), status::ok);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), status::ok);  // empty authority
  for (std::string_view h : {"a b", "a/b", "a@b", "a?b", "a#b", "a\"b", "a\\b"}) {
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: " + std::string(h) + "\r\n\r\n"),
              status::bad_request)
        << h;
  }
}

TEST(RequestParserHead, KeepAliveRules) {
  // RFC 9112 §9.3.
  EXPECT_TRUE(parse_all_ways(make_request("GET / HTTP/1.1")).keep_alive);
  EXPECT_FALSE(parse_all_ways(make_request("GET / HTTP/1.1", "Connection: close\r\n")).keep_alive);
  EXPECT_FALSE(parse_all_ways(make_request("GET / HTTP/1.1", "connection: CLOSE\r\n")).keep_alive);
  EXPECT_FALSE(
      parse_all_ways(make_request("GET / HTTP/1.1", "Connection: upgrade , close\r\n")).keep_alive);
  EXPECT_FALSE(parse_all_ways(make_request("GET / HTTP/1.1",
                                           "Connection: keep-alive\r\nConnection: close\r\n"))
                   .keep_alive);
  EXPECT_TRUE(parse_all_ways(make_request("GET / HTTP/1.1", "Connection: Upgrade\r\n")).keep_alive);
  EXPECT_TRUE(parse_all_ways(make_request("GET / HTTP/1.1", "Connection: closed\r\n")).keep_alive);
  EXPECT_TRUE(parse_all_ways(make_request("GET / HTTP/1.1", "X-Connection: close\r\n")).keep_alive);

  EXPECT_FALSE(parse_all_ways("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_all_ways("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_all_ways("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(parse_all_ways("GET / HTTP/1.0\r\nConnection: x,\t keep-alive \r\n\r\n").keep_alive);
  EXPECT_FALSE(
      parse_all_ways("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_FALSE(parse_all_ways("GET / HTTP/1.0\r\nConnection: keepalive\r\n\r\n").keep_alive);
}

// --- limits ---------------------------------------------------------------------------------

// A request whose head is exactly `size` bytes, padded in one header value.
std::string head_of_size(size_t size) {
  const std::string prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  const std::string suffix = "\r\n\r\n";
  return prefix + std::string(size - prefix.size() - suffix.size(), 'p') + suffix;
}

TEST(RequestParserLimits, HeadSizeBoundary) {
  parser_limits limits;
  limits.max_header_bytes = 200;
  const std::string at = head_of_size(200);
  ASSERT_EQ(at.size(), 200u);
  EXPECT_EQ(parse_all_ways(at, limits).state, parse_status::complete);
  EXPECT_EQ(error_of(head_of_size(201), limits), status::request_header_fields_too_large);
  // Leading empty lines count too.
  EXPECT_EQ(error_of("\r\n" + head_of_size(198), limits), status::ok);
  EXPECT_EQ(error_of("\r\n" + head_of_size(199), limits), status::request_header_fields_too_large);
}

TEST(RequestParserLimits, HeadSizeFailsWithoutWaitingForTheEnd) {
  parser_limits limits;
  limits.max_header_bytes = 200;
  const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(1000, 'a');
  EXPECT_EQ(test::parse_once(endless.substr(0, 200), limits).state, parse_status::incomplete);
  EXPECT_EQ(test::parse_once(endless.substr(0, 201), limits).error,
            status::request_header_fields_too_large);
  // Also without any line ending at all.
  EXPECT_EQ(test::parse_once(std::string(201, 'G'), limits).error,
            status::request_header_fields_too_large);
  // A complete head within the limit is fine however much follows it (pipelining).
  const std::string two = head_of_size(200) + head_of_size(200);
  EXPECT_EQ(test::parse_once(two, limits).consumed, 200u);
}

TEST(RequestParserLimits, HeaderCountBoundary) {
  parser_limits limits;
  limits.max_headers = 3;
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "A: 1\r\nB: 2\r\n"), limits), status::ok);
  EXPECT_EQ(error_of(make_request("GET / HTTP/1.1", "A: 1\r\nB: 2\r\nC: 3\r\n"), limits),
            status::request_header_fields_too_large);
  // Counted as lines arrive: no need for the blank line.
  EXPECT_EQ(test::parse_once("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", limits).error,
            status::request_header_fields_too_large);
}

TEST(RequestParserLimits, DefaultLimits) {
  const parser_limits limits;
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 99; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(test::parse_once(many + "\r\n", limits).state, parse_status::complete);
  EXPECT_EQ(test::parse_once(many + "X: v\r\n\r\n", limits).error,
            status::request_header_fields_too_large);
  EXPECT_EQ(test::parse_once(head_of_size(size_t{16} * 1024), limits).state,
            parse_status::complete);
  EXPECT_EQ(test::parse_once(head_of_size(size_t{16} * 1024 + 1), limits).error,
            status::request_header_fields_too_large);
}

// --- pipelining, contract, cost ------------------------------------------------------------

TEST(RequestParserHead, PipelinedRequests) {
  const std::string a = make_request("GET /a HTTP/1.1");
  const std::string b = make_request("GET /b?x HTTP/1.1", "Connection: close\r\n");
  std::string buf = a + b + "GET /c";
  request_parser parser;
  request req;
  parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(req.path, "/a");
  parser.reset();
  r = parser.parse({buf.data() + a.size(), buf.size() - a.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, b.size());
  EXPECT_EQ(req.path, "/b");
  EXPECT_FALSE(req.keep_alive);
  parser.reset();
  const size_t off = a.size() + b.size();
  EXPECT_EQ(parser.parse({buf.data() + off, buf.size() - off}, req).state,
            parse_status::incomplete);
}

TEST(RequestParserHead, ShrinkingBufferIsAContractError) {
  std::string buf = "GET / HTTP/1.1\r\nHost: a\r\n";
  request_parser parser;
  request req;
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  const parse_result r = parser.parse({buf.data(), 3}, req);
  EXPECT_EQ(r.state, parse_status::error);
  EXPECT_EQ(r.error, status::internal_server_error);
}

TEST(RequestParserHead, ByteAtATimeIsLinear) {
  // A slowloris head of 1 MiB fed one byte per call: linear scanning does ~1M cheap calls;
  // rescanning from the start each call would touch ~5e11 bytes and take minutes.
  parser_limits limits;
  limits.max_header_bytes = size_t{2} * 1024 * 1024;
  std::string input = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(1 << 20, 'v');
  input += "\r\n\r\n";
  request_parser parser(limits);
  request req;
  const auto start = std::chrono::steady_clock::now();
  parse_result r;
  for (size_t n = 1; n <= input.size(); ++n) {
    r = parser.parse({input.data(), n}, req);
    if (r.state != parse_status::incomplete) break;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(req.header("x-big").size(), size_t{1} << 20);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace relay::http

// --- allocation accounting -------------------------------------------------------------------
// Replacing the global allocator for this test binary lets one test assert that a steady-state
// parse allocates nothing (the parser holds no strings; the request's vector keeps capacity).
namespace {
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace relay::http {
namespace {

TEST(RequestParserHead, SteadyStateParseDoesNotAllocate) {
  std::string buf(kUpgradeRequest);
  request_parser parser;
  request req;
  ASSERT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::complete);
  parser.reset();
  req.clear();
  const size_t before = g_allocations;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::complete);
    parser.reset();
    req.clear();
  }
  EXPECT_EQ(g_allocations, before);
  // The counter works: a fresh request's vector does allocate.
  request fresh;
  ASSERT_EQ(parser.parse({buf.data(), buf.size()}, fresh).state, parse_status::complete);
  EXPECT_GT(g_allocations, before);
}

}  // namespace
}  // namespace relay::http
