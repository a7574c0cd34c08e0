// Message body framing: Content-Length, chunked (decoded in place), Transfer-Encoding rules
// and request smuggling defenses (RFC 9112 §6, §7).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

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

std::string post(std::string_view headers, std::string_view body) {
  return make_request("POST /api HTTP/1.1", headers, body);
}
std::string chunked(std::string_view body, std::string_view extra_headers = {}) {
  return post("Transfer-Encoding: chunked\r\n"s + std::string(extra_headers), body);
}

// --- Content-Length ------------------------------------------------------------------------

TEST(RequestParserBody, ContentLength) {
  const std::string input = post("Content-Length: 11\r\n", "hello world");
  const snapshot s = parse_all_ways(input);
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.body, "hello world");
  EXPECT_EQ(s.consumed, input.size());
  EXPECT_FALSE(s.chunked);
}

TEST(RequestParserBody, ContentLengthBodyMayHoldAnyBytes) {
  const std::string body = "a\r\n\r\nGET / HTTP/1.1\r\n\0\xff"s;
  const snapshot s =
      parse_all_ways(post("Content-Length: " + std::to_string(body.size()) + "\r\n", body));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.body, body);
}

TEST(RequestParserBody, ContentLengthWaitsForTheBody) {
  std::string buf = post("Content-Length: 5\r\n", "hel");
  request_parser parser;
  request req;
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  buf += "lo";
  const parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(req.body, "hello");
  EXPECT_EQ(req.method, "POST") << "views rebuilt on the completing call";
  EXPECT_EQ(req.body.data(), buf.data() + buf.size() - 5);
}

TEST(RequestParserBody, ContentLengthZeroAndAbsent) {
  EXPECT_EQ(parse_all_ways(post("Content-Length: 0\r\n", "")).body, "");
  // RFC 9112 §6.3 item 7: no Content-Length and no chunked means no body; the bytes after the
  // head are the next request.
  const std::string next = "GET /next HTTP/1.1\r\n";
  const snapshot s = parse_all_ways(post("", next));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.body, "");
  EXPECT_EQ(s.consumed, post("", "").size());
  const snapshot get = parse_all_ways(make_request("GET / HTTP/1.1", "", "leftover"));
  EXPECT_EQ(get.consumed, make_request("GET / HTTP/1.1").size());
}

TEST(RequestParserBody, Http10BodyNeedsContentLength) {
  const std::string head = "POST / HTTP/1.0\r\n\r\n";
  snapshot s = parse_all_ways(head + "data");
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.consumed, head.size());
  EXPECT_EQ(s.body, "");
  s = parse_all_ways("POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\ndata");
  EXPECT_EQ(s.body, "data");
}

TEST(RequestParserBody, ContentLengthSyntax) {
  EXPECT_EQ(parse_all_ways(post("Content-Length: 007\r\n", "1234567")).body, "1234567");
  EXPECT_EQ(parse_all_ways(post("Content-Length:3 \r\n", "abc")).body, "abc");
  for (std::string_view v : {"+5", "-1", "5a", "0x5", "5 5", "", " ", "5.0", "٥", "5;", "1e3"}) {
    EXPECT_EQ(error_of(post("Content-Length: " + std::string(v) + "\r\n", "12345")),
              status::bad_request)
        << v;
  }
}

TEST(RequestParserBody, DuplicateContentLength) {
  // RFC 9112 §6.3 item 5: identical values (repeated or as a list) are one length; differing
  // values make the framing ambiguous.
  EXPECT_EQ(parse_all_ways(post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc")).body, "abc");
  EXPECT_EQ(parse_all_ways(post("Content-Length: 3, 3,3\r\n", "abc")).body, "abc");
  EXPECT_EQ(parse_all_ways(post("Content-Length: 3\r\ncontent-length: 03\r\n", "abc")).body, "abc");
  EXPECT_EQ(error_of(post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd")),
            status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: 3, 4\r\n", "abcd")), status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: 3,\r\n", "abc")), status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: ,3\r\n", "abc")), status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: 3\r\nContent-Length: \r\n", "abc")),
            status::bad_request);
}

TEST(RequestParserBody, BodySizeBoundary) {
  parser_limits limits;
  limits.max_body_bytes = 10;
  EXPECT_EQ(parse_all_ways(post("Content-Length: 10\r\n", "0123456789"), limits).body,
            "0123456789");
  EXPECT_EQ(error_of(post("Content-Length: 11\r\n", "0123456789a"), limits),
            status::payload_too_large);
}

TEST(RequestParserBody, OversizedContentLengthFailsFromTheHead) {
  // 413 without waiting for (or buffering) any body byte.
  EXPECT_EQ(test::parse_once(post("Content-Length: 1048577\r\n", "")).error,
            status::payload_too_large);
  EXPECT_EQ(test::parse_once(post("Content-Length: 1048576\r\n", "")).state,
            parse_status::incomplete);
  // Overflow-safe: far beyond 64 bits.
  EXPECT_EQ(test::parse_once(post("Content-Length: 18446744073709551616\r\n", "")).error,
            status::payload_too_large);
  EXPECT_EQ(test::parse_once(post("Content-Length: " + std::string(100, '9') + "\r\n", "")).error,
            status::payload_too_large);
  EXPECT_EQ(test::parse_once(post("Content-Length: 18446744073709551615\r\n", "")).error,
            status::payload_too_large);
}

TEST(RequestParserBody, PipelinedAfterContentLength) {
  const std::string a = post("Content-Length: 3\r\n", "abc");
  const std::string b = make_request("GET /b HTTP/1.1");
  std::string buf = a + b;
  request_parser parser;
  request req;
  parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(req.body, "abc");
  parser.reset();
  r = parser.parse({buf.data() + a.size(), buf.size() - a.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.body, "");
}

// --- chunked -------------------------------------------------------------------------------

TEST(RequestParserChunked, DecodesInPlace) {
  const std::string input = chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const snapshot s = parse_all_ways(input);
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_TRUE(s.chunked);
  EXPECT_EQ(s.body, "hello world");
  EXPECT_EQ(s.consumed, input.size());

  std::string buf = input;
  request_parser parser;
  request req;
  ASSERT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::complete);
  EXPECT_EQ(req.body.data(), buf.data() + chunked("").size()) << "contiguous, right after head";
  EXPECT_EQ(req.header("transfer-encoding"), "chunked") << "head bytes untouched";
}

TEST(RequestParserChunked, SizesAreHex) {
  const std::string a(10, 'a');
  const std::string big(0x1ff, 'x');
  EXPECT_EQ(parse_all_ways(chunked("A\r\n" + a + "\r\n0\r\n\r\n")).body, a);
  EXPECT_EQ(parse_all_ways(chunked("a\r\n" + a + "\r\n0\r\n\r\n")).body, a);
  EXPECT_EQ(parse_all_ways(chunked("000a\r\n" + a + "\r\n000\r\n\r\n")).body, a);
  EXPECT_EQ(test::parse_once(chunked("1fF\r\n" + big + "\r\n0\r\n\r\n")).body, big);
  EXPECT_EQ(test::parse_once(chunked("000000000000000A\r\n" + a + "\r\n0\r\n\r\n")).body, a);
  EXPECT_EQ(error_of(chunked("0000000000000000A\r\n" + a + "\r\n0\r\n\r\n")), status::bad_request);
}

TEST(RequestParserChunked, EmptyBody) {
  const snapshot s = parse_all_ways(chunked("0\r\n\r\n"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.body, "");
  EXPECT_TRUE(s.chunked);
}

TEST(RequestParserChunked, ExtensionsAreValidatedAndIgnored) {
  // RFC 9112 §7.1.1.
  for (std::string_view ext : {";name", ";name=value", " ; a ; b=c", ";a=\"quoted ; \\\" x\"",
                               ";a=\"\"", "\t;a\t=\tb", ";a=\"caf\xc3\xa9\"", ";a;b;c=d"}) {
    const std::string body =
        "5" + std::string(ext) + "\r\nhello\r\n0" + std::string(ext) + "\r\n\r\n";
    const snapshot s = parse_all_ways(chunked(body));
    ASSERT_EQ(s.state, parse_status::complete) << ext;
    EXPECT_EQ(s.body, "hello");
  }
  for (std::string_view ext :
       {";", "; ", ";=v", ";a=", ";a=\"open", ";a=b c", ";a=b;", " ", "x", ";a\x01", ";a=\"\x01\"",
        ";a=\"\\\x01\"", ";a b", ";a=b\"", ";a=\"x\"y", ";a\rb"}) {
    const std::string body = "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(error_of(chunked(body)), status::bad_request) << ext;
  }
}

TEST(RequestParserChunked, TrailersAreParsedAndDiscarded) {
  const snapshot s =
      parse_all_ways(chunked("3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:  y \r\n\r\n"));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_EQ(s.body, "abc");
  for (const auto& [name, value] : s.headers) EXPECT_NE(name, "X-Checksum");

  EXPECT_EQ(error_of(chunked("0\r\nno colon\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\nX : 1\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\nX: 1\r\n folded\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\nX: a\x01\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\nX: 1\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\n\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0\r\n\x16")), status::bad_request);
}

TEST(RequestParserChunked, TrailerLimits) {
  parser_limits limits;
  limits.max_headers = 3;
  limits.max_header_bytes = 100;
  EXPECT_EQ(error_of(chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), limits), status::ok);
  EXPECT_EQ(error_of(chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), limits),
            status::request_header_fields_too_large);
  // Trailer section (through its blank line) at exactly max_header_bytes, then one over.
  const std::string fill_at = "X: " + std::string(100 - 3 - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(fill_at.size(), 100u);
  EXPECT_EQ(error_of(chunked("0\r\n" + fill_at), limits), status::ok);
  EXPECT_EQ(error_of(chunked("0\r\nX: v" + fill_at.substr(3)), limits),
            status::request_header_fields_too_large);
  // Without waiting for a line end.
  EXPECT_EQ(test::parse_once(chunked("0\r\nX: " + std::string(200, 'v')), limits).error,
            status::request_header_fields_too_large);
}

TEST(RequestParserChunked, MalformedFraming) {
  EXPECT_EQ(error_of(chunked("g\r\nhello\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("\r\nhello\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("-5\r\nhello\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("0x5\r\nhello\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked(" 5\r\nhello\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("5\nhello\r\n0\r\n\r\n")), status::bad_request);  // bare LF
  EXPECT_EQ(error_of(chunked("5\r\nhelloX\r\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("5\r\nhello\rX0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("5\r\nhello\n0\r\n\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("5\r\nhello\r\n0\r\n\r\r\n")), status::bad_request);
  EXPECT_EQ(error_of(chunked("5\r\nhel\r\n0\r\n\r\n")), status::bad_request);  // short
}

TEST(RequestParserChunked, IncompleteAtEveryPrefix) {
  const std::string input = chunked("5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n");
  for (size_t n = 0; n < input.size(); ++n) {
    EXPECT_EQ(test::parse_once(input.substr(0, n)).state, parse_status::incomplete) << n;
  }
  EXPECT_EQ(test::parse_once(input).state, parse_status::complete);
}

TEST(RequestParserChunked, BodySizeBoundary) {
  parser_limits limits;
  limits.max_body_bytes = 10;
  EXPECT_EQ(parse_all_ways(chunked("4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n"), limits).body,
            "0123456789");
  EXPECT_EQ(error_of(chunked("4\r\n0123\r\n7\r\n456789a\r\n0\r\n\r\n"), limits),
            status::payload_too_large);
  EXPECT_EQ(error_of(chunked("b\r\n0123456789a\r\n0\r\n\r\n"), limits), status::payload_too_large);
  // From the size line alone, before the chunk's data arrives.
  EXPECT_EQ(test::parse_once(chunked("4\r\n0123\r\n7\r\n"), limits).error,
            status::payload_too_large);
  EXPECT_EQ(test::parse_once(chunked("ffffffffffffffff\r\n")).error, status::payload_too_large);
}

TEST(RequestParserChunked, FramingOverheadIsBounded) {
  // Framing may exceed the decoded bytes by at most max_body_bytes + 64 KiB.
  parser_limits limits;
  limits.max_body_bytes = 16;
  const size_t allowance = 16 + 64 * 1024;
  // Framing: the size line, the CRLF after "z" and "0\r\n". At exactly the allowance it is
  // accepted; one byte more is not.
  const std::string ext_at = ";e=" + std::string(allowance - 1 - 3 - 2 - 2 - 3, 'x');
  EXPECT_EQ(test::parse_once(chunked("1" + ext_at + "\r\nz\r\n0\r\n\r\n"), limits).body, "z");
  EXPECT_EQ(test::parse_once(chunked("1" + ext_at + "x\r\nz\r\n0\r\n\r\n"), limits).error,
            status::payload_too_large);
  // Fails while the line is still incomplete.
  EXPECT_EQ(test::parse_once(chunked("1;e=" + std::string(allowance, 'x')), limits).error,
            status::payload_too_large);
  // Many tiny chunks: the overhead grows with each, the decoded bytes by one.
  limits.max_body_bytes = 1 << 20;
  std::string body;
  while (body.size() < (2 << 20)) body += "1;padpadpadpadpad\r\nz\r\n";
  EXPECT_EQ(test::parse_once(chunked(body + "0\r\n\r\n"), limits).error, status::payload_too_large);
}

TEST(RequestParserChunked, WaitsForTheLastChunkAndTrailers) {
  std::string buf = chunked("3\r\nabc\r\n");
  request_parser parser;
  request req;
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  buf += "0\r\n";
  EXPECT_EQ(parser.parse({buf.data(), buf.size()}, req).state, parse_status::incomplete);
  buf += "\r\n";
  const parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, buf.size());
  EXPECT_EQ(req.body, "abc");
}

TEST(RequestParserChunked, PipelinedAfterChunked) {
  const std::string a = chunked("3;x\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n");
  const std::string b = post("Content-Length: 2\r\n", "xy");
  std::string buf = a + b;
  request_parser parser;
  request req;
  parse_result r = parser.parse({buf.data(), buf.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(req.body, "abcde");
  parser.reset();
  r = parser.parse({buf.data() + a.size(), buf.size() - a.size()}, req);
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(req.body, "xy");
  EXPECT_EQ(r.consumed, b.size());
}

TEST(RequestParserChunked, LargeBodyByteAtATimeIsLinear) {
  std::string input = chunked("");
  const std::string data(size_t{256} * 1024, 'd');
  for (int i = 0; i < 4; ++i) input += "40000\r\n" + data + "\r\n";
  input += "0\r\n\r\n";
  request_parser parser;
  request req;
  const auto start = std::chrono::steady_clock::now();
  parse_result r;
  for (size_t n = 1; n <= input.size(); ++n) {
    r = parser.parse({input.data(), n}, req);
    if (r.state != parse_status::incomplete) break;
  }
  ASSERT_EQ(r.state, parse_status::complete);
  EXPECT_EQ(req.body.size(), 1u << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// --- Transfer-Encoding rules and smuggling ---------------------------------------------------

TEST(RequestParserSmuggling, TransferEncodingWithContentLength) {
  // RFC 9112 §6.3 item 3: both present is handled as an error, in either order.
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                          "3\r\nabc\r\n0\r\n\r\n")),
            status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                          "3\r\nabc\r\n0\r\n\r\n")),
            status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n", "abc")),
            status::bad_request);
}

TEST(RequestParserSmuggling, TransferCodings) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(parse_all_ways(post("Transfer-Encoding: Chunked\r\n", body)).body, "abc");
  EXPECT_EQ(parse_all_ways(post("Transfer-Encoding: , chunked ,\r\n", body)).body, "abc");
  // §6.1: a final chunked after codings we cannot undo: 501.
  EXPECT_EQ(error_of(post("Transfer-Encoding: gzip, chunked\r\n", body)), status::not_implemented);
  EXPECT_EQ(error_of(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", body)),
            status::not_implemented);
  EXPECT_EQ(error_of(post("Transfer-Encoding: identity, chunked\r\n", body)),
            status::not_implemented);
  // §6.3 item 4: chunked not the final coding -> length unknown -> 400 (MUST).
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunked, gzip\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", body)),
            status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: gzip\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: identity\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding:\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunkedx\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: \"chunked\"\r\n", body)), status::bad_request);
  // §7: chunked applied twice.
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunked, chunked\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", body)),
            status::bad_request);
}

TEST(RequestParserSmuggling, TransferEncodingInHttp10) {
  // RFC 9112 §6.1: faulty framing in a 1.0 message.
  EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
            status::bad_request);
}

TEST(RequestParserSmuggling, ObfuscatedHeaderNames) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(error_of(post("Transfer-Encoding : chunked\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post(" Transfer-Encoding: chunked\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("X: y\r\n Transfer-Encoding: chunked\r\n", body)), status::bad_request);
  EXPECT_EQ(error_of(post("Transfer-Encoding:\x0b"
                          "chunked\r\n",
                          body)),
            status::bad_request);
  EXPECT_EQ(error_of(post("Content-Length : 3\r\n", "abc")), status::bad_request);
  EXPECT_EQ(error_of(post("X: y\nContent-Length: 3\r\n", "abc")), status::bad_request);
  // Names that merely contain the framing headers' names do not frame.
  const snapshot s = parse_all_ways(post("X-Transfer-Encoding: chunked\r\n", ""));
  ASSERT_EQ(s.state, parse_status::complete);
  EXPECT_FALSE(s.chunked);
}

}  // namespace
}  // namespace relay::http
