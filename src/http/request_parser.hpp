#pragma once
// Sans-IO HTTP/1.1 request parser (RFC 9112): bytes in, one request out; no sockets inside, so
// it is unit-tested and fuzzed alone.
//
// Usage: the connection accumulates received bytes and calls parse() on everything it holds.
// `incomplete` means call again with more bytes (the parser remembers how far it scanned, so
// a slowloris feeding one byte at a time costs O(n) overall); `complete` fills `req` with views
// into `data` and says how many bytes the request used (pipelined requests follow); `error`
// names the status to answer before closing. Chunked bodies are decoded in place, which is
// why `data` is mutable. After complete or error, call reset() before the next request.
//
// Contract:
// - Every call for one request passes the same bytes from the same first byte, possibly grown
//   at the end; the buffer may move (reallocate) between calls. Bytes already passed must not
//   change, except that the parser itself rewrites the chunked body in place.
// - `req` is meaningful only after `complete`; its views stay valid while `data` is unchanged.
//   Reusing one `request` keeps its headers vector's capacity, so steady-state parsing does
//   not allocate.
// - Errors are reported as soon as the bytes that prove them arrive: a bad line once its CRLF
//   is in (junk on its first byte), 431 once the buffered head passes the limit, 413 from
//   Content-Length or a chunk-size line before the data. The outcome never depends on how the
//   bytes were split across calls (unit tests and the fuzzer check this).
// - After complete or error, parse() returns the same result until reset().
// - Not thread-safe; one parser per connection.
//
// Policy (strict, because a lenient parser behind a proxy that parses differently is how
// requests get smuggled):
// - Lines end in CRLF. A bare LF or bare CR is rejected with 400 (RFC 9112 §2.2 lets a
//   recipient accept a bare LF, but a front proxy that does not would see different header
//   boundaries than we do). Up to 4 empty lines before the request line are skipped (§2.2).
// - request-target: origin-form, absolute-form (http/https; `path` is then its path component,
//   "/" when empty) or `*` for OPTIONS; authority-form (CONNECT) is rejected with 400.
// - HTTP/1.1 needs exactly one Host header; HTTP/1.0 at most one (RFC 9112 §3.2).
// - Transfer-Encoding: only "chunked" is decoded. Chunked not last, or applied twice -> 400
//   (§6.3); other codings before chunked -> 501 (§6.1); with Content-Length, or in HTTP/1.0
//   -> 400 (§6.1, §6.3).
// - Head size counts every byte from data[0] through the blank line, including skipped empty
//   lines. Trailers get their own max_header_bytes / max_headers budget (431) and are
//   discarded. Chunk framing (size lines, extensions, CRLFs) may use at most
//   max_body_bytes + 64 KiB beyond the decoded bytes (413), so a chunked request never holds
//   more than about 2 * max_body_bytes + 64 KiB + trailers of the caller's buffer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "http/request.hpp"
#include "http/status.hpp"

namespace relay::http {

struct parser_limits {
  size_t max_header_bytes = size_t{16} * 1024;  // request line + headers -> 431 when exceeded
  size_t max_body_bytes = size_t{1024} * 1024;  // -> 413
  size_t max_headers = 100;                     // -> 431
};

enum class parse_status : uint8_t { incomplete, complete, error };

struct parse_result {
  parse_status state = parse_status::incomplete;
  size_t consumed = 0;        // complete: bytes of data used by this request
  status error = status::ok;  // error: 400, 413, 431, 501 (unsupported transfer-coding),
                              // 505 (version); 500 if the caller broke the contract above
};

class request_parser {
 public:
  explicit request_parser(parser_limits limits = {}) noexcept : limits_(limits) {}
  parse_result parse(std::span<char> data, request& req);
  void reset() noexcept;

 private:
  enum class phase : uint8_t {
    start_line,      // skipping empty lines / scanning the request line
    headers,         // scanning header lines for the blank line
    body,            // no body or Content-Length body
    chunk_size,      // chunk-size [chunk-ext] CRLF
    chunk_data,      // copying chunk-data down to body_out_
    chunk_data_end,  // the CRLF after chunk-data
    trailers,        // trailer field lines up to the final blank line
    done,            // complete or error: result_ is returned until reset()
  };
  enum class step : uint8_t { need_more, done, failed };
  enum class framing : uint8_t { none, length, chunked };

  // What the header fields said so far; decides framing (RFC 9112 §6.3) and persistence
  // (§9.3) once the head is complete.
  struct field_facts {
    uint64_t content_length = 0;
    size_t hosts = 0;
    size_t chunked_codings = 0;
    size_t other_codings = 0;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    bool chunked_last = false;
    bool connection_close = false;
    bool connection_keep_alive = false;
  };

  parse_result fail(status s) noexcept;
  step scan_head(std::span<const char> data, request& req);
  status note_field(const header_field& field) noexcept;
  status finish_head(request& req) noexcept;
  void refill(std::span<const char> data, request& req) const;
  step decode_chunked(std::span<char> data);
  parse_result finish(std::span<char> data, request& req, bool head_fresh, size_t consumed,
                      size_t body_size);

  parser_limits limits_;
  phase phase_ = phase::start_line;
  parse_result result_{};
  size_t size_seen_ = 0;      // data.size() on the last call: it may only grow
  size_t line_start_ = 0;     // start of the line being scanned (chunk_data: read position)
  size_t scan_pos_ = 0;       // memchr resumes here: [line_start_, scan_pos_) holds no LF
  size_t head_start_ = 0;     // the request line (after skipped empty lines)
  size_t head_end_ = 0;       // one past the blank line that ends the head
  size_t trailer_start_ = 0;  // first byte after the last chunk's size line
  field_facts facts_;
  framing framing_ = framing::none;
  bool keep_alive_ = true;
  int version_minor_ = 1;     // of the request line; `req` may be cleared between calls
  uint64_t chunk_left_ = 0;   // data bytes still to come in the current chunk
  size_t body_out_ = 0;       // chunked: where the next decoded byte is written
  size_t lines_ = 0;          // header or trailer field lines seen
  uint32_t empty_lines_ = 0;  // empty lines skipped before the request line
};

}  // namespace relay::http
