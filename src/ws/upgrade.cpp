#include "ws/upgrade.hpp"

#include "http/http_session.hpp"

namespace relay::ws {

websocket* accept_upgrade(http::http_session& session, const http::request& req,
                          const endpoint& ep) {
  if (!is_websocket_upgrade(req)) {
    // A plain request to a WebSocket endpoint: tell the client how to talk to it
    // (RFC 9110 §15.5.22, RFC 6455 §4.2.2).
    session.respond_error(http::status::upgrade_required,
                          "Upgrade: websocket\r\n"
                          "Sec-WebSocket-Version: 13\r\n");
    return nullptr;
  }
  handshake_error error{};
  std::optional<handshake_result> accepted = accept_handshake(req, *ep.handshake, &error);
  if (!accepted) {
    session.respond_raw(error.response, http::keep_alive::no);
    session.close_after_flush();
    return nullptr;
  }
  auto* ws = new websocket(session.loop(), *ep.app, *ep.options, accepted->deflate, ep.stats);
  session.hand_over_to(*ws);
  if (ep.registry) ep.registry->insert(ws);
  ws->write(accepted->response);
  return ws;
}

http::handler make_upgrade_handler(endpoint ep) {
  return [ep](http::http_session& session, http::request& req, std::span<uint8_t> rest) {
    if (websocket* ws = accept_upgrade(session, req, ep)) ws->open(rest);
  };
}

}  // namespace relay::ws
