#include "proto/engineio/engine.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "http/content_coding.hpp"
#include "http/http_session.hpp"
#include "proto/engineio/handshake_error.hpp"
#include "proto/engineio/open_packet.hpp"
#include "proto/engineio/query.hpp"
#include "proto/engineio/sid.hpp"

namespace relay::engineio {
namespace {

// The sid's first character names the loop that owns the session (6 of its 120 random bits):
// a request that reaches another loop can then be sent where the session lives.
constexpr std::string_view kLoopAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string sid_for_loop(unsigned loop_index) {
  std::string sid = generate_sid();
  sid[0] = kLoopAlphabet[loop_index % kLoopAlphabet.size()];
  return sid;
}

int sid_loop_index(std::string_view sid) {
  if (sid.empty()) return -1;
  const size_t i = kLoopAlphabet.find(sid[0]);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

}  // namespace

engine::engine(core::event_loop& loop, unsigned loop_index, const engine_options& options,
               const ws::handshake_options& handshake, engine_handler& handler)
    : loop_(loop),
      loop_index_(loop_index),
      options_(&options),
      ws_options_(options.websocket),
      handler_(&handler) {
  // Engine.IO has its own heartbeat and payload limit.
  ws_options_.max_message_size = options.max_payload;
  ws_options_.idle_timeout_ms = 0;
  handshake_ = handshake;
  handshake_.deflate.enabled = handshake.deflate.enabled && options.per_message_deflate;
  ws_endpoint_ = ws::endpoint{this, &ws_options_, &handshake_, nullptr, &ws_conns_};
}

engine::~engine() {
  // Sessions still alive at destruction (forced stop): free them without callbacks.
  std::vector<session*> all(sessions_.begin(), sessions_.end());
  sessions_.clear();
  for (session* s : all) {
    s->user_data = nullptr;
    delete s;
  }
  ws_conns_.for_each([](net::connection& c) { delete &c; });
}

void engine::close_all(std::string_view reason) {
  std::vector<session*> all;
  all.reserve(sessions_.size());
  all.assign(sessions_.begin(), sessions_.end());
  // Now, not after a last poll: the loop is about to stop, and every session must have told
  // its handler goodbye (and freed what the handler attached) before it does.
  for (session* s : all) {
    s->close(reason);
    if (!s->closed()) s->close_now(reason);
  }
}

namespace {

// The peer's address as text; empty if the socket has none (closed, or not IP).
std::string remote_ip(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

size_t engine::close_some(size_t n, std::string_view reason) {
  std::vector<session*> some;
  for (session* s : sessions_) {
    if (some.size() == n) break;
    some.push_back(s);
  }
  // As a client sees a server going away: a WebSocket closes (1000) after what was queued, a
  // polling session gets the close packet with its queue. Either way it reconnects by itself.
  for (session* s : some) s->close(reason);
  return some.size();
}

void engine::forget(session& s) { sessions_.erase(&s); }

std::string_view engine::by_sid::key(const session* s) noexcept { return s->sid(); }

std::string engine::cors_headers(const http::request& req) const {
  const std::string_view origin = req.header("Origin");
  if (options_->cors_origins.empty() || origin.empty()) return {};
  const auto& allowed = options_->cors_origins;
  if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end()) {
    // Any origin, but never with credentials (Fetch: "*" and credentials do not mix).
    return "Access-Control-Allow-Origin: *\r\n";
  }
  if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return {};
  std::string h = "Access-Control-Allow-Origin: ";
  h.append(origin).append("\r\nVary: Origin\r\n");
  if (options_->cors_credentials) h.append("Access-Control-Allow-Credentials: true\r\n");
  return h;
}

void engine::reject(http::http_session& http, handshake_error e, const std::string& cors) {
  ++stats_.bad_requests;
  std::string body;
  encode_error_body(e, body);
  http.respond(static_cast<http::status>(http_status(e)), "application/json", body, cors);
}

handshake_info engine::capture_handshake(const http::request& req,
                                         const http::http_session& http) const {
  handshake_info info;
  // Sized exactly up front: one block, no slack, no reallocation holes.
  size_t bytes = req.target.size();
  for (const http::header_field& f : req.headers) {
    bytes += 4 + std::min<size_t>(f.name.size(), 0xffff) + std::min<size_t>(f.value.size(), 0xffff);
  }
  info.headers.reserve(bytes);
  info.headers.set_target(req.target);
  for (const http::header_field& f : req.headers) info.headers.add(f.name, f.value);
  info.headers.shrink_to_fit();
  info.secure = http.is_tls();
  info.issued_ms = loop_.now_ms();
  return info;
}

std::string engine::open_packet(const std::string& sid, bool upgrade) const {
  std::string p = "0";
  encode_open_packet(sid, upgrade ? can_upgrade::yes : can_upgrade::no, options_->ping_interval_ms,
                     options_->ping_timeout_ms, options_->max_payload, p);
  return p;
}

void engine::handle(http::http_session& http, http::request& req, std::span<uint8_t> rest) {
  const std::string cors = cors_headers(req);
  if (req.method == "OPTIONS") {
    // CORS preflight.
    std::string h = cors;
    if (!cors.empty()) {
      h.append("Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n");
      const std::string_view asked = req.header("Access-Control-Request-Headers");
      if (!asked.empty()) h.append("Access-Control-Allow-Headers: ").append(asked).append("\r\n");
    }
    http.respond(http::status::no_content, {}, {}, h);
    return;
  }
  if (!options_->allowed_origins.empty()) {
    const std::string_view origin = req.header("Origin");
    if (!origin.empty() &&
        std::find(options_->allowed_origins.begin(), options_->allowed_origins.end(), origin) ==
            options_->allowed_origins.end()) {
      reject(http, handshake_error::forbidden, cors);
      return;
    }
  }
  const handshake_query q = parse_query(req.query);
  if (!q.valid) {
    reject(http, q.error, cors);
    return;
  }
  const bool websocket = q.transport == transport_kind::websocket;
  if ((websocket && !options_->allow_websocket) || (!websocket && !options_->allow_polling)) {
    reject(http, handshake_error::unknown_transport, cors);
    return;
  }
  if (websocket && !ws::is_websocket_upgrade(req)) {
    // Node: transport=websocket on a plain HTTP request is a bad request (code 3), not 426.
    reject(http, handshake_error::bad_request, cors);
    return;
  }
  if (!q.has_sid) {
    if (req.method != "GET") {
      reject(http, handshake_error::bad_handshake_method, cors);
      return;
    }
    if (options_->admit_handshake) {
      std::string client = remote_ip(http.fd());
      if (options_->trusted_proxies) {
        client =
            http::client_address(client, req.header("X-Forwarded-For"), *options_->trusted_proxies);
      }
      if (const uint16_t refused = options_->admit_handshake(client); refused != 0) {
        ++stats_.bad_requests;
        http.respond(static_cast<http::status>(refused), "application/json",
                     refused == 429 ? R"({"code":4,"message":"Too many connections"})"
                                    : R"({"code":4,"message":"Server full"})",
                     cors + "Retry-After: 1\r\n");
        return;
      }
    }
    if (options_->refuse_new_sessions && options_->refuse_new_sessions->load()) {
      ++stats_.bad_requests;
      http.respond(http::status::service_unavailable, "application/json",
                   R"({"code":4,"message":"Server draining"})", cors + "Retry-After: 1\r\n");
      return;
    }
    handshake(http, req, rest, websocket, cors, q.b64);
    return;
  }
  session* found = sessions_.find(q.sid());
  if (found == nullptr) {
    // The kernel spreads connections over loops: a poll or an upgrade may reach a loop other
    // than its session's. The sid says which; the connection moves there and is served anew.
    const int owner = sid_loop_index(q.sid());
    if (owner >= 0 && static_cast<unsigned>(owner) != loop_index_ &&
        static_cast<unsigned>(owner) < loop_count_ && migrate_ &&
        migrate_(static_cast<unsigned>(owner), http)) {
      return;
    }
    reject(http, handshake_error::unknown_sid, cors);
    return;
  }
  session& s = *found;
  if (websocket) {
    // Upgrade from polling.
    if (s.transport() != transport_kind::polling || s.upgrading() || !options_->allow_upgrades) {
      reject(http, handshake_error::bad_request, cors);
      return;
    }
    ws::websocket* ws = ws::accept_upgrade(http, req, ws_endpoint_);
    if (ws == nullptr) return;
    ws->user_data = &s;
    s.attach_probe(*ws);
    ws->open(rest);
    return;
  }
  if (s.transport() != transport_kind::polling) {
    reject(http, handshake_error::bad_request, cors);
    return;
  }
  if (req.method == "GET") {
    s.on_poll(http, cors, http::choose_coding(req.header("Accept-Encoding")));
  } else if (req.method == "POST") {
    if (req.body.size() > options_->max_payload) {
      http.respond_error(http::status::payload_too_large, cors);
      s.close("transport error");
      return;
    }
    s.on_post(http, req.body, cors);
  } else {
    reject(http, handshake_error::bad_request, cors);
  }
}

void engine::handshake(http::http_session& http, http::request& req, std::span<uint8_t> rest,
                       bool websocket, const std::string& cors, bool base64_binary) {
  std::string sid = sid_for_loop(loop_index_);
  ws::websocket* ws = nullptr;
  handshake_info info = capture_handshake(req, http);
  if (websocket) {
    ws = ws::accept_upgrade(http, req, ws_endpoint_);
    if (ws == nullptr) return;
  }
  ++stats_.handshakes;
  auto* s =
      new session(*this, sid, websocket ? transport_kind::websocket : transport_kind::polling);
  sessions_.insert(s);
  s->set_base64_binary(base64_binary);
  const std::string open =
      open_packet(sid, !websocket && options_->allow_upgrades && options_->allow_websocket);
  if (websocket) {
    ws->user_data = s;
    s->attach_websocket(*ws);
    ws->send(open);
    ws->open(rest);
  } else {
    std::string headers = cors;
    if (!options_->cookie.empty()) {
      headers.append("Set-Cookie: ")
          .append(options_->cookie)
          .append("=")
          .append(sid)
          .append("; Path=/; HttpOnly; SameSite=Lax\r\n");
    }
    http.respond(http::status::ok, "text/plain; charset=UTF-8", open, headers);
  }
  s->start();
  handler_->on_open(*s, std::move(info));
}

void engine::on_message(ws::websocket& ws, std::span<const uint8_t> payload, ws::opcode op,
                        ws::compress) {
  if (auto* s = static_cast<session*>(ws.user_data)) s->on_ws_message(ws, payload, op);
}

void engine::on_close(ws::websocket& ws, uint16_t, std::string_view) {
  if (auto* s = static_cast<session*>(ws.user_data)) {
    ws.user_data = nullptr;
    s->on_ws_closed(ws);
  }
}

}  // namespace relay::engineio
