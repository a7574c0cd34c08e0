#include "bench/http_publisher.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <span>

#include "bench/epoll_client.hpp"
#include "bench/http_response_reader.hpp"
#include "bench/out_buffer.hpp"
#include "bench/payload_stamp.hpp"

namespace relay::bench {
namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr int kMaxEvents = 64;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kBehindNs = 1 * kMs;  // a send later than this after its due time is "behind"

enum class http_state : uint8_t { unused, connecting, idle, busy };

uint64_t event_data(uint32_t index, uint32_t generation) noexcept {
  return (uint64_t{generation} << 32) | index;
}

}  // namespace

struct http_publisher::http_connection {
  int fd = -1;
  uint32_t index = 0;
  uint32_t generation = 0;  // bumped when fd is closed: stale events are ignored
  http_state state = http_state::unused;
  bool out_armed = false;
  bool settled = false;  // set-up: counted once, open or failed
  uint64_t sent_ns = 0;  // busy: the send time (= stamp) of the request in flight
  uint64_t deadline_ns = 0;
  out_buffer out;
  http_response_reader reader;
};

http_publisher::request_template http_publisher::make_request(const run_config& config) {
  // Printable filler as in load_worker: the data string needs no JSON escaping.
  std::string data(config.size, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
  const std::string body_head = "{\"room\":\"" + config.room + "\",\"data\":\"";
  const std::string body = body_head + data + "\"}";
  std::string head = "POST " + config.publish_url.path + " HTTP/1.1\r\nHost: " +
                     config.publish_url.host_header + "\r\n";
  if (!config.api_key.empty()) head += "Authorization: Bearer " + config.api_key + "\r\n";
  head += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n";
  request_template t;
  t.stamp_at = config.size >= kStampSize ? head.size() + body_head.size() : std::string::npos;
  t.bytes = head + body;
  return t;
}

http_publisher::http_publisher(const run_config& config, run_control& control)
    : config_(config), control_(control), request_(make_request(config)) {
  conns_.resize(std::max<uint32_t>(config_.publishers, 1));
  for (uint32_t i = 0; i < conns_.size(); ++i) conns_[i].index = i;
  unsettled_ = static_cast<uint32_t>(conns_.size());
}

http_publisher::~http_publisher() {
  for (http_connection& c : conns_)
    if (c.fd >= 0) ::close(c.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void http_publisher::run() noexcept {
  epoll_fd_ = open_epoll_or_give_up(control_, live_);
  if (epoll_fd_ < 0) return;
  read_buffer_ = std::make_unique_for_overwrite<uint8_t[]>(kReadBufferSize);
  // The default 50 us timer slack would delay every paced wake-up by that much.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const uint64_t now = monotonic_ns();
  for (http_connection& c : conns_) start_connect(c, now);
  epoll_event events[kMaxEvents];
  while (true) {
    const uint64_t t = monotonic_ns();
    step(t);
    if (phase_ == phase::done) break;
    // Nanosecond timeouts (epoll_pwait2, Linux 5.11): a millisecond-rounded wait would send
    // the publishes of a fast rate in bursts.
    const int64_t wait = wait_ns(t);
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    const int n = epoll_pwait2(epoll_fd_, events, kMaxEvents, &ts, nullptr);
    for (int i = 0; i < n; ++i) handle_event(events[i].data.u64, events[i].events);
    live_.messages.store(total_published_, std::memory_order_relaxed);
    live_.errors.store(stats_.errors(), std::memory_order_relaxed);
  }
  for (http_connection& c : conns_) drop(c);
  live_.ready.store(true);
  live_.done.store(true, std::memory_order_release);
}

void http_publisher::step(uint64_t now) {
  const bool stop = control_.stop.load(std::memory_order_relaxed);
  switch (phase_) {
    case phase::connecting:
      for (http_connection& c : conns_) {
        if (c.state == http_state::connecting && now >= c.deadline_ns) {
          ++stats_.timeouts;
          drop(c);
          if (!c.settled) {
            c.settled = true;
            --unsettled_;
            live_.failed.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
      if (live_.failed.load(std::memory_order_relaxed) > 0) control_.stop.store(true);
      if (stop || unsettled_ == 0) {
        phase_ = stop ? phase::done : phase::ready;
        live_.ready.store(true, std::memory_order_release);
      }
      break;
    case phase::ready: {
      if (stop) {
        phase_ = phase::done;
        break;
      }
      const uint64_t start = control_.start_ns.load(std::memory_order_acquire);
      if (start == 0) break;
      start_ = start;
      measure_from_ = start + static_cast<uint64_t>(config_.warmup_s * 1e9);
      end_ = measure_from_ + static_cast<uint64_t>(config_.duration_s * 1e9);
      drain_end_ = end_ + static_cast<uint64_t>(config_.drain_s * 1e9);
      next_due_ = start_;
      phase_ = phase::running;
      send_due(now);
      break;
    }
    case phase::running:
      if (stop || now >= end_) {
        phase_ = phase::draining;
      } else {
        send_due(now);
        break;
      }
      [[fallthrough]];
    case phase::draining: {
      bool waiting = false;
      for (const http_connection& c : conns_) waiting |= c.state == http_state::busy;
      if (!waiting || stop || now >= drain_end_) {
        for (const http_connection& c : conns_)
          if (c.state == http_state::busy) ++stats_.unanswered;
        phase_ = phase::done;
      }
      break;
    }
    case phase::done:
      break;
  }
}

int64_t http_publisher::wait_ns(uint64_t now) const noexcept {
  switch (phase_) {
    case phase::connecting:
      return 10 * static_cast<int64_t>(kMs);
    case phase::ready:
      return 1 * static_cast<int64_t>(kMs);  // how fast the publisher notices start_ns
    case phase::running: {
      uint64_t until = end_;
      // Wake for the next due publish when a connection can take it; otherwise an answer
      // (an epoll event) is what can unblock it.
      for (const http_connection& c : conns_) {
        if (c.state == http_state::idle) {
          until = std::min(until, next_due_);
          break;
        }
      }
      return until > now ? static_cast<int64_t>(std::min<uint64_t>(until - now, 100 * kMs)) : 0;
    }
    case phase::draining:
      return drain_end_ > now ? static_cast<int64_t>(std::min<uint64_t>(drain_end_ - now, 10 * kMs))
                              : 0;
    case phase::done:
      return 0;
  }
  return static_cast<int64_t>(kMs);
}

http_publisher::http_connection* http_publisher::idle_connection() noexcept {
  for (size_t i = 0; i < conns_.size(); ++i) {
    http_connection& c = conns_[(next_conn_ + i) % conns_.size()];
    if (c.state == http_state::idle) {
      next_conn_ = (c.index + 1) % conns_.size();
      return &c;
    }
  }
  return nullptr;
}

// Sends every publish that is due, as long as a connection is free.
void http_publisher::send_due(uint64_t now) {
  while (next_due_ <= now && next_due_ < end_) {
    http_connection* c = idle_connection();
    if (c == nullptr) return;  // all busy: the next answer frees one
    const uint64_t sent = monotonic_ns();
    const uint64_t lag = sent - next_due_;
    if (in_window(sent)) {
      stats_.publish_lag.record(lag);
      if (lag > kBehindNs) ++stats_.publish_behind;
    }
    uint8_t* p = c->out.reserve(request_.bytes.size());
    std::memcpy(p, request_.bytes.data(), request_.bytes.size());
    if (request_.stamp_at != std::string::npos) encode_stamp(sent, p + request_.stamp_at);
    c->out.commit(request_.bytes.size());
    c->state = http_state::busy;
    c->sent_ns = sent;
    ++total_published_;
    ++scheduled_;
    next_due_ = start_ + static_cast<uint64_t>(static_cast<double>(scheduled_) * 1e9 / config_.rate);
    flush(*c, sent);
    now = std::max(now, sent);
  }
}

void http_publisher::start_connect(http_connection& c, uint64_t now) {
  const int fd = start_tcp_connect(config_.publish_url.address, config_.publish_url.address_len);
  if (fd < 0) {
    stats_.last_connect_errno = errno;
    ++stats_.connect_errors;
    c.state = http_state::unused;
    c.deadline_ns = now;  // set-up: fails at the next step; running: retried below
    if (phase_ == phase::connecting && !c.settled) {
      c.settled = true;
      --unsettled_;
      live_.failed.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  c.fd = fd;
  ++c.generation;
  c.state = http_state::connecting;
  c.deadline_ns = now + static_cast<uint64_t>(config_.timeout_s * 1e9);
  c.out.clear();
  c.reader.reset();
  c.out_armed = true;
  if (!watch_connecting(epoll_fd_, fd, event_data(c.index, c.generation))) {
    ++stats_.connect_errors;
    drop(c);
  }
}

void http_publisher::handle_event(uint64_t data, uint32_t events) {
  const uint32_t index = static_cast<uint32_t>(data);
  if (index >= conns_.size()) return;
  http_connection& c = conns_[index];
  if (c.generation != static_cast<uint32_t>(data >> 32) || c.fd < 0) return;
  const uint32_t generation = c.generation;
  if (c.state == http_state::connecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c, monotonic_ns());
    return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
  if ((events & EPOLLOUT) && c.generation == generation && c.fd >= 0) flush(c, monotonic_ns());
  if (phase_ == phase::running) send_due(monotonic_ns());
}

void http_publisher::on_connected(http_connection& c, uint64_t now) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) {
    stats_.last_connect_errno = err;
    ++stats_.connect_errors;
    drop(c);
    if (phase_ == phase::connecting && !c.settled) {
      c.settled = true;
      --unsettled_;
      live_.failed.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  set_writable_interest(c, false);
  c.state = http_state::idle;
  live_.open.fetch_add(1, std::memory_order_relaxed);
  if (!c.settled) {
    c.settled = true;
    --unsettled_;
  }
  if (phase_ == phase::running) send_due(now);
}

void http_publisher::on_readable(http_connection& c) {
  const ssize_t r = ::recv(c.fd, read_buffer_.get(), kReadBufferSize, 0);
  const uint64_t now = monotonic_ns();
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (r > 0) {
    std::span<const uint8_t> in(read_buffer_.get(), static_cast<size_t>(r));
    while (!in.empty()) {
      const http_read_status s = c.reader.feed(in);
      if (s == http_read_status::need_more) return;
      if (s == http_read_status::error) {
        ++stats_.http_errors;
        if (c.state == http_state::busy) c.state = http_state::idle;  // answered, badly
        on_lost(c, now);
        return;
      }
      const uint32_t generation = c.generation;
      on_answer(c, c.reader.response().status, c.reader.response().keep_alive, now);
      if (c.generation != generation || c.fd < 0) return;
    }
    return;
  }
  // EOF or a socket error: a body that runs until close ends here.
  if (r == 0 && c.reader.on_eof() == http_read_status::response) {
    const uint32_t generation = c.generation;
    on_answer(c, c.reader.response().status, false, now);
    if (c.generation != generation || c.fd < 0) return;
  }
  on_lost(c, now);
}

void http_publisher::on_answer(http_connection& c, int status, bool keep_alive, uint64_t now) {
  if (c.state != http_state::busy) {
    ++stats_.protocol_errors;  // an answer to no request
    on_lost(c, now);
    return;
  }
  if (status != 200)
    ++stats_.http_errors;
  else if (in_window(c.sent_ns))
    ++stats_.sent;
  c.state = http_state::idle;
  if (!keep_alive) {
    drop(c);
    if (phase_ == phase::running) start_connect(c, now);
  }
}

// The connection ended (or failed) under us: a request in flight is lost; an idle one (the
// server's keep-alive timeout) is simply replaced while publishes are still to be sent.
void http_publisher::on_lost(http_connection& c, uint64_t now) {
  if (c.state == http_state::busy) {
    ++stats_.unanswered;
    ++stats_.closed;
  }
  drop(c);
  if (phase_ == phase::running) start_connect(c, now);
}

void http_publisher::flush(http_connection& c, uint64_t now) {
  if (c.fd < 0) return;
  const std::optional<bool> want_writable = send_pending(c.fd, c.out);
  if (!want_writable) return on_lost(c, now);
  if (*want_writable != c.out_armed) set_writable_interest(c, *want_writable);
}

void http_publisher::set_writable_interest(http_connection& c, bool on) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = event_data(c.index, c.generation);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.out_armed = on;
}

void http_publisher::drop(http_connection& c) noexcept {
  if (c.fd >= 0) {
    ::close(c.fd);
    if (c.state == http_state::idle || c.state == http_state::busy)
      live_.open.fetch_sub(1, std::memory_order_relaxed);
  }
  c.fd = -1;
  ++c.generation;
  c.state = http_state::unused;
  c.out_armed = false;
  c.out.clear();
  c.reader.reset();
}

}  // namespace relay::bench
