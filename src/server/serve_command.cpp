#include "server/serve_command.hpp"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "server/demo_chat.hpp"
#include "server/jwt_auth.hpp"
#include "server/rooms_service.hpp"
#include "server/server.hpp"
#include "server/socketio_server.hpp"
#include "server/static_files.hpp"

namespace relay::server {

int serve_main(int argc, char** argv) {
  server_config cfg;
  CLI::App app{"relay serve: run the Relay real-time server", "relay serve"};
  app.add_option("--host", cfg.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", cfg.port, "TCP port (0 = pick a free one)")->capture_default_str();
  app.add_option("--threads", cfg.threads, "Event loops, one thread each (0 = one per core)")
      ->capture_default_str();
  app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain: serve wss:// and https://")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", cfg.tls_key, "PEM private key for --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--max-message-size", cfg.ws.max_message_size,
                 "Largest inbound WebSocket message in bytes, after inflation (close 1009)")
      ->capture_default_str();
  app.add_option("--max-buffered-bytes", cfg.ws.max_buffered_bytes,
                 "Per-connection outbound queue limit; a slower consumer is closed with 1008")
      ->capture_default_str();
  app.add_option("--high-water", cfg.ws.socket.high_water,
                 "Queued bytes above which the server stops reading from that peer")
      ->capture_default_str();
  app.add_option("--idle-timeout", cfg.ws.idle_timeout_ms,
                 "Milliseconds of WebSocket silence before a ping; twice that -> disconnect (0 = "
                 "off)")
      ->capture_default_str();
  app.add_option("--close-timeout", cfg.ws.close_timeout_ms,
                 "Milliseconds to wait for the peer's close frame")
      ->capture_default_str();
  app.add_option("--request-timeout", cfg.http.request_timeout_ms,
                 "Milliseconds for a whole HTTP request head and body to arrive (408)")
      ->capture_default_str();
  app.add_option("--keep-alive-timeout", cfg.http.keep_alive_timeout_ms,
                 "Milliseconds an idle HTTP keep-alive connection is kept")
      ->capture_default_str();
  app.add_option("--max-header-size", cfg.http.limits.max_header_bytes,
                 "Largest HTTP request head in bytes (431)")
      ->capture_default_str();
  app.add_option("--max-body-size", cfg.http.limits.max_body_bytes,
                 "Largest HTTP request body in bytes (413)")
      ->capture_default_str();
  bool no_compression = false;
  app.add_flag("--no-compression", no_compression, "Do not negotiate permessage-deflate");
  app.add_flag("--server-no-context-takeover", cfg.ws.deflate.server_no_context_takeover,
               "Reset the server's compressor per message (less memory, worse ratio)");
  app.add_option("--shutdown-timeout", cfg.shutdown_timeout_ms,
                 "Milliseconds SIGTERM waits for close handshakes before exiting")
      ->capture_default_str();
  std::string static_dir;
  app.add_option("--static-dir", static_dir,
                 "Directory of files served at / (default: the demo chat next to the binary, "
                 "<dir of relay>/web)");
  socketio::server_options sio;
  app.add_option("--ping-interval", sio.ping_interval_ms, "Engine.IO pingInterval, milliseconds")
      ->capture_default_str();
  app.add_option("--ping-timeout", sio.ping_timeout_ms, "Engine.IO pingTimeout, milliseconds")
      ->capture_default_str();
  app.add_option("--max-http-buffer-size", sio.max_http_buffer_size,
                 "Largest Engine.IO payload (polling POST or WebSocket message), bytes")
      ->capture_default_str();
  app.add_option("--cors-origin", sio.cors_origins,
                 "Browser origin allowed to use Socket.IO cross-origin (repeatable; * = any)");
  app.add_option("--allowed-origin", sio.allowed_origins,
                 "Only browsers from these origins may use Socket.IO, WebSocket included "
                 "(repeatable; e.g. https://app.example.com); clients without Origin pass");
  // JWT at the Socket.IO handshake (docs/auth.md): on as soon as a key is given.
  std::string jwt_secret;
  std::vector<std::string> jwt_public_keys;
  auto jwt = std::make_shared<jwt_auth_config>();
  app.add_option("--jwt-secret", jwt_secret,
                 "HMAC secret for HS256/384/512 tokens (default: $RELAY_JWT_SECRET)");
  app.add_option("--jwt-public-key", jwt_public_keys,
                 "PEM public key file for RS256 (RSA) or ES256 (P-256) tokens; repeatable")
      ->check(CLI::ExistingFile);
  app.add_option("--jwt-issuer", jwt->verify.issuer, "Required \"iss\" claim");
  app.add_option("--jwt-audience", jwt->verify.audience, "Accepted \"aud\" (repeatable)");
  app.add_option("--jwt-leeway", jwt->verify.leeway_s, "Seconds of clock skew for exp/nbf")
      ->capture_default_str();
  app.add_option("--jwt-cookie", jwt->cookie_name, "Cookie that may carry the token")
      ->capture_default_str();
  app.add_option("--max-connections-per-user", jwt->max_connections_per_user,
                 "With JWT on: sockets one user may hold per namespace at once (0 = no limit)")
      ->capture_default_str();
  app.add_option("--jwt-expiry-warning", jwt->expiry_warning_s,
                 "Seconds before a token's exp that the client gets token:expiring")
      ->capture_default_str();
  app.add_flag("--jwt-allow-query", jwt->allow_query_token,
               "Accept ?token= in the handshake URL (it ends up in proxy logs)");
  std::vector<std::string> rooms_namespaces;
  app.add_option("--rooms-namespace", rooms_namespaces,
                 "Socket.IO namespace where clients join, leave and publish in rooms by event, "
                 "within their token's grants (docs/auth.md); repeatable");
  app.add_flag("--allow-anonymous", jwt->allow_anonymous,
               "With JWT on, admit clients that send no token at all (not a bad one)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (jwt_secret.empty()) {
    if (const char* env = std::getenv("RELAY_JWT_SECRET")) jwt_secret = env;
  }
  try {
    if (!jwt_secret.empty()) jwt->keys.add_hmac_secret(jwt_secret);
    for (const std::string& path : jwt_public_keys) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream pem;
      pem << in.rdbuf();
      jwt->keys.add_public_key_pem(pem.str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: JWT key: %s\n", e.what());
    return 1;
  }
  cfg.ws.deflate.enabled = !no_compression;
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
  cfg.on_loop_setup = [files](loop_setup& setup) { files->add_routes(setup.router); };

  // Socket.IO at /socket.io/ (the demo chat on "/"), beside /echo, /pub, /sub and /healthz.
  // One HTTP body limit for every route: Engine.IO announces (maxPayload) what it can take.
  sio.max_http_buffer_size = std::min<uint64_t>(sio.max_http_buffer_size,
                                                cfg.http.limits.max_body_bytes);
  sio.host = cfg.host;
  sio.port = cfg.port;
  sio.threads = cfg.threads;
  socketio::server io(sio);
  const bool tokens = jwt->keys.size() != 0;
  if (tokens) install_jwt_auth(io.of("/"), jwt);
  install_demo_chat(io);
  for (const std::string& name : rooms_namespaces) {
    if (name.size() < 2 || name[0] != '/' || name.find(',') != std::string::npos) {
      std::fprintf(stderr, "relay: --rooms-namespace '%s': a name like /live (not /)\n",
                   name.c_str());
      return 2;
    }
    if (tokens) install_jwt_auth(io.of(name), jwt);
    install_rooms_service(io.of(name), tokens);
  }
  try {
    io.impl_->start_with(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: %s\n", e.what());
    return 1;
  }
  std::printf("listening on %s:%u (%u threads%s)\n", cfg.host.c_str(), io.port(), io.threads(),
              cfg.tls_cert.empty() ? "" : ", TLS");
  if (files->size() != 0) {
    std::printf("relay: demo chat at http%s://%s:%u/ (files from %s)\n",
                cfg.tls_cert.empty() ? "" : "s",
                cfg.host == "0.0.0.0" ? "localhost" : cfg.host.c_str(), io.port(),
                static_dir.c_str());
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::printf("relay: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  io.stop();
  return 0;
}

}  // namespace relay::server
