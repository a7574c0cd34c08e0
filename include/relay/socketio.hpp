#pragma once
// Relay's Socket.IO v5 server API, shaped like the Node `socket.io` server so that a Socket.IO
// user feels at home:
//
//   relay::socketio::server io({.port = 3000});
//   io.of("/chat").use([](socket& s, next_fn next) { next(std::nullopt); })
//       .on_connection([](socket& s) {
//         s.join("lobby");
//         s.on("msg", [](socket& s, args& a, ack reply) {
//           s.to("lobby").emit("msg", a);
//           if (reply) reply({"ok"});
//         });
//       });
//   io.start();
//
// Threading contract. The server runs one event loop per thread (`threads`, default one per
// core). A client's socket lives on one loop for life, and every handler for it (middleware,
// connection, events, acks, disconnect) runs on that loop's thread. Inside a handler you may
// use that socket and any broadcast (`s.to(room).emit(...)`, `nsp.emit(...)`) freely; other
// sockets you must not touch directly (they may live on another loop): reach them through
// rooms. A `socket&` given to a handler is valid for that call only: do not keep it (keep its
// id, or a room). Configuration (`of`, `use`, `on_connection`) happens before start(). From any
// other thread, only the broadcast operations of `server` and `namespace_ref` are allowed; they are
// posted to every loop.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/header_list.hpp"
#include "relay/json.hpp"

namespace relay::server {
int serve_main(int argc, char** argv);  // `relay serve` runs this API on its own server config
}  // namespace relay::server

namespace relay::socketio {

using json::value;
using args = json::array;  // the arguments of an event, as the client sent them

namespace detail {
struct socket_state;
struct namespace_config;
struct broadcast_spec;
struct pending_ack;
struct socket_timer;
struct raw_endpoint;
class server_impl;
}  // namespace detail

// A refusal a middleware gives: the client gets CONNECT_ERROR {message, data}.
struct error {
  std::string message;
  value data;  // null: not sent
};

class socket;

// The reply handle an event handler gets. False when the client did not ask for an ack.
// Call it at most once (later calls do nothing), on the socket's loop, now or later.
class ack {
 public:
  ack() = default;
  explicit operator bool() const noexcept { return id_ >= 0; }
  void operator()(args reply = {}) const;

 private:
  friend class socket;
  friend struct detail::socket_state;
  ack(std::weak_ptr<detail::socket_state> s, int64_t id) : socket_(std::move(s)), id_(id) {}
  std::weak_ptr<detail::socket_state> socket_;
  mutable int64_t id_ = -1;  // -1 once used
};

using event_handler = std::function<void(socket&, args&, ack)>;
using connection_handler = std::function<void(socket&)>;
using disconnect_handler = std::function<void(socket&, std::string_view reason)>;
using next_fn = std::function<void(std::optional<error>)>;
using middleware = std::function<void(socket&, next_fn)>;
// An emitted event's ack: `err` is set ("operation has timed out") if no answer came in time.
// It gets the socket again: a socket& handed to a handler is valid during that call only.
using ack_callback = std::function<void(socket&, std::optional<std::string> err, args reply)>;

// A broadcast's acks (Node: io.timeout(ms).emit(ev, ..., (err, responses) => ...)): one reply per
// recipient, in arrival order; `err` is "operation has timed out" when some did not answer in
// time (the replies that came are still given).
using broadcast_ack_callback =
    std::function<void(std::optional<std::string> err, std::vector<args> responses)>;

// The handshake, as Node's socket.handshake.
struct handshake {
  handshake() = default;
  handshake(const handshake& other);
  handshake(handshake&&) noexcept = default;
  handshake& operator=(const handshake& other);
  handshake& operator=(handshake&&) noexcept = default;

  header_list headers;  // names lower-cased, in the request's order
  uint64_t issued_ms = 0;
  bool secure = false;
  // The client's `auth` option, an object: {} when the client sent none (as in Node).
  const value& auth() const noexcept;
  void set_auth(value v);
  // A header's value (name in any case), or empty.
  std::string_view header(std::string_view name) const noexcept { return headers.get(name); }
  // The handshake request's target (kept in the header block: one allocation for both).
  std::string_view url() const noexcept { return headers.target(); }
  // The raw query string of url() (after the '?').
  std::string_view query() const noexcept;

 private:
  // Boxed, and absent when {}: most clients send none, and every connection keeps one.
  std::unique_ptr<value> auth_;
};

// A socket as fetch_sockets() saw it (Node's RemoteSocket): a copy taken on the socket's loop.
// Act on it through its own room: io.to(info.id).emit(...), .disconnect_sockets(), ...
struct socket_info {
  std::string id;
  std::string nsp;
  socketio::handshake handshake;
  std::vector<std::string> rooms;
  value data;
};
using fetch_callback = std::function<void(std::vector<socket_info> sockets)>;

// A broadcast being built: to/in/except rooms, then emit. Cheap to copy; encodes the packet
// once for all recipients on all loops.
//
// Callbacks (emit_with_ack, fetch_sockets) run on the loop that started the operation, or on
// loop 0 when it was started from a thread that is no loop; always later, never inside the call.
class broadcast {
 public:
  broadcast to(std::string room) const;
  broadcast in(std::string room) const { return to(std::move(room)); }
  broadcast except(std::string room) const;
  // Dropped for recipients whose connection is backed up, instead of queued.
  broadcast volatile_() const;
  // Whether it may go out compressed (see socket::compress); default true.
  broadcast compress(bool on) const;
  // Only this loop's sockets (Node: local, i.e. this node).
  broadcast local() const;
  // The deadline of emit_with_ack (default: ping_interval + ping_timeout, by when a recipient
  // that is alive has answered and one that is not has been dropped).
  broadcast timeout(uint32_t ms) const;
  void emit(std::string_view event, args a = {}) const;
  // Every recipient is asked for an ack; `cb` gets all the replies once each answered, or what
  // came by the deadline with an error (Node: io.timeout(ms).emit(event, ..., cb)).
  void emit_with_ack(std::string_view event, args a, broadcast_ack_callback cb) const;
  // Snapshots of the matching sockets, from every loop (Node: fetchSockets()).
  void fetch_sockets(fetch_callback cb) const;

  // Server-side utilities over the matching sockets (all loops): join, leave, disconnect.
  void sockets_join(std::string room) const;
  void sockets_leave(std::string room) const;
  void disconnect_sockets(bool close = false) const;

 private:
  friend class socket;
  friend class namespace_ref;
  friend class server;
  explicit broadcast(std::shared_ptr<const detail::broadcast_spec> spec) : spec_(std::move(spec)) {}
  std::shared_ptr<const detail::broadcast_spec> spec_;
};

class socket {
 public:
  std::string_view id() const noexcept;
  const std::string& nsp() const noexcept;  // the namespace it joined (a dynamic one's own name)
  const socketio::handshake& handshake() const noexcept;
  bool connected() const noexcept;
  // True when this connection resumed an earlier one (connection state recovery): same id,
  // rooms and data, and the events it missed were replayed.
  bool recovered() const noexcept;
  // Rooms this socket is in (its own id first), a copy.
  std::vector<std::string> rooms() const;
  value& data();  // free for the application (Node's socket.data); null at first

  void on(std::string event, event_handler h);
  void on_disconnect(disconnect_handler h);
  // One deadline per socket, on its loop: fn runs after delay_ms unless the socket goes first or
  // set_timer is called again (which replaces it). For per-socket expiries such as a token's.
  void set_timer(uint32_t delay_ms, std::function<void(socket&)> fn);

  // Node's socket.compress(flag): whether the next emit may be compressed (permessage-deflate
  // negotiated and the message at least deflate_threshold long); the default is true.
  socket& compress(bool on);
  void emit(std::string_view event, args a = {});
  // Node's socket.volatile.emit: dropped instead of queued when the connection is backed up
  // (more than 64 KiB waiting), and not kept for connection state recovery.
  void emit_volatile(std::string_view event, args a = {});
  // timeout_ms 0: wait for the answer as long as the connection lives.
  void emit_with_ack(std::string_view event, args a, ack_callback cb, uint32_t timeout_ms = 0);

  void join(std::string room);
  void leave(std::string_view room);

  // Broadcasts that leave this socket out (Node: socket.to(room), socket.broadcast).
  broadcast to(std::string room) const;
  broadcast in(std::string room) const { return to(std::move(room)); }
  broadcast except(std::string room) const;
  broadcast broadcast_all() const;

  // Leaves the namespace ("server namespace disconnect"); close=true also ends the connection.
  void disconnect(bool close = false);
  // Closes the underlying connection without a DISCONNECT packet (Node: socket.conn.close()):
  // the client sees "transport close" and reconnects; with recovery it resumes this socket.
  void close_connection();

 private:
  friend struct detail::socket_state;
  friend struct detail::pending_ack;
  friend struct detail::socket_timer;
  friend class ack;
  explicit socket(detail::socket_state& st) : st_(&st) {}
  detail::socket_state* st_;
};

// A namespace's configuration, and broadcasts to it.
class namespace_ref {
 public:
  namespace_ref& use(middleware m);
  namespace_ref& on_connection(connection_handler h);
  const std::string& name() const noexcept;

  broadcast to(std::string room) const;
  broadcast in(std::string room) const { return to(std::move(room)); }
  broadcast except(std::string room) const;
  broadcast timeout(uint32_t ms) const;
  broadcast local() const;
  void emit(std::string_view event, args a = {}) const;
  void emit_with_ack(std::string_view event, args a, broadcast_ack_callback cb) const;
  void fetch_sockets(fetch_callback cb) const;
  void sockets_join(std::string room) const;
  void sockets_leave(std::string room) const;
  void disconnect_sockets(bool close = false) const;

  // Node's serverSideEmit: an event for the other Relay nodes of a cluster. A node alone (Relay
  // has no cluster transport yet) has no other: nothing is sent, and `cb` (if any) gets no error
  // and no replies -- what Node's cluster adapters answer when no other server is up.
  void server_side_emit(std::string_view event, args a = {},
                        broadcast_ack_callback cb = nullptr) const;

 private:
  friend class server;
  broadcast all() const;
  namespace_ref(detail::server_impl* s, detail::namespace_config* c) : server_(s), config_(c) {}
  detail::server_impl* server_;
  detail::namespace_config* config_;
};

// A bare Engine.IO v4 session (no Socket.IO on top), for raw Engine.IO endpoints.
class engine_session {
 public:
  void send_text(std::string_view text);
  void send_binary(std::span<const uint8_t> data);
  void close();

 private:
  friend struct detail::raw_endpoint;
  explicit engine_session(void* s) : session_(s) {}
  void* session_;
};

struct engine_handlers {
  std::function<void(engine_session&, std::string_view text)> on_text;
  std::function<void(engine_session&, std::span<const uint8_t> data)> on_binary;
};

// A disconnected session kept for connection state recovery, in a form that can outlive the
// process: server::saved_sessions() after stop(), server::load_sessions() before start().
struct saved_session {
  std::string sid;
  std::string pid;
  std::string nsp;
  std::vector<std::string> rooms;
  value data;
  std::string last_offset;  // of the last event sent to it: the client comes back with it
  int64_t disconnected_unix_ms = 0;
};

// An event a session of an earlier process missed (recovery_options::replay_saved): `data` is
// [event, args...]; it is replayed only if the socket is still in `room` once its middlewares
// have run (empty: always).
struct missed_event {
  std::string room;
  value data;
};

// Connection state recovery (Node's connectionStateRecovery): off by default.
struct recovery_options {
  bool enabled = false;
  uint32_t max_disconnection_ms = 2 * 60 * 1000;
  bool skip_middlewares = true;  // a recovered socket does not run the middlewares again
  // On the socket's loop, just before its session is kept: where the application notes, in
  // socket.data(), what it needs to replay the session from its own store (see replay_saved).
  std::function<void(socket&)> on_persist;
  // A client comes back to a session given to load_sessions(), with that session's
  // last_offset: the events it missed since, in order, or nullopt when they cannot be known
  // (the client then starts afresh). Unset: such sessions are never recovered. Runs on the loop
  // the client came back to, before its middlewares: what that loop delivers later reaches the
  // socket live.
  std::function<std::optional<std::vector<missed_event>>(const saved_session&)> replay_saved;
};

struct server_options {
  std::string host = "0.0.0.0";
  uint16_t port = 3000;  // 0: pick a free port (see server::port())
  unsigned threads = 0;  // event loops; 0 = one per core
  std::string path = "/socket.io/";
  uint32_t ping_interval_ms = 25'000;
  uint32_t ping_timeout_ms = 20'000;
  uint64_t max_http_buffer_size = 1'000'000;
  uint32_t connect_timeout_ms = 45'000;  // a session that joins no namespace is closed
  uint32_t upgrade_timeout_ms = 10'000;  // a WebSocket probe that does not finish is closed
  bool allow_polling = true;
  bool allow_websocket = true;
  bool allow_upgrades = true;
  std::vector<std::string> cors_origins;  // browsers' Origin allowlist ("*" = any)
  // When not empty, requests from browsers of other origins are refused with 403 (WebSocket
  // upgrades included, which CORS does not cover); requests without Origin pass.
  std::vector<std::string> allowed_origins;
  bool cors_credentials = false;
  std::string cookie;                // "io" to set the sid cookie; empty = none
  bool per_message_deflate = false;  // WebSocket compression (off, as in Node's engine.io)
  size_t deflate_threshold = 1024;   // smaller messages are never compressed (Node: 1024)
  // Long-polling responses of at least http_compression_threshold bytes go out gzip/deflate
  // compressed when the client accepts it (Node's httpCompression, on by default).
  bool http_compression = true;
  size_t http_compression_threshold = 1024;
  recovery_options recovery;
  // Deepest JSON nesting of a packet's payload (its array included); deeper closes the
  // connection ("parse error"), as any packet the parser rejects.
  uint32_t max_json_depth = 32;
  std::string tls_cert, tls_key;
  // Asked before each new Engine.IO session with the client's address: 0 admits it, an HTTP
  // status (429, 503) refuses it. Runs on a loop thread. Unset: all pass (Node: allowRequest).
  std::function<uint16_t(std::string_view remote_ip)> admit_handshake;
  // Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client for
  // admit_handshake: the rightmost entry that is not one of them. Empty: the TCP peer.
  // start() throws on an entry that is neither.
  std::vector<std::string> trusted_proxies;
};

class server {
 public:
  explicit server(server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Static namespace, created on first use ("/" exists from the start).
  namespace_ref of(std::string name);
  // Dynamic namespaces (Node: io.of(/^\/room-\d+$/) or io.of((name, auth, next) => ...)): a
  // CONNECT to a name no static namespace has creates it when `matches` says so; all of them
  // share this parent's middlewares and connection handler, and a broadcast on the returned
  // namespace_ref reaches every one. `matches` runs on the loops: it must be thread-safe.
  namespace_ref of(std::function<bool(std::string_view name, const value& auth)> matches);
  namespace_ref sockets() { return of("/"); }

  // A bare Engine.IO endpoint at `path` (e.g. "/engine.io/"), beside Socket.IO's.
  void engine_endpoint(std::string path, engine_handlers handlers);

  // Binds and starts the loops; throws std::runtime_error on start-up errors.
  void start();
  uint16_t port() const noexcept;
  unsigned threads() const noexcept;  // event loops running (after start())
  // Disconnects every client and stops the loops (blocks until they have exited).
  void stop();

  // Connection state recovery across a restart: the sessions kept for recovery (after stop(),
  // those of the clients it disconnected too), and, before start(), an earlier process's, each
  // recoverable until max_disconnection_ms after it was disconnected.
  std::vector<saved_session> saved_sessions() const;
  void load_sessions(std::vector<saved_session> sessions);

  // Broadcasts to the main namespace.
  broadcast to(std::string room) { return of("/").to(std::move(room)); }
  broadcast except(std::string room) { return of("/").except(std::move(room)); }
  broadcast timeout(uint32_t ms) { return of("/").timeout(ms); }
  void emit(std::string_view event, args a = {}) { of("/").emit(event, std::move(a)); }
  void fetch_sockets(fetch_callback cb) { of("/").fetch_sockets(std::move(cb)); }

 private:
  friend int relay::server::serve_main(int argc, char** argv);
  std::unique_ptr<detail::server_impl> impl_;
};

}  // namespace relay::socketio
