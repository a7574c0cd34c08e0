#pragma once
// A listening TCP socket on one loop. Every loop has its own, bound to the same port with
// SO_REUSEPORT, so the kernel spreads new connections over the loops with no shared accept
// lock.
#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/event_loop.hpp"

namespace relay::net {

struct bind_error {
  int err;            // errno
  std::string what;   // "bind 0.0.0.0:8080: Address already in use"
};

// Creates a non-blocking listening socket with SO_REUSEADDR and SO_REUSEPORT. port 0 picks an
// ephemeral port (read it back with local_port()). Returns the fd or -1 with *error filled.
int listen_tcp(const std::string& host, uint16_t port, int backlog, bind_error* error);
uint16_t local_port(int fd);

class listener final : public core::io_handler {
 public:
  // Called for each accepted socket (non-blocking, TCP_NODELAY set). The callee owns fd.
  using accept_fn = std::function<void(int fd, const sockaddr_storage& peer)>;

  listener(core::event_loop& loop, int fd, accept_fn on_accept);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  bool start();
  // Stops accepting and closes the listening socket (graceful shutdown).
  void close();
  uint64_t accepted() const noexcept { return accepted_; }

 private:
  void on_io(uint32_t events) override;
  static void resume_trampoline(core::timer& t);

  core::event_loop& loop_;
  int fd_;
  accept_fn on_accept_;
  uint64_t accepted_ = 0;
  struct backoff_timer : core::timer {
    explicit backoff_timer(listener* l) : core::timer(&resume_trampoline), owner(l) {}
    listener* owner;
  };
  backoff_timer backoff_{this};  // re-arms accepting after EMFILE/ENFILE
  bool paused_ = false;
};

}  // namespace relay::net
