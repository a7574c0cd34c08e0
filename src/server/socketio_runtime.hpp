#pragma once
// The per-loop state behind relay/socketio.hpp: clients (one per Engine.IO session), their
// sockets (one per namespace joined), rooms, acks, and the delivery end of broadcasts.
//
// Threading: a loop_runtime, its clients and sockets belong to one loop. Broadcasts reach the
// other loops as posted tasks carrying the packet encoded once (shared, immutable).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_loop.hpp"
#include "core/timer_wheel.hpp"
#include "proto/engineio/engine.hpp"
#include "proto/socketio/decoder.hpp"
#include "proto/socketio/encoder.hpp"
#include "relay/socketio.hpp"

namespace relay::socketio::detail {

class loop_runtime;
struct client_state;

struct namespace_config {
  std::string name;  // of a static namespace; a label for a dynamic parent
  std::vector<middleware> middlewares;
  connection_handler on_connection;
  // Dynamic parent (Node: io.of(regex or function)): which names it creates on connect.
  std::function<bool(std::string_view name, const json::value& auth)> matches;
};

// Who a broadcast goes to, and how.
struct broadcast_spec {
  server_impl* server = nullptr;
  std::string nsp;
  const namespace_config* parent = nullptr;  // set: every child namespace of this parent
  std::vector<std::string> rooms;   // empty: the whole namespace
  std::vector<std::string> except;  // rooms left out
  bool is_volatile = false;
  bool compress = true;
  bool local = false;
  unsigned origin_loop = 0;  // for local
  uint32_t timeout_ms = 0;   // emit_with_ack's deadline; 0: the default
};

// A broadcast packet, encoded once: the text part and its binary attachments as every
// recipient gets them (the raw packet is kept for a dynamic parent's children, whose
// namespace names differ).
struct broadcast_packet {
  packet raw;
  encoded_packet encoded;
};
using shared_packet = std::shared_ptr<const broadcast_packet>;

struct pending_ack : core::timer {
  pending_ack(socket_state* s, uint64_t i, ack_callback c);
  socket_state* owner;
  uint64_t id;
  ack_callback cb;
};

// A broadcast's acks being collected, on the loop that sent it (its home): how many loops have
// still to say how many sockets they asked, and the replies so far. Only the home loop touches
// it; other loops post to it.
struct broadcast_ack_state : core::timer {
  broadcast_ack_state(loop_runtime& home, broadcast_ack_callback cb, size_t loops);
  loop_runtime& home;        // dereferenced on the home loop only
  core::event_loop& home_loop;  // where replies are posted from the other loops
  broadcast_ack_callback cb;
  size_t loops_pending;
  size_t expected = 0;
  std::vector<args> responses;
  bool finished = false;
};

struct socket_state : std::enable_shared_from_this<socket_state> {
  socket_state(loop_runtime& rt, client_state& client, namespace_config& config, std::string nsp,
               std::string id);
  ~socket_state();

  loop_runtime& runtime;
  client_state* client;  // null once disconnected
  namespace_config& config;
  std::string nsp;  // this socket's namespace (a dynamic parent's child: not config.name)
  std::string id;
  // Shared with the other sockets of its connection when their auth payloads are equal (the
  // usual case): one copy of the handshake's headers per connection.
  std::shared_ptr<const socketio::handshake> hs;
  value data;
  std::vector<std::string> rooms;  // its own id first, unless it left that room
  // A handful per socket: a flat list is smaller than a hash map and as fast to search.
  std::vector<std::pair<std::string, event_handler>> handlers;
  std::vector<disconnect_handler> on_disconnect;
  std::unordered_map<uint64_t, std::unique_ptr<pending_ack>> acks;
  // Connection state recovery's extras, allocated only when recovery is on.
  struct recovery_state {
    std::string pid;                  // private id, sent in the CONNECT answer
    std::vector<json::value> missed;  // replayed right after CONNECT
  };
  std::unique_ptr<recovery_state> recovery;
  uint16_t middleware_index = 0;
  bool connected = false;
  bool recovered = false;
  // In its own id room. That room is not kept in the room table: the loop's id index of the
  // namespace serves it (one entry per socket instead of a one-member room).
  bool in_own_room = false;

  event_handler* find_handler(std::string_view event);

  void send(const packet& p);
  // Ends the middleware chain: joins, confirms with CONNECT, replays, tells the application.
  void finish_connect();
  void send_encoded(const encoded_packet& p);
  void join(const std::string& room);
  void leave(std::string_view room);
  void leave_all();
  // Ends this socket: handlers see `reason`; `notify_client` sends a DISCONNECT packet.
  void close(std::string_view reason, bool notify_client);
  void run_middlewares();
  void on_event(packet& p);
  void on_ack(packet& p);
};

struct client_state : core::timer {
  client_state(loop_runtime& rt, engineio::session& s);
  loop_runtime& runtime;
  engineio::session* session;
  decoder dec;
  // The handshake as its sockets see it, taken from the Engine.IO session at open.
  std::shared_ptr<socketio::handshake> hs;
  // Its sockets (connected or in their middlewares), one per namespace: usually one or two,
  // so a flat list.
  std::vector<std::shared_ptr<socket_state>> sockets;
  std::shared_ptr<socket_state>* find_socket(std::string_view nsp);
};

// A bare Engine.IO endpoint of one loop.
struct raw_endpoint final : engineio::engine_handler {
  explicit raw_endpoint(const engine_handlers& h) : handlers(h) {}
  void on_open(engineio::session&) override {}
  void on_message(engineio::session& s, std::string_view text) override {
    engine_session e(&s);
    if (handlers.on_text) handlers.on_text(e, text);
  }
  void on_binary(engineio::session& s, std::span<const uint8_t> data) override {
    engine_session e(&s);
    if (handlers.on_binary) handlers.on_binary(e, data);
  }
  void on_close(engineio::session&, std::string_view) override {}
  const engine_handlers& handlers;
  std::unique_ptr<engineio::engine> engine;
};

class loop_runtime final : public engineio::engine_handler {
 public:
  loop_runtime(server_impl& server, unsigned index, core::event_loop& loop);
  ~loop_runtime();

  void attach_engine(std::unique_ptr<engineio::engine> e) { engine_ = std::move(e); }
  std::vector<std::unique_ptr<raw_endpoint>>& raw_endpoints() { return raw_; }
  engineio::engine& engine() { return *engine_; }
  core::event_loop& loop() { return loop_; }
  unsigned index() const { return index_; }
  server_impl& server() { return server_; }

  // Delivery of a broadcast on this loop.
  void deliver(const broadcast_spec& spec, const shared_packet& p);
  // The same, each recipient asked for an ack that goes to `acks` (on its home loop).
  void deliver_with_ack(const broadcast_spec& spec, const shared_packet& p,
                        const std::shared_ptr<broadcast_ack_state>& acks);
  // Starts collecting a broadcast's acks here (this loop is the home), for timeout_ms at most.
  std::shared_ptr<broadcast_ack_state> open_broadcast_ack(broadcast_ack_callback cb,
                                                          size_t loops, uint32_t timeout_ms);
  // Applies an action to every matching socket of this loop.
  void for_each_target(const broadcast_spec& spec,
                       const std::function<void(socket_state&)>& action);

  // Home-loop side of broadcast acks: a loop's recipient count, a reply, the end.
  void broadcast_ack_count(const std::shared_ptr<broadcast_ack_state>& st, size_t n);
  void broadcast_ack_reply(const std::shared_ptr<broadcast_ack_state>& st, args reply);
  void finish_broadcast_ack(broadcast_ack_state& st, std::optional<std::string> err);

  // room empty: the namespace's member index (by id); the socket's own id: nothing to do.
  void add_member(const std::string& nsp, const std::string& room, socket_state* s);
  void remove_member(const std::string& nsp, const std::string& room, socket_state* s);

 private:
  // engineio::engine_handler
  void on_open(engineio::session& s) override;
  void on_message(engineio::session& s, std::string_view text) override;
  void on_binary(engineio::session& s, std::span<const uint8_t> data) override;
  void on_close(engineio::session& s, std::string_view reason) override;

  void on_packet(client_state& c, packet& p);
  void on_connect(client_state& c, packet& p);
  void protocol_error(client_state& c);

  server_impl& server_;
  unsigned index_;
  core::event_loop& loop_;
  std::unique_ptr<engineio::engine> engine_;
  std::vector<std::unique_ptr<raw_endpoint>> raw_;
  // namespace -> room -> members (this loop's), own id rooms excepted
  std::unordered_map<std::string,
                     std::unordered_map<std::string, std::unordered_set<socket_state*>>>
      rooms_;
  // namespace -> socket id -> every connected socket of this loop (keys view the sockets' ids)
  std::unordered_map<std::string, std::unordered_map<std::string_view, socket_state*>> members_;
  // Broadcast acks this loop collects, kept until answered or timed out.
  std::unordered_map<broadcast_ack_state*, std::shared_ptr<broadcast_ack_state>> broadcast_acks_;
};

}  // namespace relay::socketio::detail
