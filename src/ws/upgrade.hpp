#pragma once
// Glue between HTTP routing and WebSocket: an http::handler that validates the upgrade
// (RFC 6455 §4.2), answers 101 and hands the socket to a new websocket.
#include <functional>

#include "http/router.hpp"
#include "net/connection.hpp"
#include "ws/handshake.hpp"
#include "ws/websocket.hpp"

namespace relay::ws {

struct endpoint {
  behavior* app;
  const websocket_options* options;
  const handshake_options* handshake;
  websocket_stats* stats;            // per loop, may be null
  net::connection_list* registry;    // per loop list of live websockets, may be null
};

// Non-upgrade requests to a WebSocket endpoint get 426 with Sec-WebSocket-Version: 13.
http::handler make_upgrade_handler(endpoint ep);

// The same for handlers that do more than upgrade (Engine.IO): validates the request, answers
// 101 and moves the socket to a new websocket, which is returned not yet opened (set its
// user_data, then call open(rest)). On refusal the session has been answered (400/426) and null
// is returned.
websocket* accept_upgrade(http::http_session& session, const http::request& req,
                          const endpoint& ep);

}  // namespace relay::ws
