#pragma once
// JWT at the Socket.IO handshake for `relay serve`: a namespace middleware that admits a socket
// only with a token that verifies (src/auth/jwt), found, in this order, in the client's `auth`
// payload ({token: "..."}), an `Authorization: Bearer` header, or a cookie. A token in the
// query string is refused unless allowed: URLs end up in proxy and access logs.
//
// A refusal is a CONNECT_ERROR whose message says why ("token expired", "token required", ...)
// and whose data is {"code": <jwt_errc name or "token_required" / "token_in_query">}. An
// admitted socket's data() gets "user" (the "sub" claim) and "claims".
//
// Tokens expire on live connections too: `expiry_warning_s` before "exp" (at most half the time
// left) the socket gets "token:expiring" {exp}; the client may answer with the event
// "token:refresh" (a new token for the same user; ack {ok, exp} or {error}). At "exp" without a
// fresh token it gets "token:expired" and is disconnected from the namespace ("io server
// disconnect" on the client).
//
// A user holds at most max_connections_per_user sockets on the namespace at once; one more is
// refused ("too many connections for this user", code "too_many_connections").
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.hpp"
#include "relay/socketio.hpp"

namespace relay::server {

struct jwt_auth_config {
  auth::key_set keys;
  auth::verify_options verify;
  std::string cookie_name = "relay_token";
  bool allow_query_token = false;  // ?token=... in the handshake URL
  bool allow_anonymous = false;    // no token at all: admitted without a user
  uint32_t expiry_warning_s = 60;  // "token:expiring" this long before exp
  // Sockets one user ("sub") may hold on the namespace at once, over all loops; 0: no limit.
  uint32_t max_connections_per_user = 5;
  // The live counts behind that limit (shared by the loops; touched at connect and disconnect
  // only, never per message).
  struct user_counts {
    std::mutex mu;
    std::unordered_map<std::string, uint32_t> by_user;
  };
  std::shared_ptr<user_counts> counts = std::make_shared<user_counts>();
  // Told each refusal's code ("expired", "too_many_connections", ...), e.g. to count it. Runs
  // on the socket's loop; refusals are rare enough for it to take a lock.
  std::function<void(std::string_view code)> on_refusal;
};

void install_jwt_auth(socketio::namespace_ref nsp, std::shared_ptr<const jwt_auth_config> cfg);

}  // namespace relay::server
