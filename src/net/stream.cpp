#include "net/stream.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace relay::net {

ssize_t tcp_stream::read(int fd, uint8_t* buf, size_t len) {
  for (;;) {
    ssize_t n = ::recv(fd, buf, len, 0);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

ssize_t tcp_stream::writev(int fd, const iovec* iov, int count) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(count);
  for (;;) {
    // MSG_NOSIGNAL: a peer that went away must give EPIPE, not kill the process.
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

tcp_stream& tcp_stream::instance() noexcept {
  static tcp_stream s;
  return s;
}

}  // namespace relay::net
