#pragma once
// Test helpers for the sans-IO request parser: a value snapshot of a parse (so results from
// different buffers compare), and feeding one input in every way a socket could deliver it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.hpp"

namespace relay::http::test {

// Everything a parse produced, copied out of the buffer. Request fields are only filled for
// a complete parse (they are unspecified otherwise).
struct snapshot {
  parse_status state = parse_status::incomplete;
  size_t consumed = 0;
  status error = status::ok;
  std::string method, target, path, query;
  int version_minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;
  bool chunked = false;

  bool operator==(const snapshot&) const = default;
};

snapshot take(const parse_result& r, const request& req);

// One call on the whole input.
snapshot parse_once(std::string_view input, const parser_limits& limits = {});

// Feeds `input` in pieces of the given sizes (the last repeats), moving the buffer to a new
// allocation before every call as a connection's growing buffer may; stops at the first
// result that is not `incomplete`.
// `clear_request` says whether `req` is cleared before each call (the connection does) or
// left holding whatever the previous call put there.
enum class clear_request : uint8_t { no, yes };
snapshot parse_pieces(std::string_view input, const std::vector<size_t>& sizes,
                      const parser_limits& limits = {}, clear_request clear = clear_request::yes);

// parse_once(), after checking (with gtest EXPECTs) that byte-by-byte feeding, every split in
// two and a few random chunkings all give the same result.
snapshot parse_all_ways(std::string_view input, const parser_limits& limits = {});

// Status of an error parse of `input` fed all ways; ok if it did not fail.
status error_of(std::string_view input, const parser_limits& limits = {});

// A minimal valid HTTP/1.1 request head (with Host) plus extra header lines and a body.
std::string make_request(std::string_view request_line, std::string_view extra_headers = {},
                         std::string_view body = {});

}  // namespace relay::http::test
