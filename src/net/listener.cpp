#include "net/listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relay::net {

int listen_tcp(const std::string& host, uint16_t port, int backlog, bind_error* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const std::string where = host + ":" + service;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    if (error) *error = {EINVAL, "resolve " + where + ": " + gai_strerror(rc)};
    return -1;
  }
  int fd = -1;
  int last_errno = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) break;
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0 && error) *error = {last_errno, "listen " + where + ": " + std::strerror(last_errno)};
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

listener::listener(core::event_loop& loop, int fd, accept_fn on_accept)
    : loop_(loop), fd_(fd), on_accept_(std::move(on_accept)) {}

listener::~listener() { close(); }

bool listener::start() { return loop_.add(fd_, this, EPOLLIN) == 0; }

void listener::close() {
  if (fd_ < 0) return;
  core::timer_wheel::cancel(backoff_);
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void listener::resume_trampoline(core::timer& t) {
  listener* self = static_cast<backoff_timer&>(t).owner;
  if (self->fd_ >= 0 && self->paused_) {
    self->paused_ = false;
    self->loop_.add(self->fd_, self, EPOLLIN);
  }
}

void listener::on_io(uint32_t) {
  // Bounded batch per wake-up so one busy listener cannot starve established connections.
  for (int i = 0; i < 128 && fd_ >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop polling the listener for a moment instead of spinning on a
        // level-triggered event we cannot clear.
        paused_ = true;
        loop_.remove(fd_);
        loop_.timers().schedule(backoff_, loop_.now_ms() + 100);
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++accepted_;
    on_accept_(fd, peer);
  }
}

}  // namespace relay::net
