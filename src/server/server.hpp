#pragma once
// The relay server: N event loops (one thread each), each with its own SO_REUSEPORT listener,
// HTTP router and WebSocket endpoints (/echo, /pub, /sub, /healthz).
//
// Threading: start() and stop()/wait() are called from the owning (main) thread; everything
// else runs on the loops.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/http_session.hpp"
#include "server/server_config.hpp"

namespace relay::server {

class server {
 public:
  explicit server(server_config config);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and starts the loops. Throws std::runtime_error with a clear message (port in use,
  // bad TLS files) -- start-up errors only.
  void start();
  uint16_t port() const noexcept { return port_; }
  unsigned threads() const noexcept { return static_cast<unsigned>(loops_.size()); }

  // Graceful stop: close listeners, send 1001 to every WebSocket, wait up to
  // shutdown_timeout_ms for close handshakes and queued output, then stop the loops.
  // Blocks until every loop thread has exited.
  void stop();

 private:
  struct loop_context;
  bool move_to_loop(unsigned target, http::http_session& session);
  server_config config_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<loop_context>> loops_;
  std::vector<std::thread> threads_;
  struct shared_state;
  std::unique_ptr<shared_state> shared_;
};

}  // namespace relay::server
