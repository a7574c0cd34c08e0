#include "net/connection.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace relay::net {
namespace {

// Runs the loop on this thread until pred() holds or timeout_ms passes; returns pred().
bool run_until(core::event_loop& loop, const std::function<bool()>& pred, int timeout_ms = 3000) {
  struct poll_timer : core::timer {
    poll_timer() : core::timer(&tick) {}
    static void tick(core::timer& t) {
      auto& self = static_cast<poll_timer&>(t);
      if (self.pred() || self.loop->now_ms() >= self.deadline) {
        self.loop->stop();
      } else {
        self.loop->timers().schedule(t, self.loop->now_ms() + 1);
      }
    }
    std::function<bool()> pred;
    core::event_loop* loop = nullptr;
    uint64_t deadline = 0;
  } t;
  t.pred = pred;
  t.loop = &loop;
  t.deadline = loop.now_ms() + static_cast<uint64_t>(timeout_ms);
  loop.timers().schedule(t, loop.now_ms());
  loop.run();
  core::timer_wheel::cancel(t);
  return pred();
}

struct observed {
  std::string received;
  int closed = 0;
  close_reason why = close_reason::local;
  int drains = 0;
};

class test_connection final : public connection {
 public:
  test_connection(core::event_loop& loop, int fd, observed& obs, socket_options opts = {})
      : connection(loop, fd, nullptr, opts), obs_(obs) {}
  std::function<void(test_connection&, std::span<uint8_t>)> on_bytes;

 private:
  void on_data(std::span<uint8_t> bytes) override {
    obs_.received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (on_bytes) on_bytes(*this, bytes);
  }
  void on_closed(close_reason why) override {
    ++obs_.closed;
    obs_.why = why;
  }
  void on_drain() override { ++obs_.drains; }
  observed& obs_;
};

struct socket_pair {
  int ours = -1, peer = -1;
  socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    ours = fds[0];
    peer = fds[1];
  }
  ~socket_pair() {
    if (peer >= 0) ::close(peer);
  }
  std::string read_peer() {
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(peer, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

TEST(Connection, EchoesWithCorkedWrites) {
  core::event_loop loop;
  socket_pair sp;
  observed obs;
  auto* c = new test_connection(loop, sp.ours, obs);
  c->on_bytes = [](test_connection& self, std::span<uint8_t> b) {
    self.write(std::string_view("["));
    self.write(std::span<const uint8_t>(b.data(), b.size()));
    self.write(std::string_view("]"));
  };
  ASSERT_TRUE(c->start());
  ASSERT_EQ(::write(sp.peer, "ping", 4), 4);
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    got += sp.read_peer();
    return got == "[ping]";
  }));
  EXPECT_EQ(obs.received, "ping");
  c->close_now();
  run_until(loop, [] { return true; });
  EXPECT_EQ(obs.closed, 1);
}

TEST(Connection, PeerCloseIsReportedOnce) {
  core::event_loop loop;
  socket_pair sp;
  observed obs;
  auto* c = new test_connection(loop, sp.ours, obs);
  ASSERT_TRUE(c->start());
  ::close(sp.peer);
  sp.peer = -1;
  ASSERT_TRUE(run_until(loop, [&] { return obs.closed == 1; }));
  EXPECT_EQ(obs.why, close_reason::peer_closed);
}

TEST(Connection, CloseAfterFlushDeliversQueuedBytesThenEof) {
  core::event_loop loop;
  socket_pair sp;
  observed obs;
  auto* c = new test_connection(loop, sp.ours, obs);
  ASSERT_TRUE(c->start());
  std::string payload(200000, 'z');
  c->write(payload);
  c->close_after_flush();
  std::string got;
  bool eof = false;
  ASSERT_TRUE(run_until(loop, [&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(sp.peer, buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
    return eof;
  }));
  EXPECT_EQ(got.size(), payload.size());
  // Lingering close: our side sent FIN and now drains until the peer closes too.
  EXPECT_EQ(obs.closed, 0);
  ::close(sp.peer);
  sp.peer = -1;
  ASSERT_TRUE(run_until(loop, [&] { return obs.closed == 1; }));
}

TEST(Connection, StopsReadingAboveHighWaterAndResumesAfterDrain) {
  core::event_loop loop;
  socket_pair sp;
  int small = 4096;
  setsockopt(sp.ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(sp.peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  observed obs;
  socket_options opts;
  opts.high_water = 64 * 1024;
  opts.low_water = 8 * 1024;
  auto* c = new test_connection(loop, sp.ours, obs, opts);
  // Every byte received makes the connection queue 1 MiB: the peer never reads, so the queue
  // passes high water and the connection must stop reading.
  c->on_bytes = [](test_connection& self, std::span<uint8_t>) {
    self.write(std::string(1 << 20, 'q'));
  };
  ASSERT_TRUE(c->start());
  ASSERT_EQ(::write(sp.peer, "a", 1), 1);
  ASSERT_TRUE(run_until(loop, [&] { return c->buffered_bytes() > opts.high_water; }));
  ASSERT_EQ(::write(sp.peer, "b", 1), 1);
  run_until(loop, [] { return false; }, 50);
  EXPECT_EQ(obs.received, "a") << "read while paused";
  // Now drain everything on the peer side: the connection resumes and reads "b".
  size_t drained = 0;
  ASSERT_TRUE(run_until(loop, [&] {
    drained += sp.read_peer().size();
    return obs.received == "ab";
  }, 10000));
  EXPECT_GE(obs.drains, 1);
  c->close_now();
  run_until(loop, [] { return true; });
}

}  // namespace
}  // namespace relay::net
