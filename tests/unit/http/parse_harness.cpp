#include "parse_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>

namespace relay::http::test {

snapshot take(const parse_result& r, const request& req) {
  snapshot s;
  s.state = r.state;
  s.consumed = r.consumed;
  s.error = r.error;
  if (r.state != parse_status::complete) return s;
  s.method = req.method;
  s.target = req.target;
  s.path = req.path;
  s.query = req.query;
  s.version_minor = req.version_minor;
  for (const header_field& h : req.headers) s.headers.emplace_back(h.name, h.value);
  s.body = req.body;
  s.keep_alive = req.keep_alive;
  s.chunked = req.chunked;
  return s;
}

snapshot parse_once(std::string_view input, const parser_limits& limits) {
  // Exactly sized heap copy so ASan catches any read past the end.
  auto buf = std::make_unique<char[]>(input.size() + 1);
  std::copy(input.begin(), input.end(), buf.get());
  request_parser parser(limits);
  request req;
  const parse_result r = parser.parse({buf.get(), input.size()}, req);
  snapshot s = take(r, req);
  // A finished parser repeats its result until reset().
  EXPECT_EQ(take(parser.parse({buf.get(), input.size()}, req), req), s);
  return s;
}

snapshot parse_pieces(std::string_view input, const std::vector<size_t>& sizes,
                      const parser_limits& limits, clear_request clear) {
  request_parser parser(limits);
  request req;
  // A request left over from an earlier parse must not leak into this one.
  req.headers.push_back({"Stale", "header"});
  req.method = "STALE";
  std::vector<char> buf;
  size_t fed = 0;
  size_t piece = 0;
  while (true) {
    const size_t want = sizes.empty() ? input.size() : sizes[std::min(piece, sizes.size() - 1)];
    ++piece;
    const size_t n = std::min(std::max<size_t>(want, 1), input.size() - fed);
    // Move to a fresh allocation (contents kept, including any in-place decoding) so that
    // views left over from an earlier call would dangle and ASan would see them.
    std::vector<char> moved;
    moved.reserve(fed + n);
    moved.assign(buf.begin(), buf.end());
    moved.insert(moved.end(), input.begin() + fed, input.begin() + fed + n);
    buf = std::move(moved);
    fed += n;
    // The connection clears: nothing may depend on `req` between calls.
    if (clear == clear_request::yes) req.clear();
    const parse_result r = parser.parse({buf.data(), buf.size()}, req);
    if (r.state != parse_status::incomplete || fed == input.size()) return take(r, req);
  }
}

snapshot parse_all_ways(std::string_view input, const parser_limits& limits) {
  snapshot once = parse_once(input, limits);
  EXPECT_EQ(parse_pieces(input, {1}, limits), once) << "byte by byte";
  EXPECT_EQ(parse_pieces(input, {1}, limits, clear_request::no), once)
      << "byte by byte, request not cleared";
  for (size_t split = 1; split < input.size(); ++split) {
    EXPECT_EQ(parse_pieces(input, {split, input.size()}, limits), once) << "split at " << split;
    EXPECT_EQ(parse_pieces(input, {split, input.size()}, limits, clear_request::no), once)
        << "split at " << split << ", request not cleared";
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 8; ++round) {
    std::vector<size_t> sizes;
    for (size_t total = 0; total < input.size();) {
      sizes.push_back(std::uniform_int_distribution<size_t>(1, 1 + round * 7)(rng));
      total += sizes.back();
    }
    EXPECT_EQ(parse_pieces(input, sizes, limits), once) << "random chunks, round " << round;
  }
  return once;
}

status error_of(std::string_view input, const parser_limits& limits) {
  const snapshot s = parse_all_ways(input, limits);
  return s.state == parse_status::error ? s.error : status::ok;
}

std::string make_request(std::string_view request_line, std::string_view extra_headers,
                         std::string_view body) {
  std::string out(request_line);
  out += "\r\nHost: example.com\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace relay::http::test
