#include "core/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace relay::core {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Polls pred until it holds or `limit` passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = steady::now() + limit;
  while (!pred()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(50us);
  }
  return true;
}

// Runs a loop on its own thread. Stopping fails the test loudly (abort) instead of hanging the
// suite if run() does not return.
class loop_thread {
 public:
  explicit loop_thread(event_loop& loop)
      : loop_(loop), thread_([this] {
          loop_.run();
          exited_.store(true);
        }) {}
  ~loop_thread() { stop_and_join(); }

  void stop_and_join(std::chrono::milliseconds limit = 5s) {
    if (!thread_.joinable()) return;
    loop_.stop();
    if (!wait_until([this] { return exited_.load(); }, limit)) {
      std::fprintf(stderr, "event_loop::run() did not return after stop()\n");
      std::abort();
    }
    thread_.join();
  }

 private:
  event_loop& loop_;
  std::atomic<bool> exited_{false};
  std::thread thread_;
};

struct counting_flush final : flushable {
  void flush() override {
    ++count;
    if (then) then();
  }
  int count = 0;
  std::function<void()> then;
};

struct tracked final : deferred_deletable {
  explicit tracked(bool* flag, std::function<void()> on_delete = nullptr)
      : deleted(flag), on_delete(std::move(on_delete)) {}
  ~tracked() override {
    *deleted = true;
    if (on_delete) on_delete();
  }
  bool* deleted;
  std::function<void()> on_delete;
};

TEST(event_loop, PostWakesASleepingLoopPromptly) {
  event_loop loop;
  loop_thread runner(loop);
  std::atomic<int> ran{0};
  loop.post([&] { ran.fetch_add(1); });
  ASSERT_TRUE(wait_until([&] { return ran.load() == 1; }));
  // Nothing to do and no timers: the loop now sleeps in epoll_wait(-1).
  std::this_thread::sleep_for(50ms);
  const auto posted = steady::now();
  std::atomic<int64_t> ran_at{0};
  loop.post([&] { ran_at.store((steady::now() - posted).count()); });
  ASSERT_TRUE(wait_until([&] { return ran_at.load() != 0; }, 3s)) << "lost wake-up";
  EXPECT_LT(std::chrono::nanoseconds(ran_at.load()), 300ms);
}

// Round trips with random pauses, so posts land in every phase of the loop (awake, announcing
// sleep, inside epoll_wait): a lost wake-up stalls a round trip.
TEST(event_loop, NoLostWakeUps) {
  event_loop loop;
  loop_thread runner(loop);
  std::mt19937 rng(11);
  std::atomic<int> done{0};
  for (int i = 0; i < 5000; ++i) {
    switch (rng() % 4) {
      case 0:
        break;
      case 1:
        std::this_thread::yield();
        break;
      case 2: {
        const auto until = steady::now() + std::chrono::microseconds(rng() % 50);
        while (steady::now() < until) {
        }
        break;
      }
      default:
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 100));
    }
    loop.post([&] { done.fetch_add(1, std::memory_order_release); });
    ASSERT_TRUE(wait_until([&] { return done.load(std::memory_order_acquire) == i + 1; }, 3s))
        << "round trip " << i << " stalled";
  }
}

TEST(event_loop, PostOrderPerProducer) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  event_loop loop;
  std::vector<int> next(kProducers, 0);  // loop thread only
  std::atomic<int> misordered{0};
  std::atomic<int> total{0};
  {
    loop_thread runner(loop);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < kPerProducer; ++i) {
          loop.post([&, p, i] {
            if (next[static_cast<size_t>(p)] != i) misordered.fetch_add(1);
            next[static_cast<size_t>(p)] = i + 1;
            total.fetch_add(1, std::memory_order_release);
          });
        }
      });
    }
    for (auto& t : producers) t.join();
    ASSERT_TRUE(wait_until([&] { return total.load() == kProducers * kPerProducer; }, 30s))
        << total.load();
  }
  EXPECT_EQ(misordered.load(), 0);
}

TEST(event_loop, TaskObjectsRunOnTheLoopThreadAndAreDeleted) {
  struct probe final : task {
    probe(std::thread::id* where, bool* deleted) : where(where), deleted(deleted) {}
    ~probe() override { *deleted = true; }
    void run() override { *where = std::this_thread::get_id(); }
    std::thread::id* where;
    bool* deleted;
  };
  event_loop loop;
  std::thread::id where;
  bool deleted = false;
  loop.post(std::make_unique<probe>(&where, &deleted));
  loop.post([&] { loop.stop(); });
  loop.run();  // any thread may own a loop; here, this one
  EXPECT_EQ(where, std::this_thread::get_id());
  EXPECT_TRUE(deleted);
}

TEST(event_loop, StopFromAnotherThreadReturnsPromptly) {
  event_loop loop;
  loop_thread runner(loop);
  std::atomic<bool> up{false};
  loop.post([&] { up = true; });
  ASSERT_TRUE(wait_until([&] { return up.load(); }));
  std::this_thread::sleep_for(20ms);  // asleep in epoll_wait(-1)
  EXPECT_FALSE(loop.stopping());
  const auto t0 = steady::now();
  runner.stop_and_join();  // aborts if stop() does not wake the loop
  EXPECT_LT(steady::now() - t0, 500ms);
  EXPECT_FALSE(loop.stopping()) << "run() returning consumes the stop";
}

TEST(event_loop, StopBeforeRunStillRunsPostedWork) {
  event_loop loop;
  bool ran = false;
  loop.post([&] { ran = true; });
  loop.stop();
  EXPECT_TRUE(loop.stopping());
  loop.run();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(loop.stopping());
}

TEST(event_loop, RunsAgainAfterStop) {
  event_loop loop;
  for (int round = 0; round < 3; ++round) {
    loop_thread runner(loop);
    std::atomic<int> ran{0};
    loop.post([&] { ran.store(1); });
    ASSERT_TRUE(wait_until([&] { return ran.load() == 1; })) << "round " << round;
    std::this_thread::sleep_for(10ms);  // asleep again: post must still wake it
    loop.post([&] { ran.store(2); });
    ASSERT_TRUE(wait_until([&] { return ran.load() == 2; })) << "round " << round;
    runner.stop_and_join();
  }
}

TEST(event_loop, CurrentIsTheLoopOnItsThreadOnly) {
  event_loop loop;
  event_loop* seen = nullptr;
  EXPECT_EQ(event_loop::current(), nullptr);
  loop.post([&] {
    seen = event_loop::current();
    loop.stop();
  });
  loop.run();
  EXPECT_EQ(seen, &loop);
  EXPECT_EQ(event_loop::current(), nullptr);
}

// Pending work must not run once the loop is being destroyed: what it points to (connections,
// the loop's owner) may be gone already. It is deleted, releasing what it holds.
TEST(event_loop, DestructionDropsPostedTasksWithoutRunningThem) {
  struct probe final : task {
    probe(bool* ran, bool* deleted) : ran(ran), deleted(deleted) {}
    ~probe() override { *deleted = true; }
    void run() override { *ran = true; }
    bool* ran;
    bool* deleted;
  };
  bool ran = false;
  bool deleted = false;
  {
    event_loop loop;
    loop.stop();
    loop.run();
    loop.post(std::make_unique<probe>(&ran, &deleted));  // too late: run() has returned
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(deleted);
}

TEST(event_loop, TimersFireViaTheLoop) {
  struct probe final : timer {
    probe() : timer(&cb) {}
    static void cb(timer& t) {
      auto& p = static_cast<probe&>(t);
      p.fired_at.store(steady::now().time_since_epoch().count());
    }
    std::atomic<int64_t> fired_at{0};
  } p;
  event_loop loop;
  loop_thread runner(loop);
  const auto posted = steady::now();
  loop.post([&] { loop.timers().schedule(p, loop.now_ms() + 30); });
  ASSERT_TRUE(wait_until([&] { return p.fired_at.load() != 0; }, 3s))
      << "a sleeping loop must wake for its next timer";
  const auto elapsed = steady::time_point(steady::duration(p.fired_at.load())) - posted;
  EXPECT_GE(elapsed, 29ms) << "fired early";  // now_ms() is whole milliseconds
  EXPECT_LT(elapsed, 1s);
}

TEST(event_loop, PeriodicTimerAndNowAdvances) {
  struct periodic final : timer {
    periodic() : timer(&cb) {}
    static void cb(timer& t) {
      auto& p = static_cast<periodic&>(t);
      p.seen.push_back(p.loop->now_ms());
      if (p.seen.size() == 5) {
        p.loop->stop();
      } else {
        p.loop->timers().schedule(p, p.loop->now_ms() + 10);
      }
    }
    event_loop* loop = nullptr;
    std::vector<uint64_t> seen;
  } p;
  event_loop loop;
  p.loop = &loop;
  const uint64_t start = loop.now_ms();
  loop.timers().schedule(p, start + 10);
  loop.run();
  ASSERT_EQ(p.seen.size(), 5u);
  EXPECT_GE(p.seen[0], start + 10);
  for (size_t i = 1; i < p.seen.size(); ++i) EXPECT_GE(p.seen[i], p.seen[i - 1] + 10);
}

TEST(event_loop, RequestFlushOncePerIteration) {
  event_loop loop;
  counting_flush f;
  counting_flush g;  // requested from inside f.flush(): still flushed this iteration
  f.then = [&] { loop.request_flush(&g); };
  int iteration = 0;
  int f_seen_in_hook_2 = -1;
  int g_seen_in_hook_2 = -1;
  loop.add_iteration_hook([&] {
    ++iteration;
    if (iteration == 1) {
      for (int i = 0; i < 3; ++i) loop.request_flush(&f);
      loop.post([] {});  // keeps the loop from sleeping before iteration 2
    } else if (iteration == 2) {
      f_seen_in_hook_2 = f.count;
      g_seen_in_hook_2 = g.count;
      loop.request_flush(&f);
      loop.request_flush(&f);
      loop.stop();
    }
  });
  loop.post([&] {
    loop.request_flush(&f);  // before the hook, same iteration: still one flush
    EXPECT_TRUE(f.flush_pending);
  });
  loop.run();
  EXPECT_EQ(f_seen_in_hook_2, 1);
  EXPECT_EQ(g_seen_in_hook_2, 1);
  EXPECT_EQ(f.count, 2);
  EXPECT_EQ(g.count, 2);
  EXPECT_FALSE(f.flush_pending);
}

TEST(event_loop, DeferDeleteAfterTheIteration) {
  event_loop loop;
  bool deleted = false;
  bool deleted_in_task = true;
  bool deleted_in_hook = true;
  bool deleted_in_flush = true;
  bool deleted_next_iteration = false;
  counting_flush f;
  f.then = [&] { deleted_in_flush = deleted; };
  int iteration = 0;
  loop.add_iteration_hook([&] {
    ++iteration;
    if (iteration == 1) {
      deleted_in_hook = deleted;
      loop.post([] {});
    } else if (iteration == 2) {
      deleted_next_iteration = deleted;
      loop.stop();
    }
  });
  loop.post([&] {
    loop.defer_delete(new tracked(&deleted));
    loop.request_flush(&f);
    deleted_in_task = deleted;
  });
  loop.run();
  EXPECT_FALSE(deleted_in_task);
  EXPECT_FALSE(deleted_in_hook);
  EXPECT_FALSE(deleted_in_flush);
  EXPECT_TRUE(deleted_next_iteration);
}

// A destructor that defers another deletion (a connection freeing a child): both go in the same
// pass, without walking a vector that is being appended to.
TEST(event_loop, DeferDeleteFromADestructor) {
  event_loop loop;
  bool outer = false;
  bool inner = false;
  bool inner_after_iteration = false;
  int iteration = 0;
  loop.add_iteration_hook([&] {
    ++iteration;
    if (iteration == 1) {
      loop.post([] {});  // keeps the loop from sleeping before iteration 2
    } else if (iteration == 2) {
      inner_after_iteration = inner;
      loop.stop();
    }
  });
  loop.post([&] {
    loop.defer_delete(new tracked(&outer, [&] { loop.defer_delete(new tracked(&inner)); }));
  });
  loop.run();
  EXPECT_TRUE(outer);
  EXPECT_TRUE(inner_after_iteration);
}

TEST(event_loop, OrderWithinAnIteration) {
  struct recorder final : io_handler {
    void on_io(uint32_t) override {
      char buf[16];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
      log->push_back("io");
    }
    int fd = -1;
    std::vector<std::string>* log = nullptr;
  };
  struct log_timer final : timer {
    log_timer() : timer(&cb) {}
    static void cb(timer& t) { static_cast<log_timer&>(t).log->push_back("timer"); }
    std::vector<std::string>* log = nullptr;
  };
  std::vector<std::string> log;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  event_loop loop;
  recorder io;
  io.fd = fds[0];
  io.log = &log;
  log_timer tm;
  tm.log = &log;
  counting_flush f;
  f.then = [&] { log.push_back("flush"); };
  bool deleted = false;
  ASSERT_EQ(loop.add(fds[0], &io, EPOLLIN), 0);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  bool first = true;
  loop.add_iteration_hook([&] {
    if (!first) return;
    first = false;
    log.push_back("hook");
    loop.stop();
  });
  loop.post([&] {
    log.push_back("task");
    loop.timers().schedule(tm, loop.now_ms());
    loop.request_flush(&f);
    loop.defer_delete(new tracked(&deleted, [&] { log.push_back("delete"); }));
  });
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"io", "task", "timer", "hook", "flush", "delete"}));
  loop.remove(fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

struct pipe_handler final : io_handler {
  void on_io(uint32_t ev) override {
    events.fetch_or(ev);
    char buf[64];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) bytes.fetch_add(static_cast<int>(n));
    calls.fetch_add(1);
  }
  int fd = -1;
  std::atomic<int> calls{0};
  std::atomic<int> bytes{0};
  std::atomic<uint32_t> events{0};
};

TEST(event_loop, AddModifyRemoveWithAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  event_loop loop;
  pipe_handler a, b;
  a.fd = b.fd = fds[0];
  loop_thread runner(loop);
  // Registration belongs to the loop thread: do it through post() and wait for the answer.
  auto on_loop = [&](auto fn) {
    std::atomic<int> rc{1};
    loop.post([&] { rc.store(fn()); });
    EXPECT_TRUE(wait_until([&] { return rc.load() != 1; }));
    return rc.load();
  };

  EXPECT_EQ(on_loop([&] { return loop.add(fds[0], &a, EPOLLIN); }), 0);
  EXPECT_EQ(on_loop([&] { return loop.add(fds[0], &a, EPOLLIN); }), -EEXIST);
  EXPECT_EQ(on_loop([&] { return loop.add(-1, &a, EPOLLIN); }), -EBADF);
  EXPECT_EQ(on_loop([&] { return loop.modify(fds[1], &a, EPOLLIN); }), -ENOENT);

  ASSERT_EQ(::write(fds[1], "ab", 2), 2);
  ASSERT_TRUE(wait_until([&] { return a.bytes.load() == 2; })) << "on_io not called";
  EXPECT_TRUE(a.events.load() & EPOLLIN);

  // modify() re-points the registration at another handler.
  EXPECT_EQ(on_loop([&] { return loop.modify(fds[0], &b, EPOLLIN); }), 0);
  const int a_calls = a.calls.load();
  ASSERT_EQ(::write(fds[1], "c", 1), 1);
  ASSERT_TRUE(wait_until([&] { return b.bytes.load() == 1; }));
  EXPECT_EQ(a.calls.load(), a_calls);

  // No interest: data waits in the pipe, no call.
  EXPECT_EQ(on_loop([&] { return loop.modify(fds[0], &b, 0); }), 0);
  ASSERT_EQ(::write(fds[1], "de", 2), 2);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(b.bytes.load(), 1);
  EXPECT_EQ(on_loop([&] { return loop.modify(fds[0], &b, EPOLLIN); }), 0);
  ASSERT_TRUE(wait_until([&] { return b.bytes.load() == 3; }));

  // remove(): no more calls; the loop keeps working.
  on_loop([&] {
    loop.remove(fds[0]);
    return 0;
  });
  const int b_calls = b.calls.load();
  ASSERT_EQ(::write(fds[1], "f", 1), 1);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(b.calls.load(), b_calls);
  EXPECT_EQ(on_loop([&] { return loop.modify(fds[0], &b, EPOLLIN); }), -ENOENT);

  // Hang-up reaches the handler too.
  EXPECT_EQ(on_loop([&] { return loop.add(fds[0], &a, EPOLLIN); }), 0);
  ::close(fds[1]);
  ASSERT_TRUE(wait_until([&] { return (a.events.load() & EPOLLHUP) != 0; }));
  on_loop([&] {
    loop.remove(fds[0]);
    return 0;
  });
  runner.stop_and_join();
  ::close(fds[0]);
}

TEST(event_loop, RecvBufferIsPerLoop) {
  event_loop a, b;
  ASSERT_NE(a.recv_buffer(), nullptr);
  EXPECT_NE(a.recv_buffer(), b.recv_buffer());
  a.recv_buffer()[event_loop::kRecvBufferSize - 1] = 1;  // ASan: the whole size is usable
}

}  // namespace
}  // namespace relay::core
