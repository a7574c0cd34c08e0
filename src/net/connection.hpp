#pragma once
// A connected socket on one event loop: reads into the loop's shared receive buffer, queues
// output and flushes it once per loop iteration (corking), tracks buffered bytes, and stops
// reading when the peer does not keep up. Protocols (HTTP, WebSocket) derive from it.
//
// Lifetime: owned by its loop. close_*() unregisters the fd at once; the object is deleted
// after the current loop iteration, never inside a callback, so `this` stays valid until the
// callback that closed it returns.
//
// Thread safety: none; every call happens on the owning loop's thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <span>
#include <string_view>

#include "core/event_loop.hpp"
#include "core/shared_buffer.hpp"
#include "core/timer_wheel.hpp"
#include "net/out_queue.hpp"
#include "net/stream.hpp"

namespace relay::net {

class connection_list;

// Why a connection ended, for logs and metrics.
enum class close_reason : uint8_t {
  local,        // this side decided (protocol close, shutdown)
  peer_closed,  // EOF
  io_error,     // read/write error (ECONNRESET, EPIPE, ...)
  timeout,
  slow_consumer,
};

struct socket_options {
  uint32_t high_water = 256 * 1024;  // above this many queued bytes, stop reading from the peer
  uint32_t low_water = 32 * 1024;    // resume reading below this (both < 4 GiB)
};

class connection : public core::io_handler,
                   public core::flushable,
                   public core::deferred_deletable,
                   private core::timer {
 public:
  // Takes ownership of fd (non-blocking) and of the stream (null = plain TCP). fd may be -1
  // for a connection that will receive its socket through hand_over_to().
  connection(core::event_loop& loop, int fd, std::unique_ptr<stream> tls, socket_options opts);
  ~connection() override;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Registers with the loop (EPOLLIN). Returns false if epoll refused (the caller deletes).
  bool start();

  // --- output (corked: sent at the end of the loop iteration) ---
  void write(std::span<const uint8_t> bytes);
  void write(std::string_view s) {
    write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  uint8_t* write_uninitialized(size_t n);  // n bytes the caller fills immediately
  void write_shared(core::shared_buffer* buf, size_t off, size_t len);
  size_t buffered_bytes() const noexcept { return out_.bytes(); }

  // --- closing ---
  // Sends what is queued, then half-closes (FIN) and discards input until the peer closes or
  // kLingerMs pass, then closes. The protocol sees no more data.
  void close_after_flush();
  static constexpr uint32_t kLingerMs = 2000;
  // Closes now; queued output is dropped.
  void close_now(close_reason why = close_reason::local);
  bool closed() const noexcept { return fd_ < 0; }
  bool closing() const noexcept { return closing_; }

  core::event_loop& loop() const noexcept { return *loop_; }
  int fd() const noexcept { return fd_; }
  bool is_tls() const noexcept { return stream_ != &tcp_stream::instance(); }

  // Moves the socket (fd + stream + epoll registration + queued output) into `next`, which
  // was constructed with fd -1: HTTP -> WebSocket after an upgrade. This connection is then
  // finished (on_closed is not called) and deleted after the iteration.
  void hand_over_to(connection& next);

  // Gives the socket up without closing it, to be adopted by a connection on another loop:
  // unregisters it from epoll and returns the fd and the TLS stream (null for plain TCP). Only
  // when nothing is queued for output (flushed first); otherwise returns fd -1 and keeps the
  // socket. Afterwards this connection is finished (on_closed is not called) and freed after
  // the iteration.
  struct detached {
    int fd = -1;
    std::unique_ptr<stream> tls;
    detached() = default;
    detached(detached&& o) noexcept : fd(std::exchange(o.fd, -1)), tls(std::move(o.tls)) {}
    detached& operator=(detached&& o) noexcept {
      std::swap(fd, o.fd);
      std::swap(tls, o.tls);
      return *this;
    }
    ~detached();  // closes a socket nobody adopted
    int release() noexcept { return std::exchange(fd, -1); }
  };
  detached detach();

  // Intrusive membership in a per-loop list (for shutdown and stats).
  connection* list_prev = nullptr;
  connection* list_next = nullptr;
  connection_list* list = nullptr;

 protected:
  // Bytes just received, in the loop's receive buffer (mutable, valid during the call only).
  virtual void on_data(std::span<uint8_t> bytes) = 0;
  // The connection is gone (any reason); called exactly once, before deletion.
  virtual void on_closed(close_reason why) {}
  // Output fell to low water after being above high water (reading resumed).
  virtual void on_drain() {}
  // The connection's timer fired (see timer()).
  virtual void on_timer() {}

  // One timer per connection (idle / handshake / close timeouts); fires on_timer().
  core::timer& timer() noexcept { return *this; }
  void pause_reading();
  void resume_reading();
  // Writes what is queued (one writev). Overridable to act once output went out.
  void flush() override;

 private:
  void on_io(uint32_t events) override;
  void handle_readable();
  void update_events();
  void after_write();
  void start_lingering();
  void discard_input();
  static void timer_trampoline(core::timer& t);

  core::event_loop* loop_;
  stream* stream_;  // tcp_stream::instance() or an owned TLS stream
  int fd_;
  uint32_t events_ = 0;  // currently registered epoll events
  bool closing_ = false;
  bool paused_ = false;
  bool registered_ = false;
  bool lingering_ = false;  // output done, FIN sent, draining input before close
  socket_options opts_;
  out_queue out_;
};

// Intrusive list of a loop's connections (no allocation per connection).
class connection_list {
 public:
  void insert(connection* c) noexcept;
  void erase(connection* c) noexcept;
  size_t size() const noexcept { return size_; }
  template <class F>
  void for_each(F&& f) {
    for (connection* c = head_; c != nullptr;) {
      connection* next = c->list_next;  // f may erase c
      f(*c);
      c = next;
    }
  }

 private:
  connection* head_ = nullptr;
  size_t size_ = 0;
};

}  // namespace relay::net
