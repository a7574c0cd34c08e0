#pragma once
// One epoll loop per thread (DESIGN.md "loop per core, share nothing"). Everything registered
// with a loop is touched only by the loop's thread, except post() and stop(), which any thread
// may call.
//
// One iteration: epoll_wait (timeout = next timer) -> I/O callbacks -> posted tasks -> due
// timers -> end-of-iteration hooks (write corking: sockets flush here, one write each) ->
// deferred frees. Objects closed during an iteration are freed only after it, never inside a
// callback (uSockets / Redis freeClientAsync).
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/mpsc_queue.hpp"
#include "core/timer_wheel.hpp"

namespace relay::core {

class io_handler {
 public:
  virtual void on_io(uint32_t epoll_events) = 0;

 protected:
  ~io_handler() = default;
};

// Work posted from another thread. The loop takes ownership and deletes it after run().
struct task : mpsc_node {
  virtual ~task() = default;
  virtual void run() = 0;
};

// Something that wants a call at the end of the iteration (a corked socket).
class flushable {
 public:
  virtual void flush() = 0;
  bool flush_pending = false;

 protected:
  ~flushable() = default;
};

// Something to destroy after the iteration (a closed connection).
class deferred_deletable {
 public:
  virtual ~deferred_deletable() = default;
};

class event_loop {
 public:
  event_loop();  // throws std::system_error if epoll/eventfd cannot be created (start-up only)
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Registration; fd must be non-blocking. Return 0 or -errno.
  int add(int fd, io_handler* h, uint32_t events) noexcept;
  int modify(int fd, io_handler* h, uint32_t events) noexcept;
  void remove(int fd) noexcept;

  // Runs until stop(); must be called on the owning thread. A stop() that arrives before
  // run() makes it return after one iteration. Once run() returns the loop may run again.
  void run();
  void stop() noexcept;  // any thread
  // A stop() is pending (not yet consumed by run() returning).
  bool stopping() const noexcept { return stop_.load(std::memory_order_acquire); }

  // Any thread: runs t on this loop's thread during its next iteration, in FIFO order per
  // producer. Tasks still queued when the loop is destroyed are deleted without running.
  void post(std::unique_ptr<task> t) noexcept;
  void post(std::function<void()> fn);

  // Loop thread only.
  timer_wheel& timers() noexcept { return timers_; }
  uint64_t now_ms() const noexcept { return now_ms_; }  // cached at the start of the iteration
  void request_flush(flushable* f);          // f->flush() at the end of this iteration, once
  void defer_delete(deferred_deletable* d);  // deleted after this iteration
  // Called at the end of every iteration (before socket flushes), e.g. to post batched
  // broadcasts to other loops.
  void add_iteration_hook(std::function<void()> hook);

  // The loop whose thread is the caller, or null.
  static event_loop* current() noexcept;
  // The clock of now_ms(), read afresh (any thread).
  static uint64_t monotonic_ms() noexcept;
  // Per-loop scratch receive buffer for read(): sockets parse in place from it.
  uint8_t* recv_buffer() noexcept { return recv_buffer_.get(); }
  static constexpr size_t kRecvBufferSize = 512 * 1024;

 private:
  void run_posted();
  void end_iteration();
  void delete_deferred();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_{false};
  uint64_t now_ms_;
  timer_wheel timers_;
  mpsc_queue posted_;
  std::vector<flushable*> to_flush_;
  std::vector<flushable*> flushing_;
  std::vector<deferred_deletable*> to_delete_;
  std::vector<deferred_deletable*> deleting_;
  // A deque: a hook may add a hook, and push_back must not move the one that is running.
  std::deque<std::function<void()>> hooks_;
  std::unique_ptr<uint8_t[]> recv_buffer_;
};

}  // namespace relay::core
