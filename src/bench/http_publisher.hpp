#pragma once
// The publish scenario's publisher: `POST /api/publish` at a steady rate over a few
// keep-alive HTTP/1.1 connections, on its own thread and epoll loop (the subscribers'
// workers never wait for it, nor it for them).
//
// Pacing is open loop: publish k is due at start + k / rate whatever the server does (a
// closed loop would slow down with the server and hide its queueing). Each connection has at
// most one request in flight (no pipelining: servers need not support it); a publish that is
// due while every connection waits for its answer goes out as soon as one is free, and the
// delay from its due time to its send is recorded (publish_lag, publish_behind): a rate the
// publisher could not hold shows there, and as a published rate below the target.
//
// Every request's body is {"room": ROOM, "data": "<stamp><filler>"}: the stamp is the send
// time (payload_stamp.hpp, taken right before send()), which the subscribers subtract from
// their receive time. A publish counts (stats().sent) when it was sent inside the measured
// window and answered 200; any other answer is an http error, and a request still
// unanswered when the drain ends (or whose connection died) is counted as unanswered.
//
// Life of a run: connecting (every connection opened; one failure stops the run) -> ready
// (live().ready) -> running from control.start_ns until the window's end -> draining (no
// more sends; answers awaited for drain_s) -> done.
//
// Thread safety: as load_worker: live() is read by main while the thread runs, stats() only
// after it has joined.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/run_config.hpp"

namespace relay::bench {

class http_publisher {
 public:
  http_publisher(const run_config& config, run_control& control);
  ~http_publisher();
  http_publisher(const http_publisher&) = delete;
  http_publisher& operator=(const http_publisher&) = delete;

  void run() noexcept;  // the thread body

  const run_stats& stats() const noexcept { return stats_; }
  live_counters& live() noexcept { return live_; }

  // The request, built once per run, and where the stamp goes in it (exposed for tests).
  struct request_template {
    std::string bytes;
    size_t stamp_at = 0;
  };
  static request_template make_request(const run_config& config);

 private:
  struct http_connection;
  enum class phase : uint8_t { connecting, ready, running, draining, done };

  void step(uint64_t now);
  int64_t wait_ns(uint64_t now) const noexcept;
  void handle_event(uint64_t data, uint32_t events);
  void send_due(uint64_t now);
  void start_connect(http_connection& c, uint64_t now);
  void on_connected(http_connection& c, uint64_t now);
  void on_readable(http_connection& c);
  void on_answer(http_connection& c, int status, bool keep_alive, uint64_t now);
  void on_lost(http_connection& c, uint64_t now);
  void flush(http_connection& c, uint64_t now);
  void set_writable_interest(http_connection& c, bool on) noexcept;
  void drop(http_connection& c) noexcept;
  http_connection* idle_connection() noexcept;
  bool in_window(uint64_t t) const noexcept { return t >= measure_from_ && t < end_; }

  const run_config& config_;
  run_control& control_;
  run_stats stats_;
  live_counters live_;
  request_template request_;

  int epoll_fd_ = -1;
  std::unique_ptr<uint8_t[]> read_buffer_;
  std::vector<http_connection> conns_;
  size_t next_conn_ = 0;  // round robin, so that no keep-alive connection idles out

  phase phase_ = phase::connecting;
  uint64_t start_ = 0;
  uint64_t measure_from_ = 0;
  uint64_t end_ = 0;
  uint64_t drain_end_ = 0;
  uint64_t scheduled_ = 0;  // publishes sent so far; the next is due at start + scheduled / rate
  uint64_t next_due_ = 0;
  uint64_t total_published_ = 0;  // whole run, for the progress line
  uint32_t unsettled_ = 0;        // set-up: connections neither open nor failed
};

}  // namespace relay::bench
