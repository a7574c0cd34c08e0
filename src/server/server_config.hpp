#pragma once
// Everything `relay serve` can be told, with its defaults (docs/configuration.md lists them).
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/event_loop.hpp"
#include "http/http_session.hpp"
#include "http/router.hpp"
#include "ws/handshake.hpp"
#include "ws/websocket.hpp"

namespace relay::server {

// What a protocol layer (Socket.IO) gets to plug itself into each loop.
struct loop_setup {
  core::event_loop& loop;
  unsigned index;
  http::router& router;
  const ws::handshake_options& handshake;
  std::span<core::event_loop* const> all_loops;  // every loop, by index
  // From a handler on this loop: moves the request's connection to loop `target`, where it is
  // parsed and routed again (sessions that live on another loop). False if it cannot move.
  std::function<bool(unsigned target, http::http_session& session)> move_to_loop;
};

struct server_config {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one loop per core
  int backlog = 4096;
  std::string tls_cert;  // both set -> every connection is TLS (wss://, https://)
  std::string tls_key;
  uint32_t shutdown_timeout_ms = 10'000;  // SIGTERM: wait this long for close handshakes
  uint32_t drain_timeout_ms = 30'000;     // relay serve, SIGTERM: spread client closes over this
  http::session_options http;
  ws::websocket_options ws;
  bool builtin_endpoints = true;  // /echo, /pub, /sub and the text page at /

  // Hooks. setup: main thread, before the loops run (add routes, iteration hooks). shutdown:
  // on the loop, when stop() begins (close sessions politely). exit: on the loop, after it ran
  // its last iteration (free per-loop state while the loop still exists).
  std::function<void(loop_setup&)> on_loop_setup;
  std::function<void(unsigned index)> on_loop_shutdown;
  std::function<void(unsigned index)> on_loop_exit;
};

}  // namespace relay::server
