#include "server/serve_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/slow_consumers.hpp"
#include "core/wall_clock.hpp"
#include "server/config_loader.hpp"
#include "server/demo_chat.hpp"
#include "server/http_api.hpp"
#include "server/ip_rate_limiter.hpp"
#include "server/jwt_auth.hpp"
#include "server/rooms_service.hpp"
#include "server/saved_sessions_file.hpp"
#include "server/server.hpp"
#include "server/server_metrics.hpp"
#include "server/socketio_server.hpp"
#include "server/sse_service.hpp"
#include "server/static_files.hpp"
#include "store/memory_history.hpp"
#include "store/sqlite_history.hpp"

extern char** environ;

namespace relay::server {
namespace {

using core::wall_clock_ms;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One middleware configuration per namespace: each counts its own users' connections.
// Start-up time: throws on a bad key.
std::shared_ptr<jwt_auth_config> make_jwt_config(const jwt_settings& jwt, bool anonymous,
                                                 const limit_settings& limits,
                                                 server_metrics& metrics) {
  auto cfg = std::make_shared<jwt_auth_config>();
  cfg->on_refusal = [&metrics](std::string_view code) {
    if (code == "too_many_connections") {
      metrics.per_user_refusals.inc();
    } else {
      metrics.auth_refusals.with({code}).inc();  // a fixed set of codes: bounded labels
    }
  };
  if (!jwt.secret.empty()) cfg->keys.add_hmac_secret(jwt.secret);
  for (const std::string& path : jwt.public_keys) cfg->keys.add_public_key_pem(read_file(path));
  if (!jwt.jwks_file.empty()) cfg->keys.add_jwks(read_file(jwt.jwks_file));
  cfg->verify.issuer = jwt.issuer;
  cfg->verify.audience = jwt.audience;
  cfg->verify.leeway_s = jwt.leeway_s;
  cfg->cookie_name = jwt.cookie;
  cfg->allow_query_token = jwt.allow_query_token;
  cfg->allow_anonymous = anonymous;
  cfg->expiry_warning_s = jwt.expiry_warning_s;
  cfg->max_connections_per_user = limits.max_connections_per_user;
  return cfg;
}

// Room history: in memory, or in SQLite under data_dir (survives a restart). Start-up time:
// throws with the file's name when the database cannot be opened.
std::unique_ptr<store::history_store> make_history(const serve_settings& settings) {
  store::history_options options;
  const history_settings h = settings.history;
  options.limits = [h](std::string_view room) {
    const history_settings::limits l = h.for_room(room);
    return store::history_limits{l.max_messages, l.max_age_ms, l.max_bytes};
  };
  if (settings.data_dir.empty()) return std::make_unique<store::memory_history>(std::move(options));
  std::filesystem::create_directories(settings.data_dir);
  const std::string path = (std::filesystem::path(settings.data_dir) / "history.sqlite3").string();
  return std::make_unique<store::sqlite_history>(path, std::move(options), wall_clock_ms());
}

std::vector<std::string> namespace_names(const serve_settings& settings) {
  std::vector<std::string> names{"/"};
  for (const namespace_settings& ns : settings.namespaces) names.push_back(ns.name);
  return names;
}

// History sizes, read from the store at each scrape.
void add_history_metrics(server_metrics& m, const std::shared_ptr<room_hub>& hub) {
  std::weak_ptr<room_hub> weak = hub;
  const auto stat = [weak](auto field) {
    return [weak, field](metrics::sample_sink& out) {
      if (auto h = weak.lock()) out.emit(static_cast<double>(field(h->history().stats())));
    };
  };
  m.registry.add_gauge_callback("relay_history_rooms", "Rooms with a history (or its offsets).", {},
                                stat([](const store::history_stats& s) { return s.rooms; }));
  m.registry.add_gauge_callback("relay_history_messages", "Messages held in room histories.", {},
                                stat([](const store::history_stats& s) { return s.entries; }));
  m.registry.add_gauge_callback("relay_history_bytes", "Bytes of messages held in histories.", {},
                                stat([](const store::history_stats& s) { return s.bytes; }));
  const auto present = [weak](auto field) {
    return [weak, field](metrics::sample_sink& out) {
      if (auto h = weak.lock()) out.emit(static_cast<double>(field(h->presence().count())));
    };
  };
  m.registry.add_gauge_callback(
      "relay_presence_rooms", "Rooms with someone present.", {},
      present([](const presence_registry::totals& t) { return t.rooms; }));
  m.registry.add_gauge_callback(
      "relay_presence_members", "Users present, each counted once per room.", {},
      present([](const presence_registry::totals& t) { return t.members; }));
  m.registry.add_counter_callback(
      "relay_slow_consumer_disconnects_total",
      "Connections closed for not reading fast enough (queue past websocket.max_buffered_bytes).",
      {}, [](metrics::sample_sink& out) {
        out.emit(static_cast<double>(core::g_slow_consumer_closes.load(std::memory_order_relaxed)));
      });
  m.registry.add_counter_callback(
      "relay_history_write_errors_total", "Failed history writes to SQLite (batches lost).", {},
      stat([](const store::history_stats& s) { return s.write_errors; }));
}

// SIGTERM: stop taking clients (handshakes and SSE get 503, /readyz 503) and close the connected
// ones a share at a time, spread over drain_ms, so that their reconnects reach the next server
// as a trickle instead of a herd. What is queued for a client goes out before its close. Ends
// early once nobody is left, or at a second SIGTERM / SIGINT.
void drain(socketio::detail::server_impl& io, sse_service* sse, server_metrics& metrics,
           std::atomic<bool>& draining, uint32_t drain_ms, const sigset_t& stop_signals) {
  draining.store(true);
  io.begin_drain();
  const auto connections = [&] {
    return static_cast<int64_t>(metrics.sessions.value()) +
           static_cast<int64_t>(sse != nullptr ? sse->streams() : 0);
  };
  std::printf("relay: SIGTERM, draining %lld connections over %u ms\n",
              static_cast<long long>(connections()), drain_ms);
  std::fflush(stdout);
  log::info("draining", {{"connections", connections()}, {"drain_timeout_ms", int64_t{drain_ms}}});
  constexpr int64_t kStepMs = 100;
  // Once every session has been asked to close, what is left is closing: polling clients fetch
  // their last packets within a poll; one that went away would hold the drain until its ping
  // timeout. Give them this long, then stop.
  constexpr int64_t kLastFetchMs = 2000;
  const auto start = std::chrono::steady_clock::now();
  const int64_t sessions_at_start = metrics.sessions.value();
  int64_t all_asked_at = -1;
  while (true) {
    const int64_t elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
    const int64_t left = static_cast<int64_t>(drain_ms) - elapsed;
    if (left <= 0) break;
    if (metrics.sessions.value() <= 0 && (sse == nullptr || sse->streams() == 0)) break;
    if (all_asked_at < 0 && static_cast<int64_t>(io.closes_asked()) >= sessions_at_start) {
      all_asked_at = elapsed;
    }
    if (all_asked_at >= 0 && elapsed - all_asked_at > kLastFetchMs) break;
    // The share that keeps the pace even: one step's worth of what time is left.
    const double share = std::min(1.0, static_cast<double>(kStepMs) / static_cast<double>(left));
    io.close_share(share);
    if (sse != nullptr) sse->close_share(share);
    const timespec step{0, kStepMs * 1'000'000};
    if (sigtimedwait(&stop_signals, nullptr, &step) > 0) break;
  }
  log::info("drained", {{"connections_left", connections()},
                        {"elapsed_ms",
                         static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - start)
                                                  .count())}});
}

// Flags come from the schema; their values are applied after the file and the environment so
// that a flag always wins.
struct flag_values {
  const serve_setting* setting;
  std::vector<std::string> texts;
  int count = 0;  // boolean flags
};

// Reads --config, RELAY_ variables, flags and --set into settings. Returns an exit code when
// serve should not go on (help, bad configuration), or -1.
int configure(int argc, char** argv, serve_settings& settings) {
  CLI::App app{"relay serve: run the Relay real-time server", "relay serve"};
  std::string config_path;
  app.add_option("--config", config_path, "TOML configuration file (default: $RELAY_CONFIG)");
  std::vector<std::string> assignments;
  app.add_option("--set", assignments, "KEY=VALUE: set any key of the file (repeatable)")
      ->allow_extra_args(false);
  std::vector<std::string> rooms_namespaces;
  app.add_option("--rooms-namespace", rooms_namespaces,
                 "Namespace where clients join, leave and publish in rooms by event, within "
                 "their token's grants (docs/auth.md); repeatable")
      ->allow_extra_args(false);
  const serve_settings defaults;
  std::deque<flag_values> flags;
  for (const serve_setting& s : serve_schema()) {
    if (s.flag.empty()) continue;
    flag_values& f = flags.emplace_back(flag_values{&s, {}, 0});
    const std::string help = std::string(s.help) + " [" + std::string(s.key) + "]";
    const std::string group(s.key.substr(0, s.key.find('.')));
    if (s.rule.kind == value_kind::boolean) {
      app.add_flag(std::string(s.flag), f.count, help)->group(group);
    } else {
      static constexpr const char* kTypeNames[] = {"TEXT",     "BOOL", "INT",
                                                   "DURATION", "SIZE", "LIST"};
      app.add_option(std::string(s.flag), f.texts, help)
          ->allow_extra_args(false)
          ->type_name(kTypeNames[static_cast<int>(s.rule.kind)])
          ->default_str(to_toml_text(s.rule, s.get(defaults)))
          ->group(group);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  config_loader loader(settings);
  if (config_path.empty()) {
    if (const char* env = std::getenv("RELAY_CONFIG")) config_path = env;
  }
  if (!config_path.empty()) loader.load_file(config_path);
  loader.load_environment(environ);
  for (const flag_values& f : flags) {
    const std::string flag(f.setting->flag);
    if (f.count > 0) loader.set(*f.setting, {f.setting->flag_sets ? "true" : "false"}, flag);
    if (!f.texts.empty()) loader.set(*f.setting, f.texts, flag);
  }
  for (const std::string& name : rooms_namespaces) settings.namespace_named(name);
  for (const std::string& a : assignments) loader.set_assignment(a, "--set");
  loader.validate();
  for (const std::string& w : loader.warnings()) std::fprintf(stderr, "relay: %s\n", w.c_str());
  if (!loader.problems().empty()) {
    for (const config_problem& p : loader.problems()) {
      std::fprintf(stderr, "relay: %s\n", to_string(p).c_str());
    }
    return 2;
  }
  return -1;
}

}  // namespace

int serve_main(int argc, char** argv) {
  serve_settings settings;
  if (const int code = configure(argc, argv, settings); code >= 0) return code;
  log::level log_level = log::level::info;
  log::parse_level(settings.log.level, log_level);  // validated by configure()
  log::configure(log_level, settings.log.format == "json");
  server_config& cfg = settings.server;
  socketio::server_options& sio = settings.socketio;
  cfg.ws.deflate.enabled = settings.websocket_compression;
  cfg.http.socket = cfg.ws.socket;

  // Signals are taken synchronously by this thread; loops never see them. SIGPIPE is ignored
  // because OpenSSL writes with plain write().
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The demo page and the vendored socket.io client live next to the binary (build/<preset>/web).
  std::string static_dir = settings.static_dir;
  if (static_dir.empty()) {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) static_dir = (exe.parent_path() / "web").string();
  }
  auto files = std::make_shared<static_files>();
  if (!static_dir.empty() && std::filesystem::is_directory(static_dir)) {
    try {
      *files = static_files::load(static_dir);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "relay: %s\n", e.what());
      return 1;
    }
  }
  // Metrics: one shard per loop (set on each loop's thread below).
  const unsigned loops =
      cfg.threads != 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  auto metrics = std::make_shared<server_metrics>(loops);
  socketio::detail::runtime_metrics runtime_counters{
      .handshakes_polling = &metrics->handshakes_polling,
      .handshakes_websocket = &metrics->handshakes_websocket,
      .sessions = &metrics->sessions,
      .sessions_websocket = &metrics->sessions_websocket,
      .sessions_polling = &metrics->sessions_polling,
      .bytes_in = &metrics->socketio_bytes_in,
      .broadcast_recipients = &metrics->broadcast_recipients};

  std::shared_ptr<room_hub> hub;
  try {
    hub = std::make_shared<room_hub>(make_history(settings));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: %s\n", e.what());
    return 1;
  }
  std::shared_ptr<const http_api_config> api;
  if (!settings.api_keys.empty()) {
    auto c = std::make_shared<http_api_config>();
    c->keys = settings.api_keys;
    c->hub = hub;
    c->metrics = metrics.get();
    api = std::move(c);
  }
  hub->set_latency_histogram(&metrics->publish_latency);
  add_history_metrics(*metrics, hub);

  // SSE on the same rooms: the hub hands it every message on the room's owner loop.
  // Set on SIGTERM (drain): /readyz answers 503, new SSE streams are refused.
  auto draining = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<sse_service> sse;
  if (settings.sse.enabled) {
    sse_config sc;
    try {
      if (settings.jwt.enabled()) {
        sc.jwt =
            make_jwt_config(settings.jwt, settings.jwt.allow_anonymous, settings.limits, *metrics);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "relay: JWT key: %s\n", e.what());
      return 1;
    }
    sc.anonymous = {settings.sse.anonymous_subscribe, {}};
    sc.heartbeat_ms = settings.sse.heartbeat_ms;
    sc.max_rooms = settings.sse.max_rooms;
    sc.max_buffered_bytes = cfg.ws.max_buffered_bytes;
    sc.cors_origins = sio.cors_origins;
    sc.draining = draining;
    sse = std::make_shared<sse_service>(std::move(sc), hub);
    hub->set_publish_listener(
        [s = sse.get()](const std::string& room, uint64_t offset, const std::string& event,
                        const json::value& payload) { s->deliver(room, offset, event, payload); });
    std::weak_ptr<sse_service> weak = sse;
    metrics->registry.add_gauge_callback("relay_sse_streams", "Open SSE streams.", {},
                                         [weak](metrics::sample_sink& out) {
                                           if (auto s = weak.lock())
                                             out.emit(static_cast<double>(s->streams()));
                                         });
    cfg.on_loop_shutdown = [sse](unsigned index) { sse->shutdown_loop(index); };
    cfg.on_loop_exit = [sse](unsigned index) { sse->exit_loop(index); };
  }
  cfg.on_loop_setup = [files, hub, api, metrics, sse, draining](loop_setup& setup) {
    // Readiness for load balancers: 503 from the start of a drain (healthz stays 200).
    setup.router.add(
        "/readyz", [draining](http::http_session& session, http::request&, std::span<uint8_t>) {
          if (draining->load()) {
            session.respond(http::status::service_unavailable, "application/json",
                            R"({"status":"draining"})");
          } else {
            session.respond(http::status::ok, "application/json", R"({"status":"ready"})");
          }
        });
    files->add_routes(setup.router);
    hub->attach(setup);
    if (api) add_http_api_routes(setup.router, api);
    if (sse) sse->attach(setup);
    setup.loop.post([index = setup.index] { metrics::set_thread_shard(index); });
    setup.router.add(
        "/metrics", [metrics](http::http_session& session, http::request& req, std::span<uint8_t>) {
          if (req.method != "GET" && req.method != "HEAD") {
            session.respond_error(http::status::method_not_allowed, "Allow: GET, HEAD\r\n");
            return;
          }
          session.respond(http::status::ok, metrics::content_type(), metrics->registry.render());
        });
  };

  // Socket.IO at /socket.io/ (the demo chat on "/"), beside /echo, /pub, /sub and /healthz.
  // One HTTP body limit for every route: Engine.IO announces (maxPayload) what it can take.
  sio.max_http_buffer_size =
      std::min<uint64_t>(sio.max_http_buffer_size, cfg.http.limits.max_body_bytes);
  sio.host = cfg.host;
  sio.port = cfg.port;
  sio.threads = cfg.threads;
  // Handshake gate: the server's connection cap, then the client address's rate.
  std::shared_ptr<ip_rate_limiter> per_ip;
  if (settings.limits.connections_per_ip_per_second != 0) {
    per_ip = std::make_shared<ip_rate_limiter>(settings.limits.connections_per_ip_per_second,
                                               settings.limits.connection_burst_per_ip);
  }
  if (per_ip || settings.limits.max_connections != 0) {
    sio.admit_handshake = [per_ip, metrics,
                           max = settings.limits.max_connections](std::string_view ip) -> uint16_t {
      if (max != 0 && metrics->sessions.value() >= static_cast<int64_t>(max)) {
        metrics->server_full_hits.inc();
        return 503;
      }
      if (per_ip && !per_ip->take(ip, static_cast<uint64_t>(wall_clock_ms()))) {
        metrics->ip_rate_hits.inc();
        return 429;
      }
      return 0;
    };
  }
  // Recovery in relay serve: the token is checked again on the way back (its JWT middleware
  // sets the grants, the per-user count and the expiry timer), and with --data-dir a session
  // survives a restart, its room messages replayed from the history.
  sio.recovery.skip_middlewares = false;
  const bool durable_sessions = sio.recovery.enabled && !settings.data_dir.empty();
  const std::string sessions_path =
      durable_sessions
          ? (std::filesystem::path(settings.data_dir) / "recovery-sessions.json").string()
          : std::string();
  if (durable_sessions) {
    hub->track_deliveries();
    sio.recovery.on_persist = [hub](socketio::socket& s) { hub->note_resume_points(s); };
    sio.recovery.replay_saved = [hub](const socketio::saved_session& s) {
      return hub->replay_saved(s);
    };
  }
  socketio::server io(sio);
  if (durable_sessions) io.load_sessions(take_saved_sessions(sessions_path));
  io.impl_->set_metrics(&runtime_counters);
  // Inbound rate limits per connection, when configured (the default: 100 events/s, 1 MiB/s).
  socketio::detail::runtime_limits rate_limits;
  const limit_settings& lim = settings.limits;
  if (lim.events_per_second != 0 || lim.bytes_per_second != 0) {
    // A limit of 0 stays open: a rate and burst no client reaches.
    constexpr double kOpen = 1e18;
    rate_limits.events_per_s = lim.events_per_second != 0 ? lim.events_per_second : kOpen;
    rate_limits.event_burst = lim.events_per_second != 0 ? lim.event_burst : kOpen;
    rate_limits.bytes_per_s =
        lim.bytes_per_second != 0 ? static_cast<double>(lim.bytes_per_second) : kOpen;
    rate_limits.byte_burst = 2 * rate_limits.bytes_per_s;
    rate_limits.event_hits = &metrics->event_rate_hits;
    rate_limits.byte_hits = &metrics->byte_rate_hits;
    io.impl_->set_limits(&rate_limits);
  }
  const bool tokens = settings.jwt.enabled();
  try {
    if (tokens) {
      install_jwt_auth(io.of("/"), make_jwt_config(settings.jwt, settings.jwt.allow_anonymous,
                                                   settings.limits, *metrics));
    }
    install_demo_chat(io);
    for (const namespace_settings& ns : settings.namespaces) {
      if (tokens) {
        const bool anonymous = ns.anonymous.value_or(settings.jwt.allow_anonymous);
        install_jwt_auth(io.of(ns.name),
                         make_jwt_config(settings.jwt, anonymous, settings.limits, *metrics));
      }
      if (ns.rooms) {
        rooms_policy policy{.tokens_verified = tokens,
                            .anonymous = {ns.anonymous_subscribe, ns.anonymous_publish},
                            .presence = ns.presence,
                            .max_rooms = settings.limits.max_rooms_per_connection,
                            .room_limit_hits = &metrics->room_count_hits,
                            .refusals = &metrics->permission_refusals,
                            .publishes = &metrics->publishes_socketio};
        install_rooms_service(io.of(ns.name), std::move(policy), hub);
      }
    }
    // Traffic by namespace, for the namespaces this server has.
    for (const std::string& name : namespace_names(settings)) {
      socketio::detail::namespace_config& nc = io.impl_->namespace_named(name);
      nc.messages_in = &metrics->messages_in.with({name});
      nc.messages_out = &metrics->messages_out.with({name});
      nc.bytes_out = &metrics->bytes_out.with({name});
      nc.bytes_in = &metrics->bytes_in.with({name});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: JWT key: %s\n", e.what());
    return 1;
  }
  try {
    io.impl_->start_with(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: %s\n", e.what());
    return 1;
  }
  std::printf("listening on %s:%u (%u threads%s)\n", cfg.host.c_str(), io.port(), io.threads(),
              cfg.tls_cert.empty() ? "" : ", TLS");
  log::info("listening", {{"host", std::string_view(cfg.host)},
                          {"port", int64_t{io.port()}},
                          {"threads", int64_t{io.threads()}},
                          {"tls", !cfg.tls_cert.empty()},
                          {"history", settings.data_dir.empty() ? "memory" : "sqlite"},
                          {"jwt", settings.jwt.enabled()},
                          {"api", !settings.api_keys.empty()}});
  if (files->size() != 0) {
    std::printf(
        "relay: demo chat at http%s://%s:%u/ (files from %s)\n", cfg.tls_cert.empty() ? "" : "s",
        cfg.host == "0.0.0.0" ? "localhost" : cfg.host.c_str(), io.port(), static_dir.c_str());
  }
  if (api) std::printf("relay: HTTP API at /api/ (%zu keys)\n", settings.api_keys.size());
  std::fflush(stdout);

  // This thread waits for a stop signal and, meanwhile, frees aged-out history once a second.
  int sig = 0;
  const timespec tick{1, 0};
  while ((sig = sigtimedwait(&stop_signals, nullptr, &tick)) < 0) {
    hub->history().expire(wall_clock_ms());
    if (per_ip) per_ip->sweep(static_cast<uint64_t>(wall_clock_ms()));
  }
  log::info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  if (sig == SIGTERM && cfg.drain_timeout_ms != 0) {
    drain(*io.impl_, sse.get(), *metrics, *draining, cfg.drain_timeout_ms, stop_signals);
  }
  std::printf("relay: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  io.stop();
  if (durable_sessions) {
    const std::vector<socketio::saved_session> saved = io.saved_sessions();
    if (!saved.empty() && write_saved_sessions(sessions_path, saved)) {
      log::info("sessions saved", {{"sessions", static_cast<int64_t>(saved.size())}});
    }
  }
  return 0;
}

}  // namespace relay::server
