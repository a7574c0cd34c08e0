#include "server/jwt_auth.hpp"

#include <algorithm>
#include <optional>

#include "core/wall_clock.hpp"
#include "http/cookie.hpp"
#include "http/query.hpp"

namespace relay::server {
namespace {

socketio::error refuse(const jwt_auth_config& cfg, std::string_view message,
                       std::string_view code) {
  if (cfg.on_refusal) cfg.on_refusal(code);
  return socketio::error{std::string(message), json::object{{"code", std::string(code)}}};
}

// Arms the socket's one timer for the token's expiry: the warning first, then the end.
void arm_expiry(socketio::socket& s, const std::shared_ptr<const jwt_auth_config>& cfg,
                const json::value& claims) {
  const json::value* exp = claims.find("exp");
  if (exp == nullptr || !exp->is_number()) return;  // verify() allowed a token without exp
  const auto exp_ms = static_cast<int64_t>(exp->as_double() * 1000);
  const int64_t now = core::wall_clock_ms();
  const int64_t left = std::max<int64_t>(exp_ms - now, 0);
  const int64_t warn_before = std::min<int64_t>(int64_t{cfg->expiry_warning_s} * 1000, left / 2);
  auto expire = [](socketio::socket& s) {
    s.emit("token:expired", {});
    s.disconnect();
  };
  const json::value exp_value = *exp;
  s.set_timer(
      static_cast<uint32_t>(left - warn_before), [exp_ms, exp_value, expire](socketio::socket& s) {
        s.emit("token:expiring", {json::object{{"exp", exp_value}}});
        s.set_timer(static_cast<uint32_t>(std::max<int64_t>(exp_ms - core::wall_clock_ms(), 0)),
                    expire);
      });
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
    } else if (std::string_view q = http::query_param(hs.query(), "token").value_or("");
               !q.empty()) {
      if (!cfg->allow_query_token) {
        next(refuse(*cfg, "token in query string not allowed", "token_in_query"));
        return;
      }
      token = q;
    }
    if (token.empty()) {
      if (cfg->allow_anonymous) {
        next(std::nullopt);
        return;
      }
      next(refuse(*cfg, "token required", "token_required"));
      return;
    }
    auto claims = auth::verify(token, cfg->keys, cfg->verify, auth::unix_now_s());
    if (!claims) {
      next(refuse(*cfg, auth::describe(claims.error()), auth::code_name(claims.error())));
      return;
    }
    const json::value* sub = claims->find("sub");
    if (sub != nullptr && sub->is_string() && cfg->max_connections_per_user != 0) {
      // Counted here and released on disconnect: this middleware is the namespace's last, so
      // the socket connects right after next() below (a socket that never connects would
      // never be released).
      auto counts = cfg->counts;
      const std::string user = sub->as_string();
      {
        std::lock_guard lock(counts->mu);
        uint32_t& n = counts->by_user[user];
        if (n >= cfg->max_connections_per_user) {
          next(refuse(*cfg, "too many connections for this user", "too_many_connections"));
          return;
        }
        ++n;
      }
      s.on_disconnect([counts, user](socketio::socket&, std::string_view) {
        std::lock_guard lock(counts->mu);
        auto it = counts->by_user.find(user);
        if (it != counts->by_user.end() && --it->second == 0) counts->by_user.erase(it);
      });
    }
    json::value& data = s.data();
    if (!data.is_object()) data = json::object{};
    if (sub != nullptr && sub->is_string()) data["user"] = *sub;
    arm_expiry(s, cfg, *claims);
    data["claims"] = std::move(*claims);
    // A fresh token for the same user extends the connection; the grants stay as at connect.
    s.on("token:refresh", [cfg](socketio::socket& s, socketio::args& a, socketio::ack reply) {
      auto answer = [&](json::value v) {
        if (reply) reply({std::move(v)});
      };
      if (a.empty() || !a[0].is_string()) {
        return answer(json::object{{"error", "token:refresh takes a token"}});
      }
      auto fresh = auth::verify(a[0].as_string(), cfg->keys, cfg->verify, auth::unix_now_s());
      if (!fresh) {
        return answer(json::object{{"error", std::string(auth::describe(fresh.error()))}});
      }
      json::value& data = s.data();
      const json::value* was = data.find("user");
      const json::value* now = fresh->find("sub");
      if ((was != nullptr) != (now != nullptr) || (was != nullptr && !(*was == *now))) {
        return answer(json::object{{"error", "token for another user"}});
      }
      arm_expiry(s, cfg, *fresh);
      const json::value* exp = fresh->find("exp");
      json::value exp_value = exp != nullptr ? *exp : json::value();
      data["claims"] = std::move(*fresh);
      answer(json::object{{"ok", true}, {"exp", exp_value}});
    });
    next(std::nullopt);
  });
}

}  // namespace relay::server
