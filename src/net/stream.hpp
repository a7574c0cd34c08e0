#pragma once
// The byte transport under a connection: plain TCP or TLS (Envoy's transport_socket idea), so
// HTTP and WebSocket code never know which one they run on.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace relay::net {

// Results of read()/writev(): > 0 bytes moved; 0 on read = orderly EOF; negative = -errno
// (-EAGAIN: nothing now, wait for readiness).
class stream {
 public:
  virtual ~stream() = default;
  virtual ssize_t read(int fd, uint8_t* buf, size_t len) = 0;
  virtual ssize_t writev(int fd, const iovec* iov, int count) = 0;
  // True while the transport needs EPOLLOUT for its own sake (a TLS handshake or renegotiation
  // that must write before it can read).
  virtual bool wants_write() const noexcept { return false; }
  // Best-effort goodbye before the fd is closed (TLS close_notify).
  virtual void shutdown(int fd) noexcept {}
};

// Plain TCP: stateless, so every plain connection shares one instance.
class tcp_stream final : public stream {
 public:
  ssize_t read(int fd, uint8_t* buf, size_t len) override;
  ssize_t writev(int fd, const iovec* iov, int count) override;
  static tcp_stream& instance() noexcept;
};

}  // namespace relay::net
