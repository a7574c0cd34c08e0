#pragma once
// The Engine.IO v4 server of one event loop: answers the handshake, routes polling requests and
// WebSocket upgrades to their session by sid, and owns the sessions.
//
// Every request to the Engine.IO path (`/socket.io/` by default) goes through handle(): the
// query says EIO version, transport and sid. Errors are answered the way the Node reference
// server answers them (status 400 and `{"code":N,"message":"..."}`).
//
// Threading: one engine per loop; everything runs on that loop.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/flat_ptr_set.hpp"
#include "http/client_address.hpp"
#include "http/router.hpp"
#include "proto/engineio/handshake_error.hpp"
#include "proto/engineio/session.hpp"
#include "ws/upgrade.hpp"
#include "ws/websocket.hpp"

namespace relay::engineio {

struct engine_options {
  uint32_t ping_interval_ms = 25'000;
  uint32_t ping_timeout_ms = 20'000;
  uint64_t max_payload = 1'000'000;  // maxHttpBufferSize: per polling POST and per WS message
  uint32_t upgrade_timeout_ms = 10'000;
  bool allow_polling = true;
  bool allow_websocket = true;
  bool allow_upgrades = true;
  // Browsers from these origins may use the server cross-origin ("*" = any; credentials are
  // then never allowed, as the Fetch standard requires). Empty: no CORS headers at all.
  std::vector<std::string> cors_origins;
  bool cors_credentials = false;
  // When not empty: a request whose Origin header names none of these is refused with 403
  // {"code":4,"message":"Forbidden"} (what Node's allowRequest hook is used for). Requests
  // without Origin (non-browser clients) pass. CORS does not cover WebSocket upgrades; this does.
  std::vector<std::string> allowed_origins;
  std::string cookie;  // name of the sid cookie set on the handshake ("io"); empty = none
  // permessage-deflate on the WebSocket transport. Off by default, as in the Node server:
  // most Socket.IO packets are small, and a compressor costs ~300 KiB per connection.
  bool per_message_deflate = false;
  // With per_message_deflate negotiated, messages at least this long are compressed unless the
  // sender said not to (Node's perMessageDeflate.threshold).
  size_t deflate_threshold = 1024;
  // Long-polling responses of at least this many bytes are sent gzip- or deflate-compressed to
  // clients whose Accept-Encoding allows it, unless every packet in them was sent with
  // compress false (Node's httpCompression, on by default with threshold 1024). The level is
  // zlib's; 1 (fastest) because the loop thread does the work, where Node uses its thread pool.
  bool http_compression = true;
  size_t http_compression_threshold = 1024;
  int http_compression_level = 1;
  ws::websocket_options websocket;  // its max_message_size is set from max_payload
  // Set (any thread) while the server drains: new sessions are refused with 503 and
  // Retry-After, so clients reconnect to another server; existing sessions go on.
  std::shared_ptr<const std::atomic<bool>> refuse_new_sessions;
  // Asked before a new session is made, with the client's address ("203.0.113.7", "::1"):
  // 0 admits it; an HTTP status (429, 503) refuses it with {"code":4,"message":...}. Unset:
  // every handshake passes (Node: allowRequest).
  std::function<uint16_t(std::string_view remote_ip)> admit_handshake;
  // Set: a request from one of these proxies is the client named in X-Forwarded-For (see
  // http::client_address), for admit_handshake.
  std::shared_ptr<const http::proxy_trust> trusted_proxies;
};

// The upper layer (Socket.IO), called on the session's loop.
class engine_handler {
 public:
  // The handshake request's details are handed over, not kept by the session.
  virtual void on_open(session& s, handshake_info&& handshake) = 0;
  virtual void on_message(session& s, std::string_view text) = 0;
  virtual void on_binary(session& s, std::span<const uint8_t> data) = 0;
  virtual void on_close(session& s, std::string_view reason) = 0;
  // The session moved from long-polling to WebSocket.
  virtual void on_upgrade(session&) {}

 protected:
  ~engine_handler() = default;
};

struct engine_stats {
  uint64_t handshakes = 0;
  uint64_t upgrades = 0;
  uint64_t bad_requests = 0;
  uint64_t slow_consumer_closes = 0;  // polling sessions past max_buffered_bytes
};

class engine final : private ws::behavior {
 public:
  // loop_index goes into every sid so that a request reaching another loop can be routed to
  // the session's loop.
  engine(core::event_loop& loop, unsigned loop_index, const engine_options& options,
         const ws::handshake_options& handshake, engine_handler& handler);
  ~engine() override;
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // The http::handler for the Engine.IO path.
  void handle(http::http_session& http, http::request& req, std::span<uint8_t> rest);
  http::handler handler() {
    return [this](http::http_session& h, http::request& r, std::span<uint8_t> rest) {
      handle(h, r, rest);
    };
  }

  // Closes every session now (server shutdown): handlers see on_close for each.
  void close_all(std::string_view reason);
  size_t session_count() const noexcept { return sessions_.size(); }
  // Closes up to n sessions (a drain spreads its closes over time); returns how many.
  size_t close_some(size_t n, std::string_view reason);
  core::event_loop& loop() noexcept { return loop_; }
  const engine_options& options() const noexcept { return *options_; }
  engine_handler& handler_ref() noexcept { return *handler_; }
  engine_stats& stats() noexcept { return stats_; }
  net::connection_list& websockets() noexcept { return ws_conns_; }

  // Called by a session when it ends (before it is freed).
  void forget(session& s);

  // How to send a request to the loop that owns its session (several loops; see sid_for_loop).
  using migrator = std::function<bool(unsigned loop, http::http_session& http)>;
  void set_migrator(migrator m, unsigned loop_count) {
    migrate_ = std::move(m);
    loop_count_ = loop_count;
  }

 private:
  // ws::behavior for every WebSocket of this engine; user_data is the session.
  void on_message(ws::websocket& ws, std::span<const uint8_t> payload, ws::opcode op,
                  ws::compress) override;
  void on_close(ws::websocket& ws, uint16_t code, std::string_view reason) override;

  void handshake(http::http_session& http, http::request& req, std::span<uint8_t> rest,
                 bool websocket, const std::string& cors, bool base64_binary);
  void reject(http::http_session& http, handshake_error e, const std::string& cors);
  std::string cors_headers(const http::request& req) const;
  handshake_info capture_handshake(const http::request& req, const http::http_session& http) const;
  std::string open_packet(const std::string& sid, bool upgrade) const;

  core::event_loop& loop_;
  unsigned loop_index_;
  const engine_options* options_;
  ws::websocket_options ws_options_;
  ws::handshake_options handshake_;
  ws::endpoint ws_endpoint_;
  engine_handler* handler_;
  engine_stats stats_;
  net::connection_list ws_conns_;
  // Found by sid, in an open-addressing set of pointers (no node per session).
  struct by_sid {
    static std::string_view key(const session* s) noexcept;
    static size_t hash(std::string_view sid) noexcept { return std::hash<std::string_view>()(sid); }
  };
  core::flat_ptr_set<session, by_sid> sessions_;
  migrator migrate_;
  unsigned loop_count_ = 1;
};

}  // namespace relay::engineio
