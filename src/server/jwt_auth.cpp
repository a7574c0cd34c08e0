#include "server/jwt_auth.hpp"

#include <optional>

#include "http/cookie.hpp"

namespace relay::server {
namespace {

std::string_view code_name(auth::jwt_errc e) noexcept {
  switch (e) {
    case auth::jwt_errc::malformed:
      return "malformed";
    case auth::jwt_errc::unsupported_alg:
      return "unsupported_alg";
    case auth::jwt_errc::unknown_key:
      return "unknown_key";
    case auth::jwt_errc::bad_signature:
      return "bad_signature";
    case auth::jwt_errc::expired:
      return "expired";
    case auth::jwt_errc::not_yet_valid:
      return "not_yet_valid";
    case auth::jwt_errc::bad_issuer:
      return "bad_issuer";
    case auth::jwt_errc::bad_audience:
      return "bad_audience";
    case auth::jwt_errc::missing_exp:
      return "missing_exp";
  }
  return "invalid";
}

socketio::error refusal(std::string_view message, std::string_view code) {
  return socketio::error{std::string(message), json::object{{"code", std::string(code)}}};
}

// A query parameter's raw value (tokens are base64url and dots: nothing to decode).
std::string_view query_param(std::string_view query, std::string_view name) noexcept {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

void install_jwt_auth(socketio::namespace_ref nsp, std::shared_ptr<const jwt_auth_config> cfg) {
  nsp.use([cfg](socketio::socket& s, socketio::next_fn next) {
    const socketio::handshake& hs = s.handshake();
    std::string_view token;
    if (const json::value* t = hs.auth().find("token"); t != nullptr && t->is_string()) {
      token = t->as_string();
    } else if (std::string_view a = hs.header("authorization");
               a.size() > 7 && (a.substr(0, 7) == "Bearer " || a.substr(0, 7) == "bearer ")) {
      token = a.substr(7);
    } else if (std::string_view c = http::cookie_value(hs.header("cookie"), cfg->cookie_name);
               !c.empty()) {
      token = c;
    } else if (std::string_view q = query_param(hs.query(), "token"); !q.empty()) {
      if (!cfg->allow_query_token) {
        next(refusal("token in query string not allowed", "token_in_query"));
        return;
      }
      token = q;
    }
    if (token.empty()) {
      if (cfg->allow_anonymous) {
        next(std::nullopt);
        return;
      }
      next(refusal("token required", "token_required"));
      return;
    }
    auto claims = auth::verify(token, cfg->keys, cfg->verify, auth::unix_now_s());
    if (!claims) {
      next(refusal(auth::describe(claims.error()), code_name(claims.error())));
      return;
    }
    json::value& data = s.data();
    if (!data.is_object()) data = json::object{};
    if (const json::value* sub = claims->find("sub"); sub != nullptr && sub->is_string()) {
      data["user"] = *sub;
    }
    data["claims"] = std::move(*claims);
    next(std::nullopt);
  });
}

}  // namespace relay::server
