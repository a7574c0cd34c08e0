#pragma once
// One load-generating thread: a dedicated, lean epoll loop over its share of the connections
// (the load generator must never be the bottleneck, so it does not use the server's event
// loop and its generality).
//
// Per iteration: epoll_wait -> for each ready socket, one recv() into the thread's receive
// buffer, frames parsed in place (server_frame_reader keeps no payload), replies appended to
// the connection's out_buffer, then that connection (and any other one the event made
// writable, e.g. the publisher when the probe subscriber hears back) is flushed with one
// send(). Flushing right after the event, rather than at the end of the iteration, keeps the
// time between stamping a message and sending it to one event's work.
//
// Life of a run (driven by run_control, owned by main):
//   connecting -> ready (every connection open or failed; live().ready) -> running (from
//   control.start_ns: traffic; counted only inside [start + warmup, start + warmup +
//   duration)) -> closing (close handshake on every connection, bounded wait) -> done.
//
// Thread safety: everything here belongs to the worker's thread, except live(), whose atomics
// main reads, and stats(), which main reads only after the thread has joined.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/mask_source.hpp"
#include "bench/run_config.hpp"
#include "ws/opcode.hpp"

namespace relay::bench {

struct message_view;
struct sio_packet;

struct worker_share {
  uint32_t count = 0;  // echo/idle connections, plain subscribers, or handshake slots
  // broadcast: this worker also runs the probe subscriber (connected after every plain
  // subscriber of every worker, so a fan-out in subscription order reaches it last) and the
  // publisher, which the probe paces.
  bool publisher = false;
  uint32_t plain_subscribers_total = 0;
};

class load_worker {
 public:
  load_worker(const run_config& config, run_control& control, worker_share share);
  ~load_worker();
  load_worker(const load_worker&) = delete;
  load_worker& operator=(const load_worker&) = delete;

  void run() noexcept;  // the thread body; returns once every connection is closed

  const run_stats& stats() const noexcept { return stats_; }
  live_counters& live() noexcept { return live_; }

 private:
  struct connection;
  struct frame_sink;
  enum class phase : uint8_t { connecting, ready, running, closing, done };

  void step(uint64_t now);
  int wait_timeout_ms(uint64_t now) const noexcept;
  void handle_event(uint64_t data, uint32_t events);
  void scan_deadlines(uint64_t now);
  void begin_traffic(uint64_t now);
  void begin_closing(uint64_t now);
  void publish_live() noexcept;

  void start_connect(connection& c, uint64_t now);
  void on_connect_result(connection& c, uint64_t now);
  void on_readable(connection& c);
  void on_upgrade_bytes(connection& c, const uint8_t* data, size_t len, uint64_t now);
  void feed(connection& c, const uint8_t* data, size_t len, uint64_t now);
  void on_ws_open(connection& c, uint64_t now);
  void become_open(connection& c, uint64_t now);
  void on_eof(connection& c, uint64_t now);
  void on_socket_error(connection& c, int err, uint64_t now);
  void fail(connection& c, uint64_t now);
  void finish(connection& c, uint64_t now);
  void drop(connection& c) noexcept;
  void settle(connection& c, bool opened) noexcept;

  bool on_message(connection& c, const message_view& m, uint64_t now);
  bool on_sio_message(connection& c, const message_view& m, uint64_t now);
  void on_sio_event(connection& c, const message_view& m, const sio_packet& p, uint64_t now);
  void on_sio_disconnect(connection& c, uint64_t now);
  bool on_room_message(connection& c, const message_view& m, const sio_packet& p, uint64_t now);
  void count_publish_delivery(const uint8_t* stamp, uint64_t now) noexcept;
  void on_workload_message(connection& c, bool matches, uint64_t length, const uint8_t* stamp,
                           uint64_t now);
  bool on_control(connection& c, ws::opcode op, const uint8_t* payload, size_t length,
                  uint64_t now);
  void count_delivery(uint64_t length, const uint8_t* stamp, uint64_t now) noexcept;
  void send_message(connection& c, uint64_t now);
  void send_frame(connection& c, ws::opcode op, const uint8_t* payload, size_t length);
  void queue_flush(connection& c);
  void flush_queued(uint64_t now);
  void flush(connection& c, uint64_t now);
  void set_writable_interest(connection& c, bool on) noexcept;
  bool in_window(uint64_t now) const noexcept { return now >= measure_from_ && now < end_; }
  bool sending(uint64_t now) const noexcept { return phase_ == phase::running && now < end_; }

  const run_config& config_;
  run_control& control_;
  worker_share share_;
  run_stats stats_;
  live_counters live_;

  int epoll_fd_ = -1;
  std::unique_ptr<uint8_t[]> read_buffer_;
  std::vector<connection> conns_;
  std::vector<uint32_t> flush_list_;
  std::vector<uint8_t> payload_;  // the data of a message; its first bytes become the stamp
  // What goes on the wire (the payload itself, or a Socket.IO event carrying it) and where
  // in it the stamp goes: echo connections send message_, the broadcast publisher
  // pub_message_.
  std::vector<uint8_t> message_;
  std::vector<uint8_t> pub_message_;
  size_t stamp_at_ = 0;
  size_t pub_stamp_at_ = 0;
  size_t reader_keep_ = 0;  // bytes of each message's start the frame reader keeps
  ws::opcode message_op_ = ws::opcode::text;
  // publish: the subscribers' CONNECT to the namespace and join request, and how long they
  // keep listening after the window.
  std::string room_connect_;
  std::string room_join_;
  uint64_t linger_ns_ = 0;
  mask_source masks_;

  phase phase_ = phase::connecting;
  uint64_t start_ = 0;
  uint64_t measure_from_ = 0;
  uint64_t end_ = 0;
  uint64_t close_deadline_ = 0;
  uint64_t next_scan_ = 0;

  // Set-up.
  std::vector<uint32_t> connect_queue_;
  size_t connect_next_ = 0;
  uint32_t in_progress_ = 0;  // set-up connects/upgrades under way
  uint32_t connect_limit_ = 1;
  uint32_t unsettled_ = 0;
  uint32_t plain_unsettled_ = 0;
  bool probe_started_ = false;

  // Broadcast pacing (publisher worker only).
  connection* probe_ = nullptr;
  connection* publisher_ = nullptr;
  uint64_t last_probe_ns_ = 0;

  uint64_t total_messages_ = 0;  // whole run, for the progress line
  uint32_t open_ = 0;
  uint32_t active_ = 0;  // connections with a socket
};

}  // namespace relay::bench
