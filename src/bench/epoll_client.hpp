#pragma once
// What every epoll thread of the load generator does the same way: its epoll instance, and
// non-blocking TCP connects watched for their outcome.
#include <sys/socket.h>

#include <cstdint>
#include <optional>

#include "bench/out_buffer.hpp"
#include "bench/run_config.hpp"

namespace relay::bench {

// The thread's epoll instance, or -1 after telling the run it is over (nothing can be measured
// without one: stop, ready and done are all set so that nobody waits for this thread).
int open_epoll_or_give_up(run_control& control, live_counters& live) noexcept;

// A non-blocking TCP socket with TCP_NODELAY, connecting to addr: the fd, or -1 with errno set
// (no socket, or a connect that failed at once).
int start_tcp_connect(const sockaddr_storage& addr, socklen_t len) noexcept;

// Watches a connecting socket for readability and writability (how a non-blocking connect()
// reports its outcome); false with errno set if epoll refused it.
bool watch_connecting(int epoll_fd, int fd, uint64_t data) noexcept;

// Sends what `out` holds, once. Returns whether the socket must now be watched for
// writability (output left: the socket buffer is full, wait for EPOLLOUT rather than retry), or
// nullopt with errno set when the connection is broken.
std::optional<bool> send_pending(int fd, out_buffer& out) noexcept;

}  // namespace relay::bench
