#include "bench/epoll_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace relay::bench {

int open_epoll_or_give_up(run_control& control, live_counters& live) noexcept {
  const int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    control.stop.store(true);
    live.ready.store(true);
    live.done.store(true);
  }
  return fd;
}

int start_tcp_connect(const sockaddr_storage& addr, socklen_t len) noexcept {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) < 0 && errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

bool watch_connecting(int epoll_fd, int fd, uint64_t data) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = data;
  return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

std::optional<bool> send_pending(int fd, out_buffer& out) noexcept {
  if (out.empty()) return false;
  const ssize_t n = ::send(fd, out.pending(), out.pending_size(), MSG_NOSIGNAL);
  if (n >= 0) {
    out.consume(static_cast<size_t>(n));
    return !out.empty();
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  return std::nullopt;
}

}  // namespace relay::bench
