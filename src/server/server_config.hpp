#pragma once
// Everything `relay serve` can be told, with its defaults (docs/configuration.md lists them).
#include <cstdint>
#include <string>

#include "http/http_session.hpp"
#include "ws/websocket.hpp"

namespace relay::server {

struct server_config {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one loop per core
  int backlog = 4096;
  std::string tls_cert;  // both set -> every connection is TLS (wss://, https://)
  std::string tls_key;
  uint32_t shutdown_timeout_ms = 10'000;  // SIGTERM: wait this long for close handshakes
  http::session_options http;
  ws::websocket_options ws;
};

}  // namespace relay::server
