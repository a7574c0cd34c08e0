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
#include <utility>
#include <vector>

#include "core/event_loop.hpp"
#include "core/flat_ptr_set.hpp"
#include "core/timer_wheel.hpp"
#include "metrics/counter.hpp"
#include "metrics/gauge.hpp"
#include "proto/engineio/engine.hpp"
#include "proto/socketio/decoder.hpp"
#include "proto/socketio/encoder.hpp"
#include "relay/socketio.hpp"
#include "server/socketio_recovery.hpp"

namespace relay::socketio::detail {

class loop_runtime;
struct client_state;

// Counters the runtime feeds when an application (relay serve) asks for metrics; all null by
// default, so the library costs one branch per counted event without them.
struct runtime_metrics {
  metrics::counter* handshakes_polling = nullptr;
  metrics::counter* handshakes_websocket = nullptr;
  metrics::gauge* sessions = nullptr;
  metrics::gauge* sessions_websocket = nullptr;  // the same, by current transport
  metrics::gauge* sessions_polling = nullptr;
  metrics::counter* bytes_in = nullptr;
  metrics::counter* broadcast_recipients = nullptr;

  metrics::gauge* by_transport(const engineio::session& s) const {
    return s.transport() == engineio::transport_kind::websocket ? sessions_websocket
                                                                : sessions_polling;
  }
};

// Inbound limits per connection (an Engine.IO session, all its namespaces), as token buckets:
// events (EVENT packets; acks and connects are free) and bytes (every message). An event over
// either limit is dropped and the client hears why ("relay:error" {code: "rate_limited"}, at
// most once a second). Null in server_impl: no limits, nothing allocated.
struct runtime_limits {
  double events_per_s = 100;
  double event_burst = 200;
  double bytes_per_s = 1 << 20;
  double byte_burst = 2 << 20;
  metrics::counter* event_hits = nullptr;
  metrics::counter* byte_hits = nullptr;
};

// A token bucket refilled from the loop's clock: tokens may go negative (bytes are charged
// after the fact), which blocks until the debt is paid back.
struct token_bucket {
  double tokens;
  uint64_t updated_ms;
  void refill(double rate, double burst, uint64_t now_ms) noexcept {
    if (now_ms > updated_ms) {
      tokens = std::min(burst, tokens + rate * static_cast<double>(now_ms - updated_ms) / 1000.0);
      updated_ms = now_ms;
    }
  }
};

struct client_limits {
  token_bucket events;
  token_bucket bytes;
  uint64_t told_ms = 0;  // the last "relay:error" about it
};

struct namespace_config {
  std::string name;  // of a static namespace; a label for a dynamic parent
  std::vector<middleware> middlewares;
  connection_handler on_connection;
  // Dynamic parent (Node: io.of(regex or function)): which names it creates on connect.
  std::function<bool(std::string_view name, const json::value& auth)> matches;
  metrics::counter* messages_in = nullptr;   // events received (with runtime_metrics)
  metrics::counter* messages_out = nullptr;  // packets sent: emits and broadcast copies
  metrics::counter* bytes_out = nullptr;     // their text bytes (binary attachments aside)
  metrics::counter* bytes_in = nullptr;      // text bytes of the packets its sockets sent
};

// Who a broadcast goes to, and how.
struct broadcast_spec {
  server_impl* server = nullptr;
  std::string nsp;
  const namespace_config* parent = nullptr;  // set: every child namespace of this parent
  std::vector<std::string> rooms;            // empty: the whole namespace
  std::vector<std::string> except;           // rooms left out
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
  uint64_t recovery_id = 0;  // connection state recovery's id (in raw's data), 0: none
  uint64_t emitted_ms = 0;   // when it got that id
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
  loop_runtime& home;           // dereferenced on the home loop only
  core::event_loop& home_loop;  // where replies are posted from the other loops
  broadcast_ack_callback cb;
  size_t loops_pending;
  size_t expected = 0;
  std::vector<args> responses;
  bool finished = false;
};

// socket::set_timer's deadline: calls back while its socket is connected.
struct socket_timer : core::timer {
  socket_timer(socket_state* s, std::function<void(socket&)> f);
  socket_state* owner;
  std::function<void(socket&)> fn;
};

// A volatile packet is dropped, not queued, for a connection with more than this waiting.
inline constexpr size_t kVolatileHighWater = 64 * 1024;

struct socket_state : std::enable_shared_from_this<socket_state> {
  socket_state(loop_runtime& rt, client_state& client, namespace_config& config,
               const std::string& nsp, std::string_view id);
  ~socket_state();

  loop_runtime& runtime;
  client_state* client;  // null once disconnected
  namespace_config& config;
  // This socket's namespace (a dynamic parent's child: not config.name): the key of the loop's
  // member index, which lives as long as the loop.
  const std::string& nsp;
  engineio::inline_id id;
  // Packed into the 3 bytes after the 21-byte id (flags, then the 2-byte-aligned index).
  bool connected : 1 = false;
  bool recovered : 1 = false;
  bool compress_next : 1 = true;
  // In its own id room. That room is not kept in the room table: the loop's id index of the
  // namespace serves it (one entry per socket instead of a one-member room).
  bool in_own_room : 1 = false;
  uint16_t middleware_index = 0;
  // The connection's handshake (its client's) when their auth payloads are equal, the usual
  // case: one copy of the headers per connection; else its own copy, in extras.
  const socketio::handshake* hs = nullptr;
  // Connection state recovery's extras (when recovery is on).
  struct recovery_state {
    std::string pid;                    // private id, sent in the CONNECT answer
    std::vector<missed_packet> missed;  // replayed right after CONNECT, if still meant for it
    uint64_t last_sent_id = 0;          // the last event id sent (what the client will echo)
    // Where it stands in this loop's journal after a restore (see persisted_session).
    uint64_t restore_point = 0;
    std::vector<uint64_t> already;  // sorted: ids it had before, never sent again
    uint64_t base_id = 0;
    // Its emits' journal entries are addressed to its own room: one spec for all of them.
    std::shared_ptr<const broadcast_spec> own_room;
  };
  // What an idle socket does not use, allocated on first use: an idle fleet pays one pointer.
  struct rare_state {
    std::unique_ptr<socketio::handshake> own_hs;
    value data;  // the application's socket.data
    std::vector<disconnect_handler> on_disconnect;
    std::vector<std::unique_ptr<pending_ack>> acks;  // emitted with an ack, awaiting it
    std::unique_ptr<recovery_state> recovery;        // allocated only when recovery is on
    std::unique_ptr<socket_timer> timer;             // socket::set_timer's deadline
  };
  std::unique_ptr<rare_state> extras;
  rare_state& rare() {
    if (!extras) extras = std::make_unique<rare_state>();
    return *extras;
  }
  recovery_state* recovery() const noexcept { return extras ? extras->recovery.get() : nullptr; }
  value data_copy() const { return extras ? extras->data : value(); }
  // The rooms it joined besides its own id room (see in_own_room).
  std::vector<std::string> rooms;
  // A handful per socket: flat lists are smaller than hash maps and as fast to search. Event
  // names are interned per loop (loop_runtime::intern_event): most sockets register the same.
  std::vector<std::pair<const std::string*, event_handler>> handlers;

  event_handler* find_handler(std::string_view event);
  bool in_room(std::string_view room) const noexcept;
  // Every room, its own id first (Node's socket.rooms).
  std::vector<std::string> all_rooms() const;
  // Takes the pending ack with this id out of `acks` (null if none).
  std::unique_ptr<pending_ack> take_ack(uint64_t ack_id);

  // `compress`: may go out compressed (see engineio::session::send_text).
  void send(const packet& p, bool compress = true);
  // Connection state recovery: sends the event `data` ([name, args...]) to this socket alone
  // with an id appended, kept in this loop's journal as addressed to its own room (Node keeps
  // a socket's emits the same way). Returns the id.
  uint64_t send_kept(recovery_store& store, json::value data, bool compress = true);
  // An EVENT, encoded from its parts (no [event, args...] array built).
  void send_event(std::string_view event, const args& a, bool compress = true);
  // Backed up past kVolatileHighWater (or gone): volatile packets skip it.
  bool backed_up() const noexcept;
  // Ends the middleware chain: joins, confirms with CONNECT, replays, tells the application.
  void finish_connect();
  void send_encoded(const encoded_packet& p, bool compress = true);
  // Node's socket.compress(flag): applies to the next emit only, then resets.
  bool take_compress() noexcept {
    const bool next = compress_next;
    compress_next = true;
    return next;
  }
  void join(const std::string& room);
  void leave(std::string_view room);
  void leave_all();
  // Ends this socket: handlers see `reason`; `notify_client` sends a DISCONNECT packet.
  void close(std::string_view reason, bool notify_client);
  void run_middlewares();
  void on_event(packet& p);
  void on_ack(packet& p);
};

// A client's sockets, one per namespace joined (or being joined): nearly always one, kept
// inline; more go to a vector.
class socket_list {
 public:
  bool empty() const noexcept { return first_ == nullptr; }
  void push_back(std::shared_ptr<socket_state> s);
  void erase(const socket_state* s);
  std::shared_ptr<socket_state>* find(std::string_view nsp);
  // A copy of the references, for a loop that may change the list.
  std::vector<std::shared_ptr<socket_state>> snapshot() const;

 private:
  std::shared_ptr<socket_state> first_;
  std::vector<std::shared_ptr<socket_state>> more_;
};

struct client_state {
  client_state(loop_runtime& rt, engineio::session& s);
  ~client_state();
  // From a per-thread object_pool (see core/object_pool.hpp): one per connection.
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size) noexcept;
  loop_runtime& runtime;
  engineio::session* session;
  decoder dec;
  // The handshake as its sockets see it, taken from the Engine.IO session at open; `auth` is
  // the first socket's (hs_adopted once set).
  socketio::handshake hs;
  // Its sockets (connected or in their middlewares), one per namespace.
  socket_list sockets;
  std::shared_ptr<socket_state>* find_socket(std::string_view nsp) { return sockets.find(nsp); }
  // In the loop's list of clients that have not asked to join a namespace yet (connectTimeout).
  client_state* waiting_prev = nullptr;
  client_state* waiting_next = nullptr;
  bool waiting = false;
  bool hs_adopted = false;
  std::unique_ptr<client_limits> limits;  // with runtime_limits, from the first message
};

// A bare Engine.IO endpoint of one loop.
struct raw_endpoint final : engineio::engine_handler {
  explicit raw_endpoint(const engine_handlers& h) : handlers(h) {}
  void on_open(engineio::session&, engineio::handshake_info&&) override {}
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
  void deliver(const std::shared_ptr<const broadcast_spec>& spec, const shared_packet& p);
  // The same, each recipient asked for an ack that goes to `acks` (on its home loop).
  void deliver_with_ack(const broadcast_spec& spec, const shared_packet& p,
                        const std::shared_ptr<broadcast_ack_state>& acks);
  // Starts collecting a broadcast's acks here (this loop is the home), for timeout_ms at most.
  std::shared_ptr<broadcast_ack_state> open_broadcast_ack(broadcast_ack_callback cb, size_t loops,
                                                          uint32_t timeout_ms);
  // Applies an action to every matching socket of this loop.
  void for_each_target(const broadcast_spec& spec,
                       const std::function<void(socket_state&)>& action);

  // Home-loop side of broadcast acks: a loop's recipient count, a reply, the end.
  void broadcast_ack_count(const std::shared_ptr<broadcast_ack_state>& st, size_t n);
  void broadcast_ack_reply(const std::shared_ptr<broadcast_ack_state>& st, args reply);
  void finish_broadcast_ack(broadcast_ack_state& st, std::optional<std::string> err);

  // room empty: the namespace's member index (by id); the socket's own id: nothing to do.
  void add_member(const std::string& nsp, const std::string& room, socket_state* s);
  // connectTimeout: a client that asks to join no namespace in time is closed. Every client of
  // a loop has the same timeout, so deadlines come in arrival order: one list, one timer.
  void start_waiting(client_state& c);
  void stop_waiting(client_state& c) noexcept;
  void remove_member(const std::string& nsp, const std::string& room, socket_state* s);

 private:
  // engineio::engine_handler
  void on_open(engineio::session& s, engineio::handshake_info&& info) override;
  void on_message(engineio::session& s, std::string_view text) override;
  void on_binary(engineio::session& s, std::span<const uint8_t> data) override;
  void on_close(engineio::session& s, std::string_view reason) override;
  void on_upgrade(engineio::session& s) override;

  void on_packet(client_state& c, packet& p);
  // Charges a message's bytes; false when an event should be dropped (and the client was told).
  void charge_bytes(client_state& c, size_t n);
  bool admit_event(client_state& c, socket_state& s, const packet& p);
  void on_connect(client_state& c, packet& p);
  void protocol_error(client_state& c);

  server_impl& server_;
  unsigned index_;
  core::event_loop& loop_;
  std::unique_ptr<engineio::engine> engine_;
  std::vector<std::unique_ptr<raw_endpoint>> raw_;
  // namespace -> room -> members (this loop's), own id rooms excepted
  struct by_address {
    static const socket_state* key(const socket_state* s) noexcept { return s; }
    static size_t hash(const socket_state* s) noexcept {
      // Objects are 16-byte aligned and the set masks low bits: mix (murmur3's finalizer).
      auto x = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(s));
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdULL;
      x ^= x >> 33;
      return static_cast<size_t>(x);
    }
  };
  using room_members = core::flat_ptr_set<socket_state, by_address>;
  std::unordered_map<std::string, std::unordered_map<std::string, room_members>> rooms_;
  // namespace -> every connected socket of this loop, found by id
  struct by_id {
    static std::string_view key(const socket_state* s) noexcept { return s->id.view(); }
    static size_t hash(std::string_view id) noexcept { return std::hash<std::string_view>()(id); }
  };
  using member_index = core::flat_ptr_set<socket_state, by_id>;
  std::unordered_map<std::string, member_index> members_;

 public:
  // One stored copy of an event name that handlers are registered for. Names come from the
  // application's code, not from clients, so the set stays small; it lives as long as the loop.
  const std::string* intern_event(std::string name) {
    return &*event_names_.insert(std::move(name)).first;
  }
  // The namespace's name as the member index keeps it (sockets refer to it).
  const std::string& intern_namespace(const std::string& nsp) {
    return members_.try_emplace(nsp).first->first;
  }

 private:
  std::unordered_set<std::string> event_names_;
  // Clients waiting for their first CONNECT, oldest first (see start_waiting).
  client_state* waiting_head_ = nullptr;
  client_state* waiting_tail_ = nullptr;
  struct connect_timer : core::timer {
    explicit connect_timer(loop_runtime& rt)
        : core::timer(
              [](core::timer& t) { static_cast<connect_timer&>(t).owner.expire_waiting(); }),
          owner(rt) {}
    loop_runtime& owner;
  };
  connect_timer connect_timer_{*this};
  void expire_waiting();
  // Broadcast acks this loop collects, kept until answered or timed out.
  std::unordered_map<broadcast_ack_state*, std::shared_ptr<broadcast_ack_state>> broadcast_acks_;
};

}  // namespace relay::socketio::detail
