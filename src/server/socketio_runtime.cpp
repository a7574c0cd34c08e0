#include "server/socketio_runtime.hpp"

#include <algorithm>
#include <iterator>
#include <optional>

#include "core/object_pool.hpp"
#include "proto/engineio/sid.hpp"
#include "server/socketio_server.hpp"
#include "ws/frame_header.hpp"

namespace relay::socketio::detail {
namespace {

value connect_error_body(const error& e) {
  json::object o{{"message", e.message}};
  if (!e.data.is_null()) o.emplace_back("data", e.data);
  return value(std::move(o));
}

}  // namespace

// --- acks ---------------------------------------------------------------------------------

pending_ack::pending_ack(socket_state* s, uint64_t i, ack_callback c)
    : core::timer([](core::timer& t) {
        auto& self = static_cast<pending_ack&>(t);
        socket_state* owner = self.owner;
        std::unique_ptr<pending_ack> keep = owner->take_ack(self.id);
        if (!keep) return;
        socket s(*owner);
        if (keep->cb) keep->cb(s, std::string("operation has timed out"), {});
      }),
      owner(s),
      id(i),
      cb(std::move(c)) {}

// --- socket timers ---------------------------------------------------------------------------

socket_timer::socket_timer(socket_state* s, std::function<void(socket&)> f)
    : core::timer([](core::timer& t) {
        auto& self = static_cast<socket_timer&>(t);
        socket_state* owner = self.owner;
        if (!owner->connected) return;
        auto keep = owner->shared_from_this();
        std::function<void(socket&)> fn = std::move(self.fn);  // it may set a new timer
        socket s(*owner);
        if (fn) fn(s);
      }),
      owner(s),
      fn(std::move(f)) {}

// --- broadcast acks ---------------------------------------------------------------------------

broadcast_ack_state::broadcast_ack_state(loop_runtime& h, broadcast_ack_callback c, size_t loops)
    : core::timer([](core::timer& t) {
        auto& self = static_cast<broadcast_ack_state&>(t);
        self.home.finish_broadcast_ack(self, std::string("operation has timed out"));
      }),
      home(h),
      home_loop(h.loop()),
      cb(std::move(c)),
      loops_pending(loops) {}

std::shared_ptr<broadcast_ack_state> loop_runtime::open_broadcast_ack(broadcast_ack_callback cb,
                                                                      size_t loops,
                                                                      uint32_t timeout_ms) {
  auto st = std::make_shared<broadcast_ack_state>(*this, std::move(cb), loops);
  loop_.timers().schedule(*st, loop_.now_ms() + timeout_ms);
  broadcast_acks_.emplace(st.get(), st);
  return st;
}

void loop_runtime::broadcast_ack_count(const std::shared_ptr<broadcast_ack_state>& st, size_t n) {
  if (st->finished) return;
  st->expected += n;
  --st->loops_pending;
  if (st->loops_pending == 0 && st->responses.size() >= st->expected) {
    finish_broadcast_ack(*st, std::nullopt);
  }
}

void loop_runtime::broadcast_ack_reply(const std::shared_ptr<broadcast_ack_state>& st, args reply) {
  if (st->finished) return;
  st->responses.push_back(std::move(reply));
  if (st->loops_pending == 0 && st->responses.size() >= st->expected) {
    finish_broadcast_ack(*st, std::nullopt);
  }
}

void loop_runtime::finish_broadcast_ack(broadcast_ack_state& st, std::optional<std::string> err) {
  st.finished = true;
  core::timer_wheel::cancel(st);
  auto it = broadcast_acks_.find(&st);
  if (it == broadcast_acks_.end()) return;
  std::shared_ptr<broadcast_ack_state> keep = std::move(it->second);
  broadcast_acks_.erase(it);
  if (keep->cb) keep->cb(std::move(err), std::move(keep->responses));
}

// --- socket_state ---------------------------------------------------------------------------

socket_state::socket_state(loop_runtime& rt, client_state& c, namespace_config& cfg,
                           const std::string& name, std::string_view sid)
    : runtime(rt), client(&c), config(cfg), nsp(name), id(sid) {}

socket_state::~socket_state() = default;

void socket_state::send(const packet& p, bool compress) {
  if (client == nullptr) return;
  // One scratch per loop thread: the text is copied into the transport's queue right away, so
  // an emit allocates nothing here once the buffer has grown.
  thread_local encoded_packet scratch;
  encode(p, scratch);
  if (p.type == packet_type::event) {  // emit_with_ack, emits kept for recovery, replays
    if (config.messages_out != nullptr) config.messages_out->inc();
    if (config.bytes_out != nullptr) config.bytes_out->inc(scratch.text.size());
  }
  send_encoded(scratch, compress);
}

uint64_t socket_state::send_kept(recovery_store& store, json::value data, bool compress) {
  recovery_state* r = recovery();
  std::shared_ptr<const broadcast_spec> spec = r != nullptr ? r->own_room : nullptr;
  if (spec == nullptr) {
    auto own = std::make_shared<broadcast_spec>();
    own->server = &runtime.server();
    own->nsp = nsp;
    own->rooms.push_back(id.str());
    spec = own;
    if (r != nullptr) r->own_room = spec;
  }
  auto p = std::make_shared<broadcast_packet>();
  p->raw.type = packet_type::event;
  p->raw.nsp = nsp;
  p->raw.data = std::move(data);
  p->recovery_id = store.stamp(*p->raw.data);
  p->emitted_ms = core::event_loop::monotonic_ms();
  store.record(runtime.index(), std::move(spec), p, p->recovery_id, p->emitted_ms);
  if (r != nullptr) r->last_sent_id = p->recovery_id;
  send(p->raw, compress);
  return p->recovery_id;
}

bool socket_state::backed_up() const noexcept {
  if (client == nullptr || client->session == nullptr) return true;
  return client->session->buffered_bytes() > kVolatileHighWater;
}

void socket_state::send_event(std::string_view event, const args& a, bool compress) {
  if (client == nullptr) return;
  thread_local encoded_packet scratch;  // see send()
  if (config.messages_out != nullptr) config.messages_out->inc();
  encode_event(nsp, std::nullopt, event, a, scratch);
  if (config.bytes_out != nullptr) config.bytes_out->inc(scratch.text.size());
  send_encoded(scratch, compress);
}

void socket_state::send_encoded(const encoded_packet& p, bool compress) {
  if (client == nullptr || client->session == nullptr) return;
  client->session->send_text(p.text, compress);
  for (const json::binary_ptr& b : p.attachments) client->session->send_binary(*b, compress);
}

event_handler* socket_state::find_handler(std::string_view event) {
  for (auto& [name, h] : handlers) {
    if (*name == event) return &h;
  }
  return nullptr;
}

bool socket_state::in_room(std::string_view room) const noexcept {
  if (room == id.view()) return in_own_room;
  return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

std::vector<std::string> socket_state::all_rooms() const {
  std::vector<std::string> all;
  all.reserve(rooms.size() + 1);
  if (in_own_room) all.push_back(id.str());
  all.insert(all.end(), rooms.begin(), rooms.end());
  return all;
}

std::unique_ptr<pending_ack> socket_state::take_ack(uint64_t ack_id) {
  if (!extras) return nullptr;
  auto& acks = extras->acks;
  for (auto it = acks.begin(); it != acks.end(); ++it) {
    if ((*it)->id == ack_id) {
      std::unique_ptr<pending_ack> found = std::move(*it);
      acks.erase(it);
      return found;
    }
  }
  return nullptr;
}

void socket_state::join(const std::string& room) {
  if (room == id.view()) {
    in_own_room = true;  // served by the member index
    return;
  }
  if (std::find(rooms.begin(), rooms.end(), room) != rooms.end()) return;
  rooms.push_back(room);
  runtime.add_member(nsp, room, this);
}

void socket_state::leave(std::string_view room) {
  if (room == id.view()) {
    in_own_room = false;
    return;
  }
  auto it = std::find(rooms.begin(), rooms.end(), room);
  if (it == rooms.end()) return;
  runtime.remove_member(nsp, *it, this);
  rooms.erase(it);
}

void socket_state::leave_all() {
  for (const std::string& r : rooms) runtime.remove_member(nsp, r, this);
  rooms.clear();
  in_own_room = false;
}

void socket_state::close(std::string_view reason, bool notify_client) {
  if (client == nullptr) return;
  auto keep = shared_from_this();
  client_state* c = client;
  const bool was_connected = connected;
  if (notify_client && was_connected) {
    packet p;
    p.type = packet_type::disconnect;
    p.nsp = nsp;
    send(p);
  }
  connected = false;
  // Node's RECOVERABLE_DISCONNECT_REASONS: the client did not mean to leave.
  static constexpr std::string_view kRecoverable[] = {
      "transport error",      "transport close",     "forced close",   "ping timeout",
      "server shutting down", "forced server close", "server draining"};
  if (recovery_store* store = runtime.server().recovery();
      store && was_connected &&
      std::find(std::begin(kRecoverable), std::end(kRecoverable), reason) !=
          std::end(kRecoverable)) {
    if (const auto& on_persist = runtime.server().options().recovery.on_persist) {
      socket s(*this);
      on_persist(s);
    }
    persisted_session ps;
    ps.sid = id.str();
    ps.pid = recovery() ? recovery()->pid : std::string();
    ps.nsp = nsp;
    if (config.matches) ps.parent = &config;  // a dynamic parent's child
    ps.rooms = all_rooms();
    ps.data = data_copy();
    ps.loop = runtime.index();
    if (recovery_state* r = recovery()) {
      ps.last_sent_id = r->last_sent_id;
      ps.restore_point = r->restore_point;
      ps.already = r->already;
      ps.base_id = r->base_id;
    }
    store->persist(std::move(ps), runtime.loop().now_ms());
  }
  leave_all();
  if (was_connected) runtime.remove_member(nsp, "", this);  // the namespace's member list
  // Pending acks die with the socket, without calling back (Node drops them too).
  if (extras) {
    extras->acks.clear();
    extras->timer.reset();
  }
  client = nullptr;
  c->sockets.erase(this);
  if (was_connected) {
    socket s(*this);
    const std::string why(reason);
    if (extras) {
      for (auto& h : extras->on_disconnect) h(s, why);
    }
  }
}

void socket_state::run_middlewares() {
  if (client == nullptr) return;
  if (middleware_index < config.middlewares.size()) {
    const middleware& mw = config.middlewares[middleware_index++];
    std::weak_ptr<socket_state> weak = weak_from_this();
    auto called = std::make_shared<bool>(false);
    socket s(*this);
    mw(s, [weak, called](std::optional<error> err) {
      if (*called) return;  // next() twice: ignore the second
      *called = true;
      auto self = weak.lock();
      if (!self || self->client == nullptr) return;
      if (err) {
        packet p;
        p.type = packet_type::connect_error;
        p.nsp = self->nsp;
        p.data = connect_error_body(*err);
        self->send(p);
        self->close("middleware error", false);
        return;
      }
      self->run_middlewares();
    });
    return;
  }
  finish_connect();
}

void socket_state::finish_connect() {
  // Every middleware agreed: join the own room (and, recovered, the old ones), confirm, replay
  // what was missed, then the application hears of it -- Node's order.
  connected = true;
  std::vector<std::string> old_rooms;
  old_rooms.swap(rooms);
  in_own_room = true;  // its own id room, served by the member index
  for (const std::string& r : old_rooms) join(r);
  runtime.add_member(nsp, "", this);
  packet p;
  p.type = packet_type::connect;
  p.nsp = nsp;
  json::object body{{"sid", id.view()}};
  recovery_state* const recovery = this->recovery();
  if (recovery) body.emplace_back("pid", recovery->pid);
  p.data = value(std::move(body));
  send(p);
  if (recovery) {
    const std::vector<std::string> now_in = all_rooms();
    auto in_any = [&](const std::vector<std::string>& of) {
      return std::find_first_of(of.begin(), of.end(), now_in.begin(), now_in.end()) != of.end();
    };
    for (missed_packet& m : recovery->missed) {
      if ((!m.rooms.empty() && !in_any(m.rooms)) || in_any(m.except)) continue;
      if (m.id == 0) {
        // The application's replay (a session of an earlier process): kept with a new id like
        // any emit, so a client that drops again before a live event can still come back.
        if (recovery_store* store = runtime.server().recovery()) {
          recovery->base_id = send_kept(*store, std::move(m.data));
          // Where it stands now: after what was just replayed (and kept).
          recovery->restore_point = store->journal_end(runtime.index());
          continue;
        }
      }
      packet e;
      e.type = packet_type::event;
      e.nsp = nsp;
      e.data = std::move(m.data);
      send(e);
      if (m.id != 0) recovery->base_id = recovery->last_sent_id = m.id;
    }
    recovery->missed.clear();
    recovery->missed.shrink_to_fit();
  }
  if (config.on_connection) {
    socket s(*this);
    config.on_connection(s);
  }
}

void socket_state::on_event(packet& p) {
  if (!connected || !p.data || !p.data->is_array() || p.data->as_array().empty()) return;
  json::array& a = p.data->as_array();
  if (!a[0].is_string()) return;
  if (config.messages_in != nullptr) config.messages_in->inc();
  event_handler* found = find_handler(a[0].as_string());
  if (found == nullptr) return;
  event_handler h = *found;  // the handler may replace itself
  a.erase(a.begin());        // the arguments, in place: no second vector per event
  ack reply = p.id ? ack(weak_from_this(), static_cast<int64_t>(*p.id)) : ack();
  socket s(*this);
  h(s, a, reply);
}

void socket_state::on_ack(packet& p) {
  if (!p.id) return;
  std::unique_ptr<pending_ack> pa = take_ack(*p.id);
  if (!pa) return;
  core::timer_wheel::cancel(*pa);
  args reply;
  if (p.data && p.data->is_array()) reply = std::move(p.data->as_array());
  socket sock(*this);
  if (pa->cb) pa->cb(sock, std::nullopt, std::move(reply));
}

// --- client_state ---------------------------------------------------------------------------

client_state::client_state(loop_runtime& rt, engineio::session& s)
    : runtime(rt), session(&s), dec(rt.server().packet_limits()) {}

client_state::~client_state() { runtime.stop_waiting(*this); }

using client_pool = core::object_pool<sizeof(client_state), alignof(client_state)>;

void* client_state::operator new(size_t size) {
  if (size != sizeof(client_state)) return ::operator new(size);  // no derived classes
  return client_pool::allocate();
}

void client_state::operator delete(void* p, size_t size) noexcept {
  if (size != sizeof(client_state)) return ::operator delete(p);
  client_pool::release(p);
}

// --- socket_list ----------------------------------------------------------------------------

void socket_list::push_back(std::shared_ptr<socket_state> s) {
  if (first_ == nullptr) {
    first_ = std::move(s);
  } else {
    more_.push_back(std::move(s));
  }
}

void socket_list::erase(const socket_state* s) {
  if (first_.get() == s) {
    if (more_.empty()) {
      first_.reset();
    } else {
      first_ = std::move(more_.front());
      more_.erase(more_.begin());
    }
    return;
  }
  std::erase_if(more_, [s](const std::shared_ptr<socket_state>& m) { return m.get() == s; });
}

std::shared_ptr<socket_state>* socket_list::find(std::string_view nsp) {
  if (first_ != nullptr && first_->nsp == nsp) return &first_;
  for (auto& s : more_) {
    if (s->nsp == nsp) return &s;
  }
  return nullptr;
}

std::vector<std::shared_ptr<socket_state>> socket_list::snapshot() const {
  std::vector<std::shared_ptr<socket_state>> all;
  if (first_ == nullptr) return all;
  all.reserve(1 + more_.size());
  all.push_back(first_);
  all.insert(all.end(), more_.begin(), more_.end());
  return all;
}

// --- loop_runtime ---------------------------------------------------------------------------

loop_runtime::loop_runtime(server_impl& server, unsigned index, core::event_loop& loop)
    : server_(server), index_(index), loop_(loop) {}

void loop_runtime::start_waiting(client_state& c) {
  c.waiting = true;
  c.waiting_prev = waiting_tail_;
  c.waiting_next = nullptr;
  if (waiting_tail_ != nullptr) {
    waiting_tail_->waiting_next = &c;
  } else {
    waiting_head_ = &c;
    loop_.timers().schedule(connect_timer_, c.hs.issued_ms + server_.options().connect_timeout_ms);
  }
  waiting_tail_ = &c;
}

void loop_runtime::stop_waiting(client_state& c) noexcept {
  if (!c.waiting) return;
  c.waiting = false;
  (c.waiting_prev != nullptr ? c.waiting_prev->waiting_next : waiting_head_) = c.waiting_next;
  (c.waiting_next != nullptr ? c.waiting_next->waiting_prev : waiting_tail_) = c.waiting_prev;
  c.waiting_prev = c.waiting_next = nullptr;
  // The timer stays set for the old head; expire_waiting finds nothing due and re-arms.
}

void loop_runtime::expire_waiting() {
  const uint64_t timeout = server_.options().connect_timeout_ms;
  const uint64_t now = loop_.now_ms();
  while (waiting_head_ != nullptr && waiting_head_->hs.issued_ms + timeout <= now) {
    client_state& c = *waiting_head_;
    stop_waiting(c);
    if (c.sockets.empty() && c.session != nullptr) c.session->close("forced close");
  }
  if (waiting_head_ != nullptr) {
    loop_.timers().schedule(connect_timer_, waiting_head_->hs.issued_ms + timeout);
  }
}

loop_runtime::~loop_runtime() {
  // Pending broadcast acks may still be held by other loops' sockets: unschedule them from this
  // loop's wheel now, while it exists.
  for (auto& [key, st] : broadcast_acks_) {
    st->finished = true;
    core::timer_wheel::cancel(*st);
  }
  core::timer_wheel::cancel(connect_timer_);
  // Frees sessions; clients go with them (on_close is not called).
  engine_.reset();
  raw_.clear();
}

void loop_runtime::add_member(const std::string& nsp, const std::string& room, socket_state* s) {
  if (room.empty()) {
    members_[nsp].insert(s);
  } else {
    rooms_[nsp][room].insert(s);
  }
}

void loop_runtime::remove_member(const std::string& nsp, const std::string& room, socket_state* s) {
  if (room.empty()) {
    auto it = members_.find(nsp);
    if (it != members_.end()) it->second.erase(s);
    return;
  }
  auto n = rooms_.find(nsp);
  if (n == rooms_.end()) return;
  auto r = n->second.find(room);
  if (r == n->second.end()) return;
  r->second.erase(s);
  if (r->second.empty()) n->second.erase(r);
}

void loop_runtime::for_each_target(const broadcast_spec& spec,
                                   const std::function<void(socket_state&)>& action) {
  std::vector<socket_state*> targets;
  // A dynamic parent's broadcast goes to every child namespace it created.
  std::vector<const std::string*> names;
  if (spec.parent != nullptr) {
    for (const auto& [name, members] : members_) {
      if (!members.empty() && &(*members.begin())->config == spec.parent) {
        names.push_back(&name);
      }
    }
  } else {
    names.push_back(&spec.nsp);
  }
  // Several rooms may share members: each socket once. One room cannot (its own id room is a
  // flag, never also a member set entry of that socket), so no per-recipient hashing then.
  const bool dedupe = spec.rooms.size() > 1;
  std::unordered_set<socket_state*> seen;
  auto add = [&](socket_state* s) {
    if (!dedupe || seen.insert(s).second) targets.push_back(s);
  };
  for (const std::string* nsp : names) {
    auto m = members_.find(*nsp);
    if (m == members_.end()) continue;
    const member_index& members = m->second;
    if (spec.rooms.empty()) {
      targets.insert(targets.end(), m->second.begin(), m->second.end());
      continue;
    }
    auto n = rooms_.find(*nsp);
    for (const std::string& room : spec.rooms) {
      // A socket's own id room lives in the id index.
      socket_state* own = members.find(std::string_view(room));
      if (own != nullptr && own->in_own_room) add(own);
      if (n == rooms_.end()) continue;
      auto r = n->second.find(room);
      if (r == n->second.end()) continue;
      for (socket_state* s : r->second) add(s);
    }
  }
  if (!spec.except.empty()) {
    std::erase_if(targets, [&](socket_state* s) {
      for (const std::string& ex : spec.except) {
        if (s->in_room(ex)) return true;
      }
      return false;
    });
  }
  // Hold references: an action (disconnect) may free sockets.
  std::vector<std::shared_ptr<socket_state>> held;
  held.reserve(targets.size());
  for (socket_state* s : targets) held.push_back(s->shared_from_this());
  for (auto& s : held) action(*s);
}

namespace {

// A recipient's copy of a broadcast: the shared encoding, or (a dynamic parent's child) its own
// namespace's, made once per child per loop. For WebSocket recipients the shared encoding's
// text goes out as one frame built once per loop and queued by reference in each.
class broadcast_sender {
 public:
  explicit broadcast_sender(const shared_packet& p) : packet_(p) {}
  // False when the socket is gone or, for a volatile broadcast, backed up.
  bool send(const broadcast_spec& spec, socket_state& s) {
    if (!s.connected || s.client == nullptr || s.client->session == nullptr) return false;
    if (spec.is_volatile && s.backed_up()) return false;
    if (packet_->recovery_id != 0) {
      if (socket_state::recovery_state* r = s.recovery()) {
        // It had this one on its loop before a restore: never twice.
        if (!r->already.empty() &&
            std::binary_search(r->already.begin(), r->already.end(), packet_->recovery_id)) {
          return false;
        }
        r->last_sent_id = packet_->recovery_id;
      }
    }
    if (s.config.messages_out != nullptr) s.config.messages_out->inc();
    if (s.nsp == packet_->raw.nsp) {
      const encoded_packet& e = packet_->encoded;
      if (s.config.bytes_out != nullptr) s.config.bytes_out->inc(e.text.size());
      engineio::session& session = *s.client->session;
      if (session.send_prebuilt_text(frame(), e.text.size(), spec.compress)) {
        for (const json::binary_ptr& b : e.attachments) session.send_binary(*b, spec.compress);
      } else {
        s.send_encoded(e, spec.compress);
      }
      return true;
    }
    encoded_packet& e = per_child_[s.nsp];
    if (e.text.empty()) {
      packet q = packet_->raw;
      q.nsp = s.nsp;
      e = encode(q);
    }
    if (s.config.bytes_out != nullptr) s.config.bytes_out->inc(e.text.size());
    s.send_encoded(e, spec.compress);
    return true;
  }

 private:
  // The Engine.IO message "4<text>" as one unmasked WebSocket text frame, built on first use.
  core::shared_buffer* frame() {
    if (!frame_) {
      const std::string& text = packet_->encoded.text;
      const size_t payload = text.size() + 1;
      const size_t header = ws::frame_header_size(payload, false);
      core::shared_buffer* b = core::shared_buffer::create(header + payload);
      ws::write_frame_header(b->grow(header), ws::opcode::text, payload);
      b->append("4", 1);
      b->append(text.data(), text.size());
      frame_ = core::buffer_ref(b);
    }
    return frame_.get();
  }

  const shared_packet& packet_;
  core::buffer_ref frame_;
  std::unordered_map<std::string, encoded_packet> per_child_;
};

}  // namespace

void loop_runtime::deliver(const std::shared_ptr<const broadcast_spec>& spec_ptr,
                           const shared_packet& p) {
  const broadcast_spec& spec = *spec_ptr;
  if (p->recovery_id != 0) {
    if (recovery_store* store = server_.recovery()) {
      store->record(index_, spec_ptr, p, p->recovery_id, p->emitted_ms);
    }
  }
  broadcast_sender sender(p);
  uint64_t reached = 0;
  for_each_target(spec, [&](socket_state& s) { reached += sender.send(spec, s) ? 1 : 0; });
  if (const runtime_metrics* m = server_.metrics(); m != nullptr && reached != 0) {
    m->broadcast_recipients->inc(reached);
  }
}

void loop_runtime::deliver_with_ack(const broadcast_spec& spec, const shared_packet& p,
                                    const std::shared_ptr<broadcast_ack_state>& acks) {
  broadcast_sender sender(p);
  const uint64_t id = *p->raw.id;
  size_t asked = 0;
  for_each_target(spec, [&](socket_state& s) {
    if (!sender.send(spec, s)) return;
    ++asked;
    // The reply travels to the home loop; a socket that never answers just keeps its entry
    // until it goes (the home's deadline does not wait for it).
    if (auto old = s.take_ack(id)) core::timer_wheel::cancel(*old);
    s.rare().acks.push_back(std::make_unique<pending_ack>(
        &s, id, [acks](socket&, std::optional<std::string> err, args reply) {
          if (err) return;
          acks->home_loop.post([acks, reply = std::move(reply)]() mutable {
            acks->home.broadcast_ack_reply(acks, std::move(reply));
          });
        }));
  });
  acks->home_loop.post([acks, asked] { acks->home.broadcast_ack_count(acks, asked); });
}

void loop_runtime::on_open(engineio::session& s, engineio::handshake_info&& info) {
  if (const runtime_metrics* m = server_.metrics()) {
    (s.transport() == engineio::transport_kind::websocket ? m->handshakes_websocket
                                                          : m->handshakes_polling)
        ->inc();
    m->sessions->add(1);
    if (metrics::gauge* g = m->by_transport(s)) g->add(1);
  }
  auto* c = new client_state(*this, s);
  c->hs.headers = std::move(info.headers);
  c->hs.issued_ms = info.issued_ms;
  c->hs.secure = info.secure;
  s.user_data = c;
  start_waiting(*c);
}

void loop_runtime::on_message(engineio::session& s, std::string_view text) {
  auto* c = static_cast<client_state*>(s.user_data);
  if (c == nullptr) return;
  if (const runtime_metrics* m = server_.metrics()) m->bytes_in->inc(text.size());
  if (server_.limits() != nullptr) charge_bytes(*c, text.size());
  auto r = c->dec.feed_text(text);
  if (!r) {
    protocol_error(*c);
    return;
  }
  if (!*r) return;
  if (std::shared_ptr<socket_state>* s = c->find_socket((**r).nsp);
      s != nullptr && (*s)->config.bytes_in != nullptr) {
    (*s)->config.bytes_in->inc(text.size());
  }
  on_packet(*c, **r);
}

void loop_runtime::on_binary(engineio::session& s, std::span<const uint8_t> data) {
  auto* c = static_cast<client_state*>(s.user_data);
  if (c == nullptr) return;
  if (server_.limits() != nullptr) charge_bytes(*c, data.size());
  auto blob = std::make_shared<const std::vector<uint8_t>>(data.begin(), data.end());
  auto r = c->dec.feed_binary(std::move(blob));
  if (!r) {
    protocol_error(*c);
    return;
  }
  if (*r) on_packet(*c, **r);
}

void loop_runtime::protocol_error(client_state& c) {
  // Node: a packet the parser rejects closes the connection ("parse error").
  if (c.session != nullptr) c.session->close("parse error");
}

void loop_runtime::on_upgrade(engineio::session&) {
  const runtime_metrics* m = server_.metrics();
  if (m == nullptr || m->sessions_polling == nullptr || m->sessions_websocket == nullptr) return;
  m->sessions_polling->sub(1);
  m->sessions_websocket->add(1);
}

void loop_runtime::on_close(engineio::session& s, std::string_view reason) {
  auto* c = static_cast<client_state*>(s.user_data);
  if (c == nullptr) return;
  if (const runtime_metrics* m = server_.metrics()) {
    m->sessions->sub(1);
    if (metrics::gauge* g = m->by_transport(s)) g->sub(1);
  }
  s.user_data = nullptr;
  c->session = nullptr;
  for (auto& sock : c->sockets.snapshot()) sock->close(reason, false);
  delete c;
}

void loop_runtime::on_packet(client_state& c, packet& p) {
  if (p.type == packet_type::connect) {
    on_connect(c, p);
    return;
  }
  std::shared_ptr<socket_state>* found = c.find_socket(p.nsp);
  if (found == nullptr) return;  // not connected to that namespace: ignored, as Node does
  std::shared_ptr<socket_state> s = *found;
  switch (p.type) {
    case packet_type::event:
    case packet_type::binary_event:
      if (server_.limits() != nullptr && !admit_event(c, *s, p)) break;
      s->on_event(p);
      break;
    case packet_type::ack:
    case packet_type::binary_ack:
      s->on_ack(p);
      break;
    case packet_type::disconnect:
      s->close("client namespace disconnect", false);
      break;
    default:
      break;
  }
}

void loop_runtime::charge_bytes(client_state& c, size_t n) {
  const runtime_limits& l = *server_.limits();
  const uint64_t now = loop_.now_ms();
  if (!c.limits) {
    c.limits.reset(new client_limits{{l.event_burst, now}, {l.byte_burst, now}});
  }
  c.limits->bytes.refill(l.bytes_per_s, l.byte_burst, now);
  c.limits->bytes.tokens -= static_cast<double>(n);
}

bool loop_runtime::admit_event(client_state& c, socket_state& s, const packet& p) {
  const runtime_limits& l = *server_.limits();
  const uint64_t now = loop_.now_ms();
  if (!c.limits) charge_bytes(c, 0);
  client_limits& cl = *c.limits;
  cl.events.refill(l.events_per_s, l.event_burst, now);
  cl.bytes.refill(l.bytes_per_s, l.byte_burst, now);
  const bool bytes_ok = cl.bytes.tokens >= 0;
  const bool events_ok = cl.events.tokens >= 1;
  if (bytes_ok && events_ok) {
    cl.events.tokens -= 1;
    return true;
  }
  metrics::counter* hits = bytes_ok ? l.event_hits : l.byte_hits;
  if (hits != nullptr) hits->inc();
  if (now >= cl.told_ms + 1000 || cl.told_ms == 0) {
    cl.told_ms = now;
    std::string what = bytes_ok ? "rate limit: at most " + std::to_string(int64_t(l.events_per_s)) +
                                      " events/s (burst " + std::to_string(int64_t(l.event_burst)) +
                                      "); events over it are dropped"
                                : "rate limit: at most " + std::to_string(int64_t(l.bytes_per_s)) +
                                      " bytes/s; events over it are dropped";
    const json::value* name = p.data && p.data->is_array() && !p.data->as_array().empty()
                                  ? &p.data->as_array()[0]
                                  : nullptr;
    s.send_event("relay:error",
                 {json::object{{"code", "rate_limited"},
                               {"event", name != nullptr ? *name : json::value()},
                               {"error", std::move(what)}}},
                 true);
  }
  return false;
}

void loop_runtime::on_connect(client_state& c, packet& p) {
  namespace_config* cfg = server_.resolve_namespace(
      p.nsp, p.data && p.data->is_object() ? *p.data : value(json::object{}));
  if (cfg == nullptr) {
    packet err;
    err.type = packet_type::connect_error;
    err.nsp = p.nsp;
    err.data = value(json::object{{"message", "Invalid namespace"}});
    c.session->send_text(encode(err).text);
    return;
  }
  if (c.find_socket(p.nsp) != nullptr) return;  // already connected there
  stop_waiting(c);
  // Connection state recovery: {pid, offset} in the CONNECT payload of a reconnecting client.
  std::optional<restored_session> restored;
  recovery_store* store = server_.recovery();
  if (store != nullptr && p.data && p.data->is_object()) {
    const value* pid = p.data->find("pid");
    const value* offset = p.data->find("offset");
    if (pid != nullptr && pid->is_string() && offset != nullptr && offset->is_string()) {
      restored = store->restore(pid->as_string(), offset->as_string(), index_, loop_.now_ms());
      if (restored && restored->session.nsp != p.nsp) restored.reset();
      if (restored && restored->session.loaded) {
        // An earlier process's session: what it missed comes from the application's store.
        const auto& replay = server_.options().recovery.replay_saved;
        std::optional<std::vector<missed_event>> missed;
        if (replay) missed = replay(to_saved(restored->session));
        if (missed) {
          for (missed_event& m : *missed) {
            missed_packet& p = restored->missed.emplace_back();
            p.data = std::move(m.data);
            if (!m.room.empty()) p.rooms.push_back(std::move(m.room));
          }
        } else {
          restored.reset();
        }
      }
    }
  }
  auto s =
      std::make_shared<socket_state>(*this, c, *cfg, intern_namespace(p.nsp),
                                     restored ? restored->session.sid : engineio::generate_sid());
  if (store != nullptr) {
    s->rare().recovery = std::make_unique<socket_state::recovery_state>();
    s->recovery()->pid = restored ? restored->session.pid : engineio::generate_sid();
  }
  // Node: socket.handshake.auth is {} when the client gave none.
  value auth = p.data && p.data->is_object() ? std::move(*p.data) : value(json::object{});
  if (!c.hs_adopted) {  // the first socket's auth becomes the connection's
    c.hs.set_auth(auth);
    c.hs_adopted = true;
  }
  if (c.hs.auth() == auth) {
    s->hs = &c.hs;
  } else {
    auto& own = s->rare().own_hs;
    own = std::make_unique<socketio::handshake>(c.hs);
    own->set_auth(std::move(auth));
    s->hs = own.get();
  }
  c.sockets.push_back(s);
  if (restored) {
    s->recovered = true;
    s->rooms = std::move(restored->session.rooms);  // re-joined by finish_connect
    if (!restored->session.data.is_null()) {
      s->rare().data = std::move(restored->session.data);
    }
    socket_state::recovery_state& r = *s->recovery();
    r.missed = std::move(restored->missed);
    r.restore_point =
        restored->session.loaded ? store->journal_end(index_) : restored->session.restore_point;
    r.already = std::move(restored->session.already);
    std::sort(r.already.begin(), r.already.end());
    // Until the replay goes out (finish_connect), the client's last id is the one it sent.
    r.base_id = restored->client_id;
    r.last_sent_id = restored->client_id;
    if (server_.options().recovery.skip_middlewares) {
      s->middleware_index = static_cast<uint16_t>(cfg->middlewares.size());
    }
  }
  s->run_middlewares();
}

}  // namespace relay::socketio::detail
