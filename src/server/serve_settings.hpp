#pragma once
// Everything `relay serve` runs with. The defaults are the embedded single node `make run`
// starts; the TOML file, RELAY_ variables and flags override them in that order
// (src/server/config_schema.cpp names every key; docs/configuration.md documents it).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/socketio.hpp"
#include "server/server_config.hpp"

namespace relay::server {

// [namespaces."/live"]: a Socket.IO namespace with built-in behaviour.
struct namespace_settings {
  std::string name;               // "/live"
  bool rooms = true;              // join / leave / publish events (rooms_service)
  std::optional<bool> anonymous;  // admit clients without a token; unset: jwt.allow_anonymous
  // What clients without a token may do in the rooms (patterns as in a token's claims).
  std::vector<std::string> anonymous_subscribe{"*"};
  std::vector<std::string> anonymous_publish;
  bool presence = true;  // track who is in each room; presence:join / presence:leave events
};

struct jwt_settings {
  std::string secret;                    // HS256/384/512
  std::vector<std::string> public_keys;  // PEM files: RS256 / ES256
  std::string jwks_file;                 // a JWK Set (RFC 7517)
  std::string issuer;
  std::vector<std::string> audience;
  int64_t leeway_s = 30;
  std::string cookie = "relay_token";
  bool allow_query_token = false;
  bool allow_anonymous = false;
  uint32_t expiry_warning_s = 60;
  bool enabled() const { return !secret.empty() || !public_keys.empty() || !jwks_file.empty(); }
};

struct limit_settings {
  uint32_t max_connections_per_user = 5;  // per namespace, with JWT; 0 = no limit
  uint32_t events_per_second = 100;       // per connection; 0 = no limit
  uint32_t event_burst = 200;
  uint64_t bytes_per_second = 1024 * 1024;     // per connection, inbound
  uint32_t max_rooms_per_connection = 100;     // rooms namespaces; 0 = no limit
  uint32_t connections_per_ip_per_second = 0;  // new sessions per address; 0 = no limit
  uint32_t connection_burst_per_ip = 20;
  uint32_t max_connections = 0;  // Engine.IO sessions on this server; 0 = no limit
};

// [history]: what each room keeps for clients catching up (0 = unlimited).
struct history_settings {
  uint64_t max_messages = 100;
  uint64_t max_age_ms = 5 * 60 * 1000;
  uint64_t max_bytes = 1024 * 1024;
  // [history.rooms."chat:*"]: other limits for the rooms a pattern matches (`*` wildcards; the
  // longest matching pattern wins; a key left out keeps the value above). Rooms are shared by
  // every rooms namespace, the HTTP API and SSE, so their limits follow their names, as
  // Centrifugo's channel namespaces ("chat:...") do.
  struct room_rule {
    std::string pattern;
    std::optional<uint64_t> max_messages, max_age_ms, max_bytes;
  };
  std::vector<room_rule> rooms;
  // The limits of one room.
  struct limits {
    uint64_t max_messages, max_age_ms, max_bytes;
  };
  limits for_room(std::string_view room) const;
};

// [sse]: GET /sse?rooms=a,b (docs/sse.md).
struct sse_settings {
  bool enabled = true;
  uint32_t heartbeat_ms = 15'000;
  uint64_t max_rooms = 32;
  std::vector<std::string> anonymous_subscribe{"*"};  // with JWT and jwt.allow_anonymous
};

// [log]
struct log_settings {
  std::string level = "info";   // debug, info, warn, error
  std::string format = "text";  // text or json
};

struct serve_settings {
  serve_settings() { server.port = 8080; }
  server_config server;               // [server], [http], [websocket]
  bool websocket_compression = true;  // permessage-deflate on /echo, /pub, /sub
  std::string static_dir;             // empty: <dir of the binary>/web
  std::string data_dir;               // empty: history in memory only
  socketio::server_options socketio;  // [socketio]
  jwt_settings jwt;
  limit_settings limits;
  history_settings history;
  sse_settings sse;
  log_settings log;
  std::vector<std::string> api_keys;  // [api] keys: the HTTP API is on once one is set
  std::vector<namespace_settings> namespaces;

  // The namespace's entry, created with defaults on first mention.
  namespace_settings& namespace_named(const std::string& name);
};

}  // namespace relay::server
