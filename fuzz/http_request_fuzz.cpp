// Fuzzes the HTTP/1.1 request parser (src/http/request_parser). Byte 0 picks the limits (tiny
// ones reach the 413/431 paths); the rest is a stream of pipelined requests, parsed twice:
// once from the whole buffer, once delivered in chunk sizes derived from the input (as uWS
// fuzzing/helpers.h makeChunked does) with the buffer moved to a new allocation before every
// call. Both must produce the same sequence of results, and every complete request must
// satisfy the invariants below; any difference traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client_address.hpp"
#include "http/content_coding.hpp"
#include "http/cookie.hpp"
#include "http/query.hpp"
#include "http/request.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"

namespace {

using relay::http::parse_result;
using relay::http::parse_status;
using relay::http::parser_limits;
using relay::http::request;
using relay::http::request_parser;
using relay::http::status;

constexpr size_t kMaxRequests = 256;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

// One parse outcome, copied out of the buffer so two runs compare by value.
struct outcome {
  parse_status state = parse_status::incomplete;
  size_t consumed = 0;
  status error = status::ok;
  std::string method, target, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int version_minor = 0;
  bool keep_alive = false;
  bool chunked = false;
  bool operator==(const outcome&) const = default;
};

bool is_tchar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool within(std::string_view v, const char* begin, size_t size) {
  return v.empty() || (v.data() >= begin && v.data() + v.size() <= begin + size);
}

uint64_t parse_decimal(std::string_view v) {
  // The first element of a (validated, all-equal) Content-Length list.
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') break;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

void check_request(const request& req, const parse_result& r, const char* buf, size_t size,
                   const parser_limits& limits) {
  check(r.consumed > 0 && r.consumed <= size, "consumed within the buffer");
  check(!req.method.empty(), "method present");
  for (char c : req.method) check(is_tchar(c), "method is a token");
  check(req.version_minor == 0 || req.version_minor == 1, "version 1.0 or 1.1");
  check(req.headers.size() <= limits.max_headers, "header count limit");
  check(req.body.size() <= limits.max_body_bytes, "body limit");
  check(req.body.size() < r.consumed, "body inside the request");
  for (std::string_view v : {req.method, req.target, req.query, req.body}) {
    check(within(v, buf, r.consumed), "view inside the request's bytes");
  }
  check(within(req.path, buf, r.consumed) || req.path == "/", "path view");
  check(!req.target.empty() && !req.path.empty(), "target and path present");
  for (char c : req.target) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "target");
  if (req.target.front() == '/') {
    const bool has_q = req.target.find('?') != std::string_view::npos;
    check(std::string(req.path) + (has_q ? "?" + std::string(req.query) : "") == req.target,
          "origin-form splits into path and query");
  }
  for (const auto& h : req.headers) {
    check(within(h.name, buf, r.consumed) && within(h.value, buf, r.consumed), "header views");
    check(!h.name.empty(), "header name present");
    for (char c : h.name) check(is_tchar(c), "header name is a token");
    for (char c : h.value) check(c == '\t' || (c >= 0x20 && c != 0x7f) || c < 0, "value chars");
    check(h.value.empty() || (h.value.front() != ' ' && h.value.front() != '\t' &&
                              h.value.back() != ' ' && h.value.back() != '\t'),
          "value trimmed");
  }
  const bool close = req.header_has_token("connection", "close");
  const bool ka = req.header_has_token("connection", "keep-alive");
  check(req.keep_alive == (req.version_minor == 1 ? !close : (ka && !close)), "keep-alive rule");
  check(req.chunked == req.has_header("transfer-encoding"), "chunked iff Transfer-Encoding");
  if (req.chunked) {
    check(req.version_minor == 1 && !req.has_header("content-length"), "no TE+CL, no 1.0 TE");
  } else if (req.has_header("content-length")) {
    check(req.body.size() == parse_decimal(req.header("content-length")), "Content-Length body");
  } else {
    check(req.body.empty(), "no framing, no body");
  }
  check(req.version_minor == 0 || req.has_header("host"), "HTTP/1.1 has Host");
  // Accept-Encoding's parser (long-polling compression): any value gives one of the codings,
  // and naming none of gzip, deflate or "*" gives identity.
  for (const auto& h : req.headers) {
    const relay::http::content_coding c = relay::http::choose_coding(h.value);
    check(c == relay::http::content_coding::identity || c == relay::http::content_coding::gzip ||
              c == relay::http::content_coding::deflate,
          "a known coding");
    const bool names_one = h.value.find_first_of("*gGdD") != std::string_view::npos;
    check(names_one || c == relay::http::content_coding::identity, "unnamed codings: identity");
    // A cookie's value is a slice of the header, never containing its separator.
    const std::string_view v = relay::http::cookie_value(h.value, "relay_token");
    check(v.empty() || (v.data() >= h.value.data() &&
                        v.data() + v.size() <= h.value.data() + h.value.size()),
          "cookie value inside the header");
    check(v.find(';') == std::string_view::npos, "cookie value holds no ';'");
    // X-Forwarded-For behind a trusted proxy: the client is the peer or one of the entries.
    static const relay::http::proxy_trust kTrust =
        *relay::http::proxy_trust::parse({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
    const std::string client = relay::http::client_address("127.0.0.1", h.value, kTrust);
    check(client == "127.0.0.1" || h.value.find(client) != std::string_view::npos,
          "the client address is the peer or an X-Forwarded-For entry");
  }
  // The query (API, SSE, tokens): a parameter is a slice of the query; a decoded value is never
  // longer than its encoding.
  if (auto token = relay::http::query_param(req.query, "token")) {
    check(token->data() >= req.query.data() &&
              token->data() + token->size() <= req.query.data() + req.query.size(),
          "query value inside the query");
    std::string decoded;
    if (relay::http::percent_decode(*token, decoded)) {
      check(decoded.size() <= token->size(), "decoding only shrinks");
    }
  }
}

outcome record(const parse_result& r, const request& req, const char* buf, size_t size,
               const parser_limits& limits) {
  outcome o;
  o.state = r.state;
  o.consumed = r.consumed;
  o.error = r.error;
  if (r.state == parse_status::error) {
    check(r.error == status::bad_request || r.error == status::payload_too_large ||
              r.error == status::request_header_fields_too_large ||
              r.error == status::not_implemented || r.error == status::http_version_not_supported,
          "error status is one the parser documents");
    check(!relay::http::make_error_response(r.error).empty(), "error response");
  }
  if (r.state != parse_status::complete) return o;
  check_request(req, r, buf, size, limits);
  o.method = req.method;
  o.target = req.target;
  o.path = req.path;
  o.query = req.query;
  o.body = req.body;
  for (const auto& h : req.headers) o.headers.emplace_back(h.name, h.value);
  o.version_minor = req.version_minor;
  o.keep_alive = req.keep_alive;
  o.chunked = req.chunked;
  return o;
}

// Parses pipelined requests from the whole input at once.
std::vector<outcome> run_whole(std::string_view input, const parser_limits& limits) {
  std::vector<char> buf(input.begin(), input.end());
  std::vector<outcome> out;
  request_parser parser(limits);
  request req;
  size_t offset = 0;
  while (out.size() < kMaxRequests) {
    char* p = buf.data() + offset;
    const size_t n = buf.size() - offset;
    const parse_result r = parser.parse({p, n}, req);
    out.push_back(record(r, req, p, n, limits));
    if (r.state != parse_status::complete) break;
    offset += r.consumed;
    parser.reset();
  }
  return out;
}

// Same, but the bytes arrive in pieces; the pending buffer moves before every call.
std::vector<outcome> run_chunked(std::string_view input, const parser_limits& limits,
                                 uint64_t seed) {
  std::vector<char> pending;
  std::vector<outcome> out;
  request_parser parser(limits);
  request req;
  size_t fed = 0;
  while (out.size() < kMaxRequests) {
    // xorshift64: sizes mostly small (slowloris-like), sometimes large.
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    const size_t piece = (seed & 3) == 0 ? 1 + (seed >> 8) % 512 : 1 + (seed >> 8) % 4;
    const size_t n = std::min(piece, input.size() - fed);
    std::vector<char> moved;
    moved.reserve(pending.size() + n);
    moved.assign(pending.begin(), pending.end());
    moved.insert(moved.end(), input.begin() + static_cast<ptrdiff_t>(fed),
                 input.begin() + static_cast<ptrdiff_t>(fed + n));
    pending.swap(moved);
    fed += n;
    // Parse everything now buffered; a complete request may leave the next one behind it.
    while (out.size() < kMaxRequests) {
      req.clear();
      const parse_result r = parser.parse({pending.data(), pending.size()}, req);
      if (r.state == parse_status::incomplete && fed < input.size()) break;
      out.push_back(record(r, req, pending.data(), pending.size(), limits));
      if (r.state != parse_status::complete) return out;
      pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(r.consumed));
      parser.reset();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  parser_limits limits;
  if ((mode & 1) != 0) {  // tiny limits, so that 413 and 431 are reachable
    limits.max_header_bytes = 32 + size_t{24} * ((mode >> 1) & 7);
    limits.max_body_bytes = size_t{6} * ((mode >> 4) & 7);
    limits.max_headers = ((mode >> 1) & 3) + 1;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  uint64_t seed = 0xcbf29ce484222325ull;  // FNV-1a of the input seeds the chunk sizes
  for (uint8_t b : input) seed = (seed ^ b) * 0x100000001b3ull;
  seed |= 1;

  const std::vector<outcome> whole = run_whole(input, limits);
  const std::vector<outcome> chunked = run_chunked(input, limits, seed);
  check(whole == chunked, "whole-buffer and chunked parses agree");
  return 0;
}
