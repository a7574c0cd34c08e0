#pragma once
// A streaming HTTP/1.1 response parser for the publish scenario's HTTP client, sans-IO: bytes
// in, complete responses out (status and whether the connection stays open). Bodies are
// skipped, not kept: the publisher only needs to know that a publish was answered and how.
//
// Framing (RFC 9112 §6.3): no body for 1xx (skipped: a final response follows), 204 and 304;
// otherwise Transfer-Encoding: chunked (chunk extensions and trailers skipped), else
// Content-Length, else the body runs until the server closes (on_eof() completes it).
// Persistence (§9.3): HTTP/1.1 keeps the connection unless `Connection: close`; HTTP/1.0
// closes it unless `Connection: keep-alive`. A response to HEAD is not supported (the
// publisher only POSTs).
//
// Not thread-safe; one reader per connection, reset() when the connection is replaced.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace relay::bench {

enum class http_read_status : uint8_t {
  need_more,  // all input consumed, no complete response yet
  response,   // a response is complete (see response()); the input may hold more bytes
  error,      // malformed; the connection must be dropped (the reader stays failed)
};

struct http_response_info {
  int status = 0;
  bool keep_alive = true;
};

class http_response_reader {
 public:
  // Consumes bytes from the front of `in` (shrinking it) up to the end of one response.
  http_read_status feed(std::span<const uint8_t>& in);
  // The server closed the connection: completes a body that runs until close.
  http_read_status on_eof();

  // The last complete response (valid after feed/on_eof returned `response`).
  const http_response_info& response() const noexcept { return response_; }
  // Bytes of a response under way: a response cut at EOF with this true was lost.
  bool in_progress() const noexcept { return state_ != state::head || !head_.empty(); }
  void reset() noexcept;

  static constexpr size_t kMaxHead = 16 * 1024;

 private:
  enum class state : uint8_t {
    head,
    body_length,
    body_until_close,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailer,
    failed
  };
  http_read_status parse_head();
  http_read_status finish();
  bool take_line(std::span<const uint8_t>& in, std::string* line, bool* complete);

  state state_ = state::head;
  std::string head_;
  std::string line_;
  uint64_t remaining_ = 0;
  http_response_info pending_;
  http_response_info response_;
};

}  // namespace relay::bench
