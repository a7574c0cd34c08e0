#include "core/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace relay::core {
namespace {

thread_local event_loop* tls_current_loop = nullptr;

struct function_task final : task {
  explicit function_task(std::function<void()> f) : fn(std::move(f)) {}
  void run() override { fn(); }
  std::function<void()> fn;
};

// Wake-ups arrive as epoll events whose data.ptr is this sentinel.
struct wake_marker final : io_handler {
  void on_io(uint32_t) override {}
};
wake_marker kWakeMarker;

constexpr int kMaxEvents = 512;

}  // namespace

event_loop::event_loop()
    : now_ms_(monotonic_ms()),
      timers_(now_ms_),
      recv_buffer_(new uint8_t[kRecvBufferSize]) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kWakeMarker;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    throw std::system_error(errno, std::system_category(), "epoll_ctl(eventfd)");
  }
}

event_loop::~event_loop() {
  // Work still queued is deleted, not run: run() has returned, and what a task points to
  // (connections, the loop's owner) may already be gone. Its destructor releases what it holds.
  while (mpsc_node* n = posted_.pop()) delete static_cast<task*>(n);
  delete_deferred();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

uint64_t event_loop::monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

event_loop* event_loop::current() noexcept { return tls_current_loop; }

int event_loop::add(int fd, io_handler* h, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int event_loop::modify(int fd, io_handler* h, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void event_loop::remove(int fd) noexcept { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void event_loop::stop() noexcept {
  stop_.store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void event_loop::post(std::unique_ptr<task> t) noexcept {
  posted_.push(t.release());
  // Only a sleeping loop needs the eventfd write; an awake one drains the queue each iteration.
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
}

void event_loop::post(std::function<void()> fn) {
  post(std::make_unique<function_task>(std::move(fn)));
}

void event_loop::request_flush(flushable* f) {
  if (f->flush_pending) return;
  f->flush_pending = true;
  to_flush_.push_back(f);
}

void event_loop::defer_delete(deferred_deletable* d) { to_delete_.push_back(d); }

void event_loop::add_iteration_hook(std::function<void()> hook) {
  hooks_.push_back(std::move(hook));
}

void event_loop::run_posted() {
  while (mpsc_node* n = posted_.pop()) {
    task* t = static_cast<task*>(n);
    t->run();
    delete t;
  }
}

void event_loop::end_iteration() {
  // By index: a hook may add another hook (iterators would be invalidated, references not).
  for (size_t i = 0; i < hooks_.size(); ++i) hooks_[i]();
  // A flush may request more flushes (e.g. a close frame queued while flushing); loop until
  // quiet, swapping vectors so that the list being walked is never appended to.
  while (!to_flush_.empty()) {
    flushing_.swap(to_flush_);
    for (flushable* f : flushing_) {
      f->flush_pending = false;
      f->flush();
    }
    flushing_.clear();
  }
  delete_deferred();
}

void event_loop::delete_deferred() {
  // A destructor may defer more deletions (a connection freeing a child): walk a swapped-out
  // batch so the vector being iterated is never appended to, until none are left.
  while (!to_delete_.empty()) {
    deleting_.swap(to_delete_);
    for (deferred_deletable* d : deleting_) delete d;
    deleting_.clear();
  }
}

void event_loop::run() {
  tls_current_loop = this;
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_acquire)) {
    int64_t timeout = timers_.next_timeout_ms(now_ms_);
    // Announce sleep, then re-check the queue: a producer that pushed before seeing
    // sleeping_=true is caught here, one that pushes after it writes the eventfd. Both sides
    // are seq_cst (store + queue-head load here, head exchange + flag exchange in post()), so
    // one of them must see the other; no fence needed.
    sleeping_.store(true, std::memory_order_seq_cst);
    if (!posted_.empty()) timeout = 0;
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout > INT32_MAX ? INT32_MAX
                                                                          : static_cast<int>(timeout));
    sleeping_.store(false, std::memory_order_relaxed);
    now_ms_ = monotonic_ms();
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<io_handler*>(events[i].data.ptr);
      if (h == &kWakeMarker) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
        continue;
      }
      h->on_io(events[i].events);
    }
    run_posted();
    timers_.advance(now_ms_);
    end_iteration();
  }
  // Give posted work and pending flushes a last chance (e.g. close frames during shutdown).
  run_posted();
  end_iteration();
  tls_current_loop = nullptr;
  // Consumed: the loop can be run again (tests drive one loop through several run() calls).
  stop_.store(false, std::memory_order_release);
}

}  // namespace relay::core
