#pragma once
// An HTTP/1.1 server connection: parses requests (keep-alive, pipelining), routes them, and
// enforces the header/body limits and the request timeout (slowloris -> 408).
//
// Requests are parsed straight from the loop's receive buffer when they arrive whole; only a
// partial request is copied into a per-connection buffer, which is freed once drained.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"
#include "net/connection.hpp"

namespace relay::http {

struct session_options {
  parser_limits limits;
  uint32_t request_timeout_ms = 10'000;     // a started request must be complete by then -> 408
  uint32_t keep_alive_timeout_ms = 60'000;  // idle between requests -> close
  net::socket_options socket;
};

struct session_stats {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 4xx/5xx produced by the parser or timeouts
};

class http_session;

// Whoever holds a request open (a long-polling GET) learns here if the connection goes away
// before it answered.
class held_request_owner {
 public:
  virtual void on_held_request_aborted(http_session& session) = 0;

 protected:
  ~held_request_owner() = default;
};

class http_session final : public net::connection {
 public:
  http_session(core::event_loop& loop, int fd, std::unique_ptr<net::stream> tls,
               const session_options& options, const router& routes, session_stats* stats);

  // Arms the request timer; call after start().
  void begin();

  // Answers the current request. The connection stays open if the request allowed
  // keep-alive and `ka` says so.
  void respond(status s, std::string_view content_type, std::string_view body,
               std::string_view extra_headers = {}, keep_alive ka = keep_alive::yes);
  // Answers with an error and closes after sending it.
  void respond_error(status s, std::string_view extra_headers = {});
  // Raw bytes (an already-formatted response).
  void respond_raw(std::string_view bytes, keep_alive ka);

  // Keeps the current request open after its handler returns: the answer comes later, from
  // another event (long-polling). Until a respond*() call the session processes no further
  // request (HTTP/1.1 answers in order; pipelined bytes wait, bounded), the request timeout is
  // off (the owner has its own), and if the connection closes the owner's
  // on_held_request_aborted() runs instead. The owner must outlive the hold or call unhold().
  void hold(held_request_owner& owner);
  bool held() const noexcept { return held_by_ != nullptr; }
  // Forgets the owner without answering (the owner is going away; the connection closes).
  void unhold() noexcept { held_by_ = nullptr; }

  // From inside a handler: takes the socket away (see net::connection::detach) together with
  // the bytes of the current request and of everything received after it, so that a session
  // on another loop can parse it again. Fails (fd -1, session untouched) for a request whose
  // body was de-chunked in place, or if output is still queued.
  struct migration {
    net::connection::detached socket;
    std::string bytes;
  };
  migration migrate_current_request();
  // Feeds bytes as if received (a migrated connection's first bytes).
  void feed(std::span<uint8_t> bytes) { on_data(bytes); }

 private:
  void on_data(std::span<uint8_t> bytes) override;
  void on_timer() override;
  void on_closed(net::close_reason why) override;
  void flush() override;
  // After a held request was answered: reads what waited, re-arms the timers.
  void resume_after_hold();
  void answered_hold();
  // Parses and dispatches every complete request in data; returns bytes consumed.
  size_t process(std::span<char> data);

  const session_options* options_;
  const router* routes_;
  session_stats* stats_;
  request_parser parser_;
  request req_;
  std::vector<char> pending_;  // partial request bytes, empty when idle
  bool current_keep_alive_ = true;
  uint64_t served_ = 0;
  bool in_request_ = false;  // bytes of a request received, not complete yet
  bool served_any_ = false;
  bool resume_pending_ = false;  // a held request was answered; resume at the next flush
  held_request_owner* held_by_ = nullptr;
  std::span<const char> current_raw_;  // during a handler: its request's bytes and the rest
};

}  // namespace relay::http
