#include "server/server.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "core/event_loop.hpp"
#include "http/http_session.hpp"
#include "http/router.hpp"
#include "net/listener.hpp"
#include "server/fanout.hpp"
#include "tls/tls_stream.hpp"
#include "ws/upgrade.hpp"

namespace relay::server {
namespace {

// /echo: every message goes back as it came (same opcode; compressed if it arrived
// compressed and the connection negotiated permessage-deflate).
class echo_behavior final : public ws::behavior {
 public:
  void on_message(ws::websocket& ws, std::span<const uint8_t> payload, ws::opcode op,
                  ws::compress c) override {
    ws.send(payload, op, c);
  }
};

class publisher_behavior final : public ws::behavior {
 public:
  publisher_behavior(fanout& f, size_t loop_index) : fanout_(f), index_(loop_index) {}
  void on_message(ws::websocket&, std::span<const uint8_t> payload, ws::opcode op,
                  ws::compress) override {
    fanout_.publish(index_, payload, op);
  }

 private:
  fanout& fanout_;
  size_t index_;
};

class subscriber_behavior final : public ws::behavior {
 public:
  subscriber_behavior(fanout& f, size_t loop_index) : fanout_(f), index_(loop_index) {}
  void on_open(ws::websocket& ws) override { fanout_.subscribe(index_, ws); }
  void on_message(ws::websocket&, std::span<const uint8_t>, ws::opcode, ws::compress) override {}
  void on_close(ws::websocket& ws, uint16_t, std::string_view) override {
    fanout_.unsubscribe(index_, ws);
  }

 private:
  fanout& fanout_;
  size_t index_;
};

}  // namespace

struct server::shared_state {
  std::unique_ptr<tls::context> tls;
  std::unique_ptr<fanout> fan;
  ws::handshake_options handshake;
};

struct server::loop_context {
  loop_context(size_t i, fanout& f) : index(i), publisher(f, i), subscriber(f, i) {}
  size_t index;
  core::event_loop loop;
  std::atomic<bool> finished{false};  // run() returned
  std::unique_ptr<net::listener> listener;
  http::router router;
  net::connection_list http_conns;
  net::connection_list ws_conns;
  http::session_stats http_stats;
  ws::websocket_stats ws_stats;
  echo_behavior echo;
  publisher_behavior publisher;
  subscriber_behavior subscriber;
  struct drain_timer : core::timer {
    explicit drain_timer(loop_context* c) : core::timer(&check), ctx(c) {}
    static void check(core::timer& t) {
      loop_context* c = static_cast<drain_timer&>(t).ctx;
      if (c->http_conns.size() == 0 && c->ws_conns.size() == 0) {
        c->loop.stop();
      } else {
        c->loop.timers().schedule(t, c->loop.now_ms() + 10);
      }
    }
    loop_context* ctx;
  } drain{this};

  ~loop_context() {
    // Connections still open after a forced stop belong to no one else: free them here,
    // while the lists they unlink from still exist.
    http_conns.for_each([](net::connection& c) { delete &c; });
    ws_conns.for_each([](net::connection& c) { delete &c; });
  }
};

server::server(server_config config) : config_(std::move(config)) {}

server::~server() { stop(); }

void server::start() {
  shared_ = std::make_unique<shared_state>();
  if (!config_.tls_cert.empty() || !config_.tls_key.empty()) {
    if (config_.tls_cert.empty() || config_.tls_key.empty()) {
      throw std::runtime_error("TLS needs both --tls-cert and --tls-key");
    }
    shared_->tls = std::make_unique<tls::context>(config_.tls_cert, config_.tls_key);
  }
  shared_->handshake.deflate = config_.ws.deflate;

  unsigned n = config_.threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());

  // The first listener resolves port 0 to a real port; the others bind the same port with
  // SO_REUSEPORT so the kernel balances accepts across loops.
  net::bind_error err;
  std::vector<int> fds;
  int first = net::listen_tcp(config_.host, config_.port, config_.backlog, &err);
  if (first < 0) throw std::runtime_error(err.what);
  port_ = net::local_port(first);
  fds.push_back(first);
  for (unsigned i = 1; i < n; ++i) {
    int fd = net::listen_tcp(config_.host, port_, config_.backlog, &err);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      throw std::runtime_error(err.what);
    }
    fds.push_back(fd);
  }

  std::vector<core::event_loop*> loop_ptrs;
  // fanout needs every loop; loops need the fanout: build the contexts in two steps.
  shared_->fan = std::make_unique<fanout>(std::vector<core::event_loop*>(n, nullptr));
  for (unsigned i = 0; i < n; ++i) {
    loops_.push_back(std::make_unique<loop_context>(i, *shared_->fan));
    loop_ptrs.push_back(&loops_.back()->loop);
  }
  *shared_->fan = fanout(loop_ptrs);

  for (unsigned i = 0; i < n; ++i) {
    loop_context& ctx = *loops_[i];
    auto endpoint = [&](ws::behavior& app) {
      return ws::make_upgrade_handler(ws::endpoint{&app, &config_.ws, &shared_->handshake,
                                                   &ctx.ws_stats, &ctx.ws_conns});
    };
    if (config_.builtin_endpoints) {
      ctx.router.add("/echo", endpoint(ctx.echo));
      ctx.router.add("/pub", endpoint(ctx.publisher));
      ctx.router.add("/sub", endpoint(ctx.subscriber));
      ctx.router.add("/", [](http::http_session& s, http::request&, std::span<uint8_t>) {
        s.respond(http::status::ok, "text/plain",
                  "relay: WebSocket endpoints /echo, /pub and /sub\n");
      });
    }
    ctx.router.add("/healthz", [](http::http_session& s, http::request&, std::span<uint8_t>) {
      s.respond(http::status::ok, "text/plain", "ok\n");
    });
    if (config_.on_loop_setup) {
      loop_setup setup{ctx.loop, i, ctx.router, shared_->handshake, loop_ptrs,
                       [this](unsigned target, http::http_session& s) {
                         return move_to_loop(target, s);
                       }};
      config_.on_loop_setup(setup);
    }
    fanout* fan = shared_->fan.get();
    ctx.loop.add_iteration_hook([fan, i] { fan->flush_pass(i); });
    const tls::context* tls = shared_->tls.get();
    const http::session_options* http_opts = &config_.http;
    ctx.listener = std::make_unique<net::listener>(
        ctx.loop, fds[i], [&ctx, tls, http_opts](int fd, const sockaddr_storage&) {
          auto* s = new http::http_session(ctx.loop, fd, tls ? tls->accept(fd) : nullptr,
                                           *http_opts, ctx.router, &ctx.http_stats);
          if (!s->start()) {
            delete s;
            return;
          }
          ctx.http_conns.insert(s);
          s->begin();
        });
    if (!ctx.listener->start()) throw std::runtime_error("cannot register listener with epoll");
  }
  for (auto& ctx : loops_) {
    threads_.emplace_back([this, c = ctx.get()] {
      c->loop.run();
      if (config_.on_loop_exit) config_.on_loop_exit(static_cast<unsigned>(c->index));
      c->finished.store(true, std::memory_order_release);
    });
  }
}

bool server::move_to_loop(unsigned target, http::http_session& session) {
  if (target >= loops_.size()) return false;
  auto moved =
      std::make_shared<http::http_session::migration>(session.migrate_current_request());
  if (moved->socket.fd < 0) return false;
  loop_context* ctx = loops_[target].get();
  const http::session_options* http_opts = &config_.http;
  ctx->loop.post([ctx, moved, http_opts] {
    auto* s = new http::http_session(ctx->loop, moved->socket.release(),
                                     std::move(moved->socket.tls), *http_opts, ctx->router,
                                     &ctx->http_stats);
    if (!s->start()) {
      delete s;
      return;
    }
    ctx->http_conns.insert(s);
    s->begin();
    s->feed({reinterpret_cast<uint8_t*>(moved->bytes.data()), moved->bytes.size()});
  });
  return true;
}

void server::stop() {
  if (threads_.empty()) return;
  for (auto& ctx : loops_) {
    loop_context* c = ctx.get();
    c->loop.post([this, c] {
      c->listener->close();
      if (config_.on_loop_shutdown) config_.on_loop_shutdown(static_cast<unsigned>(c->index));
      c->ws_conns.for_each([](net::connection& conn) {
        static_cast<ws::websocket&>(conn).close(ws::close_code::going_away, "server shutdown");
      });
      c->http_conns.for_each([](net::connection& conn) { conn.close_after_flush(); });
      c->loop.timers().schedule(c->drain, c->loop.now_ms());
    });
  }
  // Loops stop themselves once their connections are gone; past the deadline, force it.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.shutdown_timeout_ms);
  for (size_t i = 0; i < threads_.size(); ++i) {
    while (!loops_[i]->finished.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    loops_[i]->loop.stop();
    threads_[i].join();
  }
  threads_.clear();
  loops_.clear();
}

}  // namespace relay::server
