#include "net/connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace relay::net {
namespace {
constexpr int kMaxIov = 64;  // per writev; the rest goes on the next pass
}

connection::connection(core::event_loop& loop, int fd, std::unique_ptr<stream> tls,
                       socket_options opts)
    : loop_(&loop),
      stream_(tls ? tls.release() : &tcp_stream::instance()),
      fd_(fd),
      opts_(opts) {
  core::timer::fire = &connection::timer_trampoline;
}

connection::~connection() {
  if (fd_ >= 0) {
    if (registered_) loop_->remove(fd_);
    ::close(fd_);
  }
  if (list != nullptr) list->erase(this);
  if (stream_ != &tcp_stream::instance()) delete stream_;
}

void connection::timer_trampoline(core::timer& t) {
  auto& self = static_cast<connection&>(t);
  if (self.lingering_) {
    self.close_now(close_reason::local);  // the peer never finished: stop waiting
    return;
  }
  self.on_timer();
}

bool connection::start() {
  events_ = EPOLLIN | EPOLLRDHUP;
  if (loop_->add(fd_, this, events_) != 0) return false;
  registered_ = true;
  return true;
}

void connection::update_events() {
  if (fd_ < 0) return;
  // EPOLLRDHUP only with EPOLLIN: it is level-triggered, and a paused or closing connection
  // that cannot read would otherwise be woken for it on every iteration.
  uint32_t want = 0;
  if ((!paused_ && !closing_) || lingering_) want |= EPOLLIN | EPOLLRDHUP;
  if (!out_.empty() || stream_->wants_write()) want |= EPOLLOUT;
  if (want != events_) {
    events_ = want;
    loop_->modify(fd_, this, events_);
  }
}

void connection::write(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return;
  out_.append(bytes);
  loop_->request_flush(this);
}

uint8_t* connection::write_uninitialized(size_t n) {
  if (fd_ >= 0) loop_->request_flush(this);  // when closed the bytes are dropped with out_
  return out_.append_uninitialized(n);
}

void connection::write_shared(core::shared_buffer* buf, size_t off, size_t len) {
  if (fd_ < 0) return;
  out_.append_shared(buf, off, len);
  loop_->request_flush(this);
}

void connection::pause_reading() {
  if (paused_) return;
  paused_ = true;
  update_events();
}

void connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  update_events();
}

void connection::on_io(uint32_t events) {
  if (fd_ < 0) return;  // closed earlier in this iteration; deletion pending
  if (events & (EPOLLOUT | EPOLLERR)) {
    // A TLS handshake blocked on writing progresses through read(), not through our queue.
    const bool transport_needs_io = stream_->wants_write() && out_.empty();
    flush();
    if (fd_ < 0) return;
    if (transport_needs_io && !closing_ && !paused_) {
      handle_readable();
      if (fd_ < 0) return;
      events &= ~static_cast<uint32_t>(EPOLLIN);
    }
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
    if (lingering_) {
      discard_input();
    } else if (!closing_ && !paused_) {
      handle_readable();
      // Replies to this read go out now, in one write, instead of at the end of the iteration:
      // the peer can work on them while we serve the other ready sockets. Output produced for
      // this socket by other sockets' events (fan-out) still waits for the end of the
      // iteration, where the pending flush finds an empty queue or the later bytes.
      if (fd_ >= 0 && !out_.empty()) flush();
    } else if (events & (EPOLLHUP | EPOLLERR)) {
      close_now(close_reason::peer_closed);
    }
  }
}

void connection::handle_readable() {
  uint8_t* buf = loop_->recv_buffer();
  ssize_t n = stream_->read(fd_, buf, core::event_loop::kRecvBufferSize);
  if (n > 0) {
    on_data(std::span<uint8_t>(buf, static_cast<size_t>(n)));
    return;
  }
  if (n == -EAGAIN || n == -EWOULDBLOCK) {
    update_events();  // TLS may now want EPOLLOUT
    return;
  }
  close_now(n == 0 ? close_reason::peer_closed : close_reason::io_error);
}

void connection::discard_input() {
  uint8_t* buf = loop_->recv_buffer();
  ssize_t n = stream_->read(fd_, buf, core::event_loop::kRecvBufferSize);
  if (n == -EAGAIN || n == -EWOULDBLOCK) return;
  if (n <= 0) close_now(close_reason::local);  // the peer saw our FIN and closed too
}

void connection::flush() {
  if (fd_ < 0) return;
  while (!out_.empty()) {
    iovec iov[kMaxIov];
    int count = out_.gather(iov, kMaxIov);
    ssize_t n = stream_->writev(fd_, iov, count);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
      continue;
    }
    if (n == -EAGAIN || n == -EWOULDBLOCK || n == 0) break;
    close_now(close_reason::io_error);
    return;
  }
  after_write();
}

void connection::after_write() {
  if (closing_ && out_.empty()) {
    if (!lingering_) start_lingering();
    return;
  }
  const size_t buffered = out_.bytes();
  if (!closing_ && paused_ && buffered <= opts_.low_water) {
    resume_reading();
    on_drain();
    if (fd_ < 0) return;
  } else if (!paused_ && buffered > opts_.high_water) {
    pause_reading();  // the peer does not read: stop producing for it
  }
  update_events();
}

void connection::start_lingering() {
  // Closing a socket that still has unread input makes the kernel send RST, and an RST can
  // overtake our last bytes in the peer's stack (a client uploading a too-big message would
  // see a reset instead of our close frame 1009). So: send FIN, then read and discard until
  // the peer closes too, for a bounded time (nginx's lingering_close).
  lingering_ = true;
  stream_->shutdown(fd_);
  ::shutdown(fd_, SHUT_WR);
  paused_ = false;
  update_events();
  loop_->timers().schedule(timer(), loop_->now_ms() + kLingerMs);
}

void connection::close_after_flush() {
  if (fd_ < 0 || closing_) return;
  closing_ = true;
  if (out_.empty()) {
    start_lingering();
    return;
  }
  // Half-close reading side is implicit: we stop asking for EPOLLIN.
  update_events();
  loop_->request_flush(this);
}

void connection::close_now(close_reason why) {
  if (fd_ < 0) return;
  core::timer_wheel::cancel(timer());
  if (registered_) loop_->remove(fd_);
  registered_ = false;
  if (!lingering_) stream_->shutdown(fd_);
  ::close(fd_);
  fd_ = -1;
  closing_ = true;
  out_.clear();
  if (list != nullptr) list->erase(this);
  on_closed(why);
  loop_->defer_delete(this);
}

void connection::hand_over_to(connection& next) {
  next.fd_ = fd_;
  if (next.stream_ != &tcp_stream::instance()) delete next.stream_;
  next.stream_ = stream_;
  stream_ = &tcp_stream::instance();
  next.out_.swap(out_);
  next.events_ = 0;
  next.registered_ = registered_;
  next.paused_ = false;
  fd_ = -1;
  registered_ = false;
  closing_ = true;
  core::timer_wheel::cancel(timer());
  if (list != nullptr) list->erase(this);
  next.update_events();  // re-points the epoll registration at `next`
  if (!next.out_.empty()) loop_->request_flush(&next);
  loop_->defer_delete(this);
}

connection::detached::~detached() {
  if (fd >= 0) ::close(fd);
}

connection::detached connection::detach() {
  detached d;
  if (fd_ < 0) return d;
  flush();
  if (fd_ < 0 || !out_.empty()) return d;
  core::timer_wheel::cancel(timer());
  if (registered_) loop_->remove(fd_);
  registered_ = false;
  d.fd = fd_;
  if (stream_ != &tcp_stream::instance()) d.tls.reset(stream_);
  stream_ = &tcp_stream::instance();
  fd_ = -1;
  closing_ = true;
  if (list != nullptr) list->erase(this);
  loop_->defer_delete(this);
  return d;
}

void connection_list::insert(connection* c) noexcept {
  c->list = this;
  c->list_prev = nullptr;
  c->list_next = head_;
  if (head_ != nullptr) head_->list_prev = c;
  head_ = c;
  ++size_;
}

void connection_list::erase(connection* c) noexcept {
  if (c->list != this) return;
  if (c->list_prev != nullptr) {
    c->list_prev->list_next = c->list_next;
  } else {
    head_ = c->list_next;
  }
  if (c->list_next != nullptr) c->list_next->list_prev = c->list_prev;
  c->list = nullptr;
  c->list_prev = c->list_next = nullptr;
  --size_;
}

}  // namespace relay::net
