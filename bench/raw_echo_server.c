/* The physical limit of the box for the echo benchmarks: a minimal single-threaded epoll TCP
 * echo server with no WebSocket framing. It reads whatever arrives and writes it back; a
 * relay-or-node figure divided by this one says how much of the budget framing, routing and
 * the runtime cost.
 *
 * usage: raw_echo_server [port]      (port 0 or none = ephemeral)
 * prints "listening on 127.0.0.1:PORT" once ready; listens on 127.0.0.1 only.
 *
 * Level-triggered, one read per readiness event (fair across connections, like the servers it
 * is compared with). If a write is partial the rest is kept and the socket stops being read
 * until it drains, so a slow client cannot make it buffer without bound. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)
#define MAX_EVENTS 512

struct conn {
  int fd;
  size_t pending_off, pending_len; /* unsent echo bytes in pending */
  char* pending;
};

static int epfd;

static void set_events(struct conn* c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_conn(struct conn* c) {
  close(c->fd); /* also leaves the epoll set */
  free(c->pending);
  free(c);
}

/* Sends what is pending; returns 0 when drained, 1 when blocked, -1 on error. */
static int drain(struct conn* c) {
  while (c->pending_off < c->pending_len) {
    ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off,
                     MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
    c->pending_off += (size_t)n;
  }
  c->pending_off = c->pending_len = 0;
  return 0;
}

static void on_readable(struct conn* c, char* buf) {
  ssize_t n = recv(c->fd, buf, READ_SIZE, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_conn(c);
    return;
  }
  if (n < 0) return;
  ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      close_conn(c);
      return;
    }
    w = 0;
  }
  if (w < n) {
    /* Keep the rest and stop reading until it is written (backpressure). */
    size_t rest = (size_t)(n - w);
    c->pending = malloc(rest);
    if (!c->pending) {
      close_conn(c);
      return;
    }
    memcpy(c->pending, buf + w, rest);
    c->pending_off = 0;
    c->pending_len = rest;
    set_events(c, EPOLLOUT);
  }
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
    perror("raw_echo_server: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr*)&addr, &len);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL = the listener */
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
  printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  static char buf[READ_SIZE];
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn* nc = calloc(1, sizeof *nc);
          if (!nc) {
            close(fd);
            continue;
          }
          nc->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if (c->pending_len) {
        int r = drain(c);
        if (r < 0) {
          close_conn(c);
        } else if (r == 0) {
          free(c->pending);
          c->pending = NULL;
          set_events(c, EPOLLIN);
        }
        continue;
      }
      on_readable(c, buf);
    }
  }
}
