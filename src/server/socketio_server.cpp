#include "server/socketio_server.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

namespace relay::socketio {
namespace detail {

server_impl::server_impl(server_options options) : options_(std::move(options)) {
  namespace_named("/");
}

server_impl::~server_impl() { stop(); }

namespace_config& server_impl::namespace_named(const std::string& name) {
  if (namespace_config* c = find_namespace(name)) return *c;
  if (server_) throw std::logic_error("socketio::server: namespaces are created before start()");
  namespaces_.push_back(namespace_config{name, {}, {}, {}});
  return namespaces_.back();
}

namespace_config* server_impl::find_namespace(const std::string& name) {
  for (namespace_config& c : namespaces_) {
    if (!c.matches && c.name == name) return &c;
  }
  return nullptr;
}

namespace_config* server_impl::resolve_namespace(const std::string& name, const json::value& auth) {
  if (namespace_config* c = find_namespace(name)) return c;
  for (namespace_config& c : namespaces_) {
    if (c.matches && c.matches(name, auth)) return &c;
  }
  return nullptr;
}

namespace_config& server_impl::add_dynamic(
    std::function<bool(std::string_view name, const json::value& auth)> matches) {
  if (server_) throw std::logic_error("socketio::server: namespaces are created before start()");
  namespaces_.push_back(namespace_config{
      "(dynamic " + std::to_string(namespaces_.size()) + ")", {}, {}, std::move(matches)});
  return namespaces_.back();
}

loop_runtime* server_impl::current_runtime() noexcept {
  core::event_loop* here = core::event_loop::current();
  if (here == nullptr) return nullptr;
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i] == here && i < runtimes_.size()) return runtimes_[i].get();
  }
  return nullptr;
}

void server_impl::dispatch(const std::shared_ptr<const broadcast_spec>& spec,
                           std::function<void(loop_runtime&)> action) {
  if (!server_) return;
  loop_runtime* here = current_runtime();
  auto shared_action = std::make_shared<std::function<void(loop_runtime&)>>(std::move(action));
  for (size_t i = 0; i < runtimes_.size(); ++i) {
    if (spec->local && i != spec->origin_loop) continue;
    loop_runtime* rt = runtimes_[i].get();
    if (rt == here) {
      (*shared_action)(*rt);
    } else {
      loops_[i]->post([rt, shared_action] { (*shared_action)(*rt); });
    }
  }
}

void server_impl::start() {
  relay::server::server_config cfg;
  cfg.host = options_.host;
  cfg.port = options_.port;
  cfg.threads = options_.threads;
  cfg.tls_cert = options_.tls_cert;
  cfg.tls_key = options_.tls_key;
  cfg.builtin_endpoints = false;
  // A polling POST may carry up to maxHttpBufferSize: the HTTP layer must not refuse it first.
  cfg.http.limits.max_body_bytes =
      std::max<size_t>(cfg.http.limits.max_body_bytes, options_.max_http_buffer_size);
  start_with(std::move(cfg));
}

void server_impl::start_with(relay::server::server_config cfg) {
  if (server_) return;
  engine_options_.ping_interval_ms = options_.ping_interval_ms;
  engine_options_.ping_timeout_ms = options_.ping_timeout_ms;
  engine_options_.upgrade_timeout_ms = options_.upgrade_timeout_ms;
  engine_options_.max_payload = options_.max_http_buffer_size;
  engine_options_.allow_polling = options_.allow_polling;
  engine_options_.allow_websocket = options_.allow_websocket;
  engine_options_.allow_upgrades = options_.allow_upgrades;
  engine_options_.cors_origins = options_.cors_origins;
  engine_options_.allowed_origins = options_.allowed_origins;
  engine_options_.admit_handshake = options_.admit_handshake;
  if (!options_.trusted_proxies.empty()) {
    auto trust = http::proxy_trust::parse(options_.trusted_proxies);
    if (!trust) {
      throw std::runtime_error("trusted_proxies: '" + trust.error() +
                               "' is not an address or a CIDR range");
    }
    engine_options_.trusted_proxies = std::make_shared<const http::proxy_trust>(std::move(*trust));
  }
  decoder_options_.max_depth = options_.max_json_depth;
  engine_options_.cors_credentials = options_.cors_credentials;
  engine_options_.cookie = options_.cookie;
  engine_options_.per_message_deflate = options_.per_message_deflate;
  engine_options_.deflate_threshold = options_.deflate_threshold;
  engine_options_.http_compression = options_.http_compression;
  engine_options_.http_compression_threshold = options_.http_compression_threshold;
  engine_options_.websocket = cfg.ws;
  engine_options_.refuse_new_sessions = draining_;
  auto outer_setup = std::move(cfg.on_loop_setup);
  cfg.on_loop_setup = [this, outer_setup](relay::server::loop_setup& setup) {
    if (outer_setup) outer_setup(setup);
    if (loops_.empty()) {
      loops_.assign(setup.all_loops.begin(), setup.all_loops.end());
      if (options_.recovery.enabled) {
        recovery_ = std::make_unique<recovery_store>(options_.recovery.max_disconnection_ms,
                                                     static_cast<unsigned>(loops_.size()));
        recovery_->load(std::move(loaded_sessions_), core::event_loop::monotonic_ms());
      }
    }
    if (runtimes_.size() <= setup.index) runtimes_.resize(setup.index + 1);
    auto rt = std::make_unique<loop_runtime>(*this, setup.index, setup.loop);
    rt->attach_engine(std::make_unique<engineio::engine>(setup.loop, setup.index, engine_options_,
                                                         setup.handshake, *rt));
    rt->engine().set_migrator(setup.move_to_loop, static_cast<unsigned>(setup.all_loops.size()));
    setup.router.add(options_.path, rt->engine().handler());
    for (auto& [path, handlers] : raw_endpoints_) {
      auto ep = std::make_unique<raw_endpoint>(handlers);
      ep->engine = std::make_unique<engineio::engine>(setup.loop, setup.index, engine_options_,
                                                      setup.handshake, *ep);
      ep->engine->set_migrator(setup.move_to_loop, static_cast<unsigned>(setup.all_loops.size()));
      setup.router.add(path, ep->engine->handler());
      rt->raw_endpoints().push_back(std::move(ep));
    }
    runtimes_[setup.index] = std::move(rt);
  };
  auto outer_shutdown = std::move(cfg.on_loop_shutdown);
  cfg.on_loop_shutdown = [this, outer_shutdown](unsigned index) {
    runtimes_[index]->engine().close_all("server shutting down");
    for (auto& ep : runtimes_[index]->raw_endpoints())
      ep->engine->close_all("server shutting down");
    if (outer_shutdown) outer_shutdown(index);
  };
  auto outer_exit = std::move(cfg.on_loop_exit);
  cfg.on_loop_exit = [this, outer_exit](unsigned index) {
    runtimes_[index].reset();
    if (outer_exit) outer_exit(index);
  };
  server_ = std::make_unique<relay::server::server>(std::move(cfg));
  server_->start();
}

void server_impl::close_share(double share) {
  for (unsigned i = 0; i < loops_.size(); ++i) {
    post_to(i, [this, i, share] {
      engineio::engine& e = runtimes_[i]->engine();
      const auto n = static_cast<size_t>(std::ceil(static_cast<double>(e.session_count()) * share));
      closes_asked_.fetch_add(e.close_some(n, "server draining"));
    });
  }
}

void server_impl::stop() {
  if (!server_) return;
  server_->stop();
  runtimes_.clear();
}

}  // namespace detail

// --- public API -------------------------------------------------------------------------------

handshake::handshake(const handshake& other)
    : headers(other.headers),
      issued_ms(other.issued_ms),
      secure(other.secure),
      auth_(other.auth_ ? std::make_unique<value>(*other.auth_) : nullptr) {}

handshake& handshake::operator=(const handshake& other) {
  if (this != &other) *this = handshake(other);
  return *this;
}

const value& handshake::auth() const noexcept {
  static const value kNone{json::object{}};
  return auth_ ? *auth_ : kNone;
}

void handshake::set_auth(value v) {
  if (v.is_object() && v.as_object().empty()) {
    auth_.reset();
  } else {
    auth_ = std::make_unique<value>(std::move(v));
  }
}

std::string_view handshake::query() const noexcept {
  const std::string_view target = url();
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

void ack::operator()(args reply) const {
  auto s = socket_.lock();
  if (!s || s->client == nullptr || id_ < 0) return;
  // Once: the first reply wins (Node's ack callback is single-use too).
  packet p;
  p.type = packet_type::ack;
  p.nsp = s->nsp;
  p.id = static_cast<uint64_t>(id_);
  p.data = value(std::move(reply));
  id_ = -1;
  s->send(p);
}

std::string_view socket::id() const noexcept { return st_->id; }
const std::string& socket::nsp() const noexcept { return st_->nsp; }
const socketio::handshake& socket::handshake() const noexcept { return *st_->hs; }
bool socket::connected() const noexcept { return st_->connected; }
bool socket::recovered() const noexcept { return st_->recovered; }
std::vector<std::string> socket::rooms() const { return st_->all_rooms(); }
value& socket::data() { return st_->rare().data; }

void socket::on(std::string event, event_handler h) {
  if (event_handler* existing = st_->find_handler(event)) {
    *existing = std::move(h);
  } else {
    st_->handlers.emplace_back(st_->runtime.intern_event(std::move(event)), std::move(h));
  }
}

void socket::set_timer(uint32_t delay_ms, std::function<void(socket&)> fn) {
  if (st_->client == nullptr) return;  // gone: nothing will run
  auto& slot = st_->rare().timer;
  if (slot) core::timer_wheel::cancel(*slot);
  slot = std::make_unique<detail::socket_timer>(st_, std::move(fn));
  core::event_loop& loop = st_->runtime.loop();
  loop.timers().schedule(*slot, loop.now_ms() + delay_ms);
}

void socket::on_disconnect(disconnect_handler h) {
  st_->rare().on_disconnect.push_back(std::move(h));
}

namespace {

value event_data(std::string_view event, args a) {
  json::array all;
  all.reserve(a.size() + 1);
  all.emplace_back(std::string(event));
  for (value& v : a) all.push_back(std::move(v));
  return value(std::move(all));
}
}  // namespace

void socket::emit(std::string_view event, args a) {
  const bool compress = st_->take_compress();
  // "connect", "disconnect", ...: socket.io clients drop a connection that sends them.
  if (st_->client == nullptr || is_reserved_event(event)) return;
  if (detail::recovery_store* store = st_->runtime.server().recovery()) {
    // Kept for replay (see socket_state::send_kept).
    st_->send_kept(*store, event_data(event, std::move(a)), compress);
    return;
  }
  st_->send_event(event, a, compress);
}

void socket::emit_volatile(std::string_view event, args a) {
  const bool compress = st_->take_compress();
  if (st_->client == nullptr || is_reserved_event(event) || st_->backed_up()) return;
  st_->send_event(event, a, compress);
}

socket& socket::compress(bool on) {
  st_->compress_next = on;
  return *this;
}

void socket::emit_with_ack(std::string_view event, args a, ack_callback cb, uint32_t timeout_ms) {
  const bool compress = st_->take_compress();
  if (st_->client == nullptr || is_reserved_event(event)) return;
  const uint64_t id = st_->runtime.server().next_ack_id();
  auto pa = std::make_unique<detail::pending_ack>(st_, id, std::move(cb));
  if (timeout_ms > 0) {
    core::event_loop& loop = st_->runtime.loop();
    loop.timers().schedule(*pa, loop.now_ms() + timeout_ms);
  }
  st_->rare().acks.push_back(std::move(pa));
  packet p;
  p.type = packet_type::event;
  p.nsp = st_->nsp;
  p.id = id;
  p.data = event_data(event, std::move(a));
  st_->send(p, compress);
}

void socket::join(std::string room) { st_->join(room); }
void socket::leave(std::string_view room) { st_->leave(room); }

namespace {
std::shared_ptr<detail::broadcast_spec> spec_for(detail::socket_state& s) {
  auto spec = std::make_shared<detail::broadcast_spec>();
  spec->server = &s.runtime.server();
  spec->nsp = s.nsp;
  spec->origin_loop = s.runtime.index();
  spec->except.push_back(s.id.str());  // socket.to(...) / socket.broadcast leave the sender out
  return spec;
}
}  // namespace

broadcast socket::to(std::string room) const {
  auto spec = spec_for(*st_);
  spec->rooms.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast socket::except(std::string room) const {
  auto spec = spec_for(*st_);
  spec->except.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast socket::broadcast_all() const { return broadcast(spec_for(*st_)); }

void socket::disconnect(bool close) {
  detail::client_state* c = st_->client;
  st_->close("server namespace disconnect", true);
  if (close && c != nullptr && c->session != nullptr) c->session->close("forced close");
}

void socket::close_connection() {
  if (st_->client != nullptr && st_->client->session != nullptr) {
    st_->client->session->close("forced close");
  }
}

// broadcast

broadcast broadcast::to(std::string room) const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->rooms.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast broadcast::except(std::string room) const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->except.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast broadcast::volatile_() const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->is_volatile = true;
  return broadcast(std::move(spec));
}

broadcast broadcast::compress(bool on) const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->compress = on;
  return broadcast(std::move(spec));
}

broadcast broadcast::local() const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->local = true;
  return broadcast(std::move(spec));
}

broadcast broadcast::timeout(uint32_t ms) const {
  auto spec = std::make_shared<detail::broadcast_spec>(*spec_);
  spec->timeout_ms = ms;
  return broadcast(std::move(spec));
}

namespace {
// A broadcast's packet, encoded once and shared by every loop and every recipient. A dynamic
// parent's label is no namespace name: its children each get their own encoding, on delivery.
detail::shared_packet encode_once(packet p, const detail::broadcast_spec& spec,
                                  uint64_t recovery_id = 0) {
  auto shared = std::make_shared<detail::broadcast_packet>();
  if (recovery_id != 0) {
    shared->recovery_id = recovery_id;
    shared->emitted_ms = core::event_loop::monotonic_ms();  // any thread
  }
  if (spec.parent == nullptr) shared->encoded = encode(p);
  shared->raw = std::move(p);
  return shared;
}
}  // namespace

void broadcast::emit(std::string_view event, args a) const {
  if (is_reserved_event(event)) return;  // see socket::emit
  packet p;
  p.type = packet_type::event;
  p.nsp = spec_->nsp;
  p.data = event_data(event, std::move(a));
  uint64_t recovery_id = 0;
  if (detail::recovery_store* store = spec_->server->recovery(); store && !spec_->is_volatile) {
    recovery_id = store->stamp(*p.data);  // each loop journals it as it delivers it
  }
  auto spec = spec_;
  spec_->server->dispatch(spec_, [spec, shared = encode_once(std::move(p), *spec_, recovery_id)](
                                     detail::loop_runtime& rt) { rt.deliver(spec, shared); });
}

void broadcast::emit_with_ack(std::string_view event, args a, broadcast_ack_callback cb) const {
  if (is_reserved_event(event)) return;
  detail::server_impl* server = spec_->server;
  detail::loop_runtime* home = server->current_runtime();
  if (home == nullptr) {
    // The acks are collected on a loop: from outside, loop 0 sends the broadcast.
    if (server->loop_count() == 0) return;
    server->post_to(0, [b = *this, ev = std::string(event), a = std::move(a),
                        cb = std::move(cb)]() mutable { b.emit_with_ack(ev, std::move(a), cb); });
    return;
  }
  packet p;
  p.type = packet_type::event;
  p.nsp = spec_->nsp;
  p.id = server->next_ack_id();
  p.data = event_data(event, std::move(a));
  const uint32_t timeout = spec_->timeout_ms != 0 ? spec_->timeout_ms
                                                  : server->options().ping_interval_ms +
                                                        server->options().ping_timeout_ms;
  auto acks =
      home->open_broadcast_ack(std::move(cb), spec_->local ? 1 : server->loop_count(), timeout);
  auto spec = spec_;
  server->dispatch(
      spec_, [spec, acks, shared = encode_once(std::move(p), *spec_)](detail::loop_runtime& rt) {
        rt.deliver_with_ack(*spec, shared, acks);
      });
}

void broadcast::fetch_sockets(fetch_callback cb) const {
  detail::server_impl* server = spec_->server;
  if (server->loop_count() == 0) return;
  auto spec = spec_;
  server->gather<std::vector<socket_info>>(
      spec_, server->home_index(),
      [spec](detail::loop_runtime& rt) {
        std::vector<socket_info> found;
        rt.for_each_target(*spec, [&](detail::socket_state& s) {
          if (s.connected)
            found.push_back({s.id.str(), s.nsp, *s.hs, s.all_rooms(), s.data_copy()});
        });
        return found;
      },
      [cb = std::move(cb)](std::vector<std::vector<socket_info>> per_loop) {
        std::vector<socket_info> all;
        for (auto& v : per_loop) std::move(v.begin(), v.end(), std::back_inserter(all));
        if (cb) cb(std::move(all));
      });
}

void broadcast::sockets_join(std::string room) const {
  auto spec = spec_;
  spec_->server->dispatch(spec_, [spec, room](detail::loop_runtime& rt) {
    rt.for_each_target(*spec, [&](detail::socket_state& s) { s.join(room); });
  });
}

void broadcast::sockets_leave(std::string room) const {
  auto spec = spec_;
  spec_->server->dispatch(spec_, [spec, room](detail::loop_runtime& rt) {
    rt.for_each_target(*spec, [&](detail::socket_state& s) { s.leave(room); });
  });
}

void broadcast::disconnect_sockets(bool close) const {
  auto spec = spec_;
  spec_->server->dispatch(spec_, [spec, close](detail::loop_runtime& rt) {
    rt.for_each_target(*spec, [&](detail::socket_state& s) {
      detail::client_state* c = s.client;
      s.close("server namespace disconnect", true);
      if (close && c != nullptr && c->session != nullptr) c->session->close("forced close");
    });
  });
}

// namespace_ref

namespace_ref& namespace_ref::use(middleware m) {
  config_->middlewares.push_back(std::move(m));
  return *this;
}

namespace_ref& namespace_ref::on_connection(connection_handler h) {
  config_->on_connection = std::move(h);
  return *this;
}

const std::string& namespace_ref::name() const noexcept { return config_->name; }

namespace {
std::shared_ptr<detail::broadcast_spec> spec_for(detail::server_impl* s,
                                                 const detail::namespace_config& config) {
  auto spec = std::make_shared<detail::broadcast_spec>();
  spec->server = s;
  spec->nsp = config.name;
  if (config.matches) spec->parent = &config;
  if (detail::loop_runtime* rt = s->current_runtime()) spec->origin_loop = rt->index();
  return spec;
}
}  // namespace

broadcast namespace_ref::to(std::string room) const {
  auto spec = spec_for(server_, *config_);
  spec->rooms.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast namespace_ref::except(std::string room) const {
  auto spec = spec_for(server_, *config_);
  spec->except.push_back(std::move(room));
  return broadcast(std::move(spec));
}

broadcast namespace_ref::all() const { return broadcast(spec_for(server_, *config_)); }
broadcast namespace_ref::timeout(uint32_t ms) const { return all().timeout(ms); }
broadcast namespace_ref::local() const { return all().local(); }

void namespace_ref::emit(std::string_view event, args a) const { all().emit(event, std::move(a)); }

void namespace_ref::emit_with_ack(std::string_view event, args a, broadcast_ack_callback cb) const {
  all().emit_with_ack(event, std::move(a), std::move(cb));
}

void namespace_ref::fetch_sockets(fetch_callback cb) const { all().fetch_sockets(std::move(cb)); }
void namespace_ref::sockets_join(std::string room) const { all().sockets_join(std::move(room)); }
void namespace_ref::sockets_leave(std::string room) const { all().sockets_leave(std::move(room)); }
void namespace_ref::disconnect_sockets(bool close) const { all().disconnect_sockets(close); }

void namespace_ref::server_side_emit(std::string_view event, args,
                                     broadcast_ack_callback cb) const {
  if (is_reserved_event(event) || !cb) return;
  // No other node to reach (see the header): the answer is "every one of none replied", given
  // later on the caller's loop (loop 0 from outside), like any other ack.
  if (server_->loop_count() == 0) return;
  server_->post_to(server_->home_index(), [cb = std::move(cb)] { cb(std::nullopt, {}); });
}

// server

server::server(server_options options)
    : impl_(std::make_unique<detail::server_impl>(std::move(options))) {}

server::~server() = default;

namespace_ref server::of(std::function<bool(std::string_view name, const value& auth)> matches) {
  return namespace_ref(impl_.get(), &impl_->add_dynamic(std::move(matches)));
}

namespace_ref server::of(std::string name) {
  if (name.empty() || name[0] != '/') name.insert(name.begin(), '/');
  return namespace_ref(impl_.get(), &impl_->namespace_named(name));
}

void server::engine_endpoint(std::string path, engine_handlers handlers) {
  impl_->add_raw_endpoint(std::move(path), std::move(handlers));
}

void engine_session::send_text(std::string_view text) {
  static_cast<engineio::session*>(session_)->send_text(text);
}
void engine_session::send_binary(std::span<const uint8_t> data) {
  static_cast<engineio::session*>(session_)->send_binary(data);
}
void engine_session::close() { static_cast<engineio::session*>(session_)->close(); }

void server::start() { impl_->start(); }
uint16_t server::port() const noexcept { return impl_->port(); }
unsigned server::threads() const noexcept { return impl_->threads(); }
void server::stop() { impl_->stop(); }

std::vector<saved_session> server::saved_sessions() const {
  detail::recovery_store* store = impl_->recovery();
  return store ? store->saved(core::event_loop::monotonic_ms()) : std::vector<saved_session>{};
}

void server::load_sessions(std::vector<saved_session> sessions) {
  impl_->load_sessions(std::move(sessions));
}

}  // namespace relay::socketio
