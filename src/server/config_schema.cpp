#include "server/config_schema.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <optional>
#include <type_traits>

#include "auth/room_grants.hpp"

namespace relay::server {
namespace {

template <class T>
void assign(T& field, const config_value& v) {
  if constexpr (std::is_same_v<T, bool>) {
    field = std::get<bool>(v);
  } else if constexpr (std::is_same_v<T, std::optional<bool>>) {
    field = std::get<bool>(v);
  } else if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(std::get<int64_t>(v));  // the rule bounded it to T's range
  } else if constexpr (std::is_same_v<T, std::string>) {
    field = std::get<std::string>(v);
  } else {
    field = std::get<std::vector<std::string>>(v);
  }
}

template <class T>
config_value value_of(const T& field) {
  if constexpr (std::is_same_v<T, bool>) {
    return field;
  } else if constexpr (std::is_same_v<T, std::optional<bool>>) {
    return field.value_or(false);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(field);
  } else {
    return field;
  }
}

// access: a captureless lambda returning a reference to the field; captureless lambdas are
// default-constructible, so the setting's plain function pointers can call it.
template <class Target, class Access>
setting<Target> make(std::string_view key, std::string_view flag, std::string_view help,
                     value_rule rule, Access, bool flag_sets = true) {
  using field_type = std::remove_reference_t<decltype(Access{}(std::declval<Target&>()))>;
  if constexpr (std::is_integral_v<field_type> && !std::is_same_v<field_type, bool>) {
    rule.max = std::min<int64_t>(rule.max, static_cast<int64_t>(std::min<uint64_t>(
                                               std::numeric_limits<field_type>::max(), INT64_MAX)));
  }
  setting<Target> s;
  s.key = key;
  s.flag = flag;
  s.help = help;
  s.rule = rule;
  s.flag_sets = flag_sets;
  s.set = [](Target& t, const config_value& v) { assign(Access{}(t), v); };
  s.get = [](const Target& t) { return value_of(Access{}(const_cast<Target&>(t))); };
  return s;
}

// The field a setting reads and writes: RELAY_FIELD(server.port).
#define RELAY_FIELD(path) \
  [](auto& target) -> auto& { return target.path; }

template <class Access>
serve_setting serve_key(std::string_view key, std::string_view flag, std::string_view help,
                        value_rule rule, Access access, bool flag_sets = true) {
  return make<serve_settings>(key, flag, help, rule, access, flag_sets);
}

template <class Access>
namespace_setting namespace_key(std::string_view key, std::string_view help, value_rule rule,
                                Access access) {
  return make<namespace_settings>(key, "", help, rule, access);
}

constexpr value_rule text{value_kind::string};
constexpr value_rule boolean{value_kind::boolean};
constexpr value_rule list{value_kind::string_list};
constexpr value_rule integer(int64_t min = 0) { return {value_kind::integer, {}, min}; }
constexpr value_rule millis(int64_t min = 0) {
  return {value_kind::duration, time_unit::milliseconds, min};
}
constexpr value_rule seconds(int64_t min = 0) {
  return {value_kind::duration, time_unit::seconds, min};
}
constexpr value_rule bytes(int64_t min = 0) { return {value_kind::size, {}, min}; }

const std::vector<serve_setting>& build_serve_schema() {
  static const std::vector<serve_setting> schema = {
      // [server]
      serve_key("server.host", "--host", "Address to listen on", text, RELAY_FIELD(server.host)),
      serve_key("server.port", "--port", "TCP port (0 = pick a free one, printed at start)",
                integer(), RELAY_FIELD(server.port)),
      serve_key("server.threads", "--threads", "Event loops, one thread each (0 = one per core)",
                integer(), RELAY_FIELD(server.threads)),
      serve_key("server.tls_cert", "--tls-cert",
                "PEM certificate chain: serve wss:// and https:// (with server.tls_key)", text,
                RELAY_FIELD(server.tls_cert)),
      serve_key("server.tls_key", "--tls-key", "PEM private key for server.tls_cert", text,
                RELAY_FIELD(server.tls_key)),
      serve_key("server.trusted_proxies", "--trusted-proxy",
                "Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client "
                "for the per-IP limits (empty: the TCP peer is the client)",
                list, RELAY_FIELD(socketio.trusted_proxies)),
      serve_key("server.shutdown_timeout", "--shutdown-timeout",
                "On SIGTERM/SIGINT: how long to wait for close handshakes and queued output",
                millis(), RELAY_FIELD(server.shutdown_timeout_ms)),
      serve_key("server.drain_timeout", "--drain-timeout",
                "On SIGTERM: refuse new clients, answer /readyz with 503, and close the "
                "connected ones spread over this long (0 = at once)",
                millis(), RELAY_FIELD(server.drain_timeout_ms)),
      serve_key("server.static_dir", "--static-dir",
                "Directory of files served at / (empty: the demo chat, <dir of relay>/web)", text,
                RELAY_FIELD(static_dir)),
      serve_key("server.data_dir", "--data-dir",
                "Directory for state that survives a restart (room history in SQLite); empty: "
                "memory only",
                text, RELAY_FIELD(data_dir)),
      // [http]
      serve_key("http.request_timeout", "--request-timeout",
                "Time for a whole HTTP request head and body to arrive (408)", millis(1),
                RELAY_FIELD(server.http.request_timeout_ms)),
      serve_key("http.keep_alive_timeout", "--keep-alive-timeout",
                "How long an idle HTTP keep-alive connection is kept", millis(1),
                RELAY_FIELD(server.http.keep_alive_timeout_ms)),
      serve_key("http.max_header_size", "--max-header-size",
                "Largest HTTP request line + headers (431)", bytes(256),
                RELAY_FIELD(server.http.limits.max_header_bytes)),
      serve_key("http.max_body_size", "--max-body-size",
                "Largest HTTP request body (413); also bounds Socket.IO polling POSTs", bytes(),
                RELAY_FIELD(server.http.limits.max_body_bytes)),
      // [websocket]
      serve_key("websocket.max_message_size", "--max-message-size",
                "Largest inbound WebSocket message on /echo, /pub, /sub, after inflation (1009)",
                bytes(1), RELAY_FIELD(server.ws.max_message_size)),
      serve_key("websocket.max_buffered_bytes", "--max-buffered-bytes",
                "Outbound queue limit per connection; a slower consumer is closed (1008)", bytes(1),
                RELAY_FIELD(server.ws.max_buffered_bytes)),
      serve_key("websocket.high_water", "--high-water",
                "Queued outbound bytes above which the server stops reading from that peer",
                bytes(1), RELAY_FIELD(server.ws.socket.high_water)),
      serve_key("websocket.idle_timeout", "--idle-timeout",
                "Silence on /echo, /pub, /sub before a ping; twice that: disconnect (0 = off)",
                millis(), RELAY_FIELD(server.ws.idle_timeout_ms)),
      serve_key("websocket.close_timeout", "--close-timeout",
                "How long to wait for the peer's close frame", millis(1),
                RELAY_FIELD(server.ws.close_timeout_ms)),
      serve_key("websocket.compression", "--no-compression",
                "Negotiate permessage-deflate on /echo, /pub, /sub (the flag turns it off)",
                boolean, RELAY_FIELD(websocket_compression), false),
      serve_key("websocket.server_no_context_takeover", "--server-no-context-takeover",
                "Reset the server's compressor per message (less memory, worse ratio)", boolean,
                RELAY_FIELD(server.ws.deflate.server_no_context_takeover)),
      // [socketio]
      serve_key("socketio.ping_interval", "--ping-interval", "Engine.IO pingInterval", millis(1),
                RELAY_FIELD(socketio.ping_interval_ms)),
      serve_key("socketio.ping_timeout", "--ping-timeout", "Engine.IO pingTimeout", millis(1),
                RELAY_FIELD(socketio.ping_timeout_ms)),
      serve_key("socketio.connect_timeout", "--connect-timeout",
                "A session that joins no namespace within this is closed", millis(1),
                RELAY_FIELD(socketio.connect_timeout_ms)),
      serve_key("socketio.max_http_buffer_size", "--max-http-buffer-size",
                "Largest Engine.IO payload (a polling POST or a WebSocket message)", bytes(1),
                RELAY_FIELD(socketio.max_http_buffer_size)),
      serve_key("socketio.http_compression", "--no-http-compression",
                "gzip/deflate long-polling responses for clients that accept it (the flag turns "
                "it off)",
                boolean, RELAY_FIELD(socketio.http_compression), false),
      serve_key("socketio.http_compression_threshold", "",
                "Smallest long-polling response that is compressed", bytes(),
                RELAY_FIELD(socketio.http_compression_threshold)),
      serve_key("socketio.cors_origins", "--cors-origin",
                "Browser origins allowed to use Socket.IO cross-origin (* = any)", list,
                RELAY_FIELD(socketio.cors_origins)),
      serve_key("socketio.allowed_origins", "--allowed-origin",
                "Only browsers from these origins may connect, WebSocket included (empty = any)",
                list, RELAY_FIELD(socketio.allowed_origins)),
      serve_key("socketio.recovery", "--recovery",
                "Connection state recovery: a client back within recovery_max_disconnection gets "
                "what it missed",
                boolean, RELAY_FIELD(socketio.recovery.enabled)),
      serve_key("socketio.recovery_max_disconnection", "",
                "How long a disconnected session's state is kept for recovery", millis(1),
                RELAY_FIELD(socketio.recovery.max_disconnection_ms)),
      // [jwt]
      serve_key("jwt.secret", "--jwt-secret",
                "HMAC secret for HS256/384/512 tokens (JWT is on once a secret or key is set)",
                text, RELAY_FIELD(jwt.secret)),
      serve_key("jwt.public_keys", "--jwt-public-key",
                "PEM public key files for RS256 (RSA) or ES256 (P-256) tokens", list,
                RELAY_FIELD(jwt.public_keys)),
      serve_key("jwt.jwks_file", "--jwt-jwks-file",
                "JWK Set file ({\"keys\": [...]}): RSA, EC P-256 and oct keys chosen by kid", text,
                RELAY_FIELD(jwt.jwks_file)),
      serve_key("jwt.issuer", "--jwt-issuer", "Required \"iss\" claim (empty: not checked)", text,
                RELAY_FIELD(jwt.issuer)),
      serve_key("jwt.audience", "--jwt-audience", "Accepted \"aud\" values (empty: not checked)",
                list, RELAY_FIELD(jwt.audience)),
      serve_key("jwt.leeway", "--jwt-leeway", "Clock skew allowed for exp and nbf", seconds(),
                RELAY_FIELD(jwt.leeway_s)),
      serve_key("jwt.cookie", "--jwt-cookie", "Cookie that may carry the token", text,
                RELAY_FIELD(jwt.cookie)),
      serve_key("jwt.allow_query_token", "--jwt-allow-query",
                "Accept ?token= in the handshake URL (it ends up in proxy logs)", boolean,
                RELAY_FIELD(jwt.allow_query_token)),
      serve_key("jwt.allow_anonymous", "--allow-anonymous",
                "Admit clients that send no token (a bad token is still refused); namespaces may "
                "override",
                boolean, RELAY_FIELD(jwt.allow_anonymous)),
      serve_key("jwt.expiry_warning", "--jwt-expiry-warning",
                "How long before a token's exp the client gets token:expiring", seconds(),
                RELAY_FIELD(jwt.expiry_warning_s)),
      // [history]
      serve_key("history.max_messages", "--history-size",
                "Messages each room keeps for clients catching up (0 = no count limit)", integer(),
                RELAY_FIELD(history.max_messages)),
      serve_key("history.max_age", "--history-ttl",
                "How long a room keeps a message (0 = no age limit)", millis(),
                RELAY_FIELD(history.max_age_ms)),
      serve_key("history.max_bytes", "", "Bytes of messages each room keeps (0 = no limit)",
                bytes(), RELAY_FIELD(history.max_bytes)),
      // [sse]
      serve_key("sse.enabled", "--no-sse", "Serve GET /sse?rooms=a,b (the flag turns it off)",
                boolean, RELAY_FIELD(sse.enabled), false),
      serve_key("sse.heartbeat", "", "A comment line this often keeps idle streams open",
                millis(1000), RELAY_FIELD(sse.heartbeat_ms)),
      serve_key("sse.max_rooms", "", "Rooms one stream may ask for", integer(1),
                RELAY_FIELD(sse.max_rooms)),
      serve_key("sse.anonymous_subscribe", "",
                "With JWT and jwt.allow_anonymous: rooms a stream without a token may read", list,
                RELAY_FIELD(sse.anonymous_subscribe)),
      // [log]
      serve_key("log.level", "--log-level",
                "Lowest level logged to stderr: debug, info, warn, error", text,
                RELAY_FIELD(log.level)),
      serve_key("log.format", "--log-format", "text (for a terminal) or json (one object per line)",
                text, RELAY_FIELD(log.format)),
      // [api]
      serve_key("api.keys", "--api-key",
                "Keys that open the HTTP API at /api/ (Authorization: Bearer KEY); none: the "
                "API is off",
                list, RELAY_FIELD(api_keys)),
      // [limits]
      serve_key("limits.max_connections_per_user", "--max-connections-per-user",
                "With JWT: sockets one user may hold per namespace at once (0 = no limit)",
                integer(), RELAY_FIELD(limits.max_connections_per_user)),
      serve_key("limits.events_per_second", "--max-events-per-second",
                "Socket.IO events one connection may send per second (a token bucket; 0 = no "
                "limit); events over it are dropped and the client gets relay:error",
                integer(), RELAY_FIELD(limits.events_per_second)),
      serve_key("limits.event_burst", "", "Events a connection may send at once above the rate",
                integer(1), RELAY_FIELD(limits.event_burst)),
      serve_key("limits.bytes_per_second", "",
                "Inbound bytes one connection may send per second, bursts of twice that (0 = no "
                "limit)",
                bytes(), RELAY_FIELD(limits.bytes_per_second)),
      serve_key("limits.max_rooms_per_connection", "",
                "Rooms one socket may be in at once on a rooms namespace (0 = no limit)", integer(),
                RELAY_FIELD(limits.max_rooms_per_connection)),
      serve_key("limits.max_json_depth", "",
                "Deepest JSON nesting of a Socket.IO event (its array included); deeper closes "
                "the connection",
                integer(2), RELAY_FIELD(socketio.max_json_depth)),
      serve_key("limits.connections_per_ip_per_second", "",
                "New Socket.IO sessions one client address may open per second (0 = no limit; "
                "behind a proxy every client has the proxy's address)",
                integer(), RELAY_FIELD(limits.connections_per_ip_per_second)),
      serve_key("limits.connection_burst_per_ip", "",
                "Sessions one address may open at once above that rate", integer(1),
                RELAY_FIELD(limits.connection_burst_per_ip)),
      serve_key("limits.max_connections", "--max-connections",
                "Socket.IO sessions this server holds at once; more are refused with 503 (0 = no "
                "limit)",
                integer(), RELAY_FIELD(limits.max_connections)),
  };
  return schema;
}

const std::vector<namespace_setting>& build_namespace_schema() {
  static const std::vector<namespace_setting> schema = {
      namespace_key(
          "rooms", "Clients join, leave and publish in rooms by event, within their token's grants",
          boolean, RELAY_FIELD(rooms)),
      namespace_key(
          "anonymous",
          "Admit clients without a token on this namespace (default: jwt.allow_anonymous)", boolean,
          RELAY_FIELD(anonymous)),
      namespace_key("anonymous_subscribe",
                    "Rooms clients without a token may join (patterns, * = any run of characters)",
                    list, RELAY_FIELD(anonymous_subscribe)),
      namespace_key("presence",
                    "Track who is in each room (a user once, however many tabs) and announce "
                    "presence:join / presence:leave",
                    boolean, RELAY_FIELD(presence)),
      namespace_key("anonymous_publish", "Rooms clients without a token may publish in", list,
                    RELAY_FIELD(anonymous_publish)),
  };
  return schema;
}

}  // namespace

std::span<const serve_setting> serve_schema() { return build_serve_schema(); }
std::span<const namespace_setting> namespace_schema() { return build_namespace_schema(); }

const serve_setting* find_serve_setting(std::string_view key) {
  for (const serve_setting& s : serve_schema()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

const namespace_setting* find_namespace_setting(std::string_view key) {
  for (const namespace_setting& s : namespace_schema()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string env_name(std::string_view key) {
  std::string name = "RELAY_";
  for (const char c : key) {
    name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

history_settings::limits history_settings::for_room(std::string_view room) const {
  limits out{max_messages, max_age_ms, max_bytes};
  const room_rule* best = nullptr;
  for (const room_rule& r : rooms) {
    if (auth::room_matches(r.pattern, room) &&
        (best == nullptr || r.pattern.size() > best->pattern.size())) {
      best = &r;
    }
  }
  if (best != nullptr) {
    out.max_messages = best->max_messages.value_or(out.max_messages);
    out.max_age_ms = best->max_age_ms.value_or(out.max_age_ms);
    out.max_bytes = best->max_bytes.value_or(out.max_bytes);
  }
  return out;
}

namespace_settings& serve_settings::namespace_named(const std::string& name) {
  for (namespace_settings& n : namespaces) {
    if (n.name == name) return n;
  }
  namespace_settings& n = namespaces.emplace_back();
  n.name = name;
  return n;
}

}  // namespace relay::server
