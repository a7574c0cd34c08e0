// The server the official Engine.IO v4 / Socket.IO v5 test suites expect (their READMEs:
// one port; /socket.io/ with namespaces "/" and "/custom"; pingInterval 300, pingTimeout 200,
// maxPayload 1000000, connectTimeout 1000), written with the public API only.
//
//   conformance_server --port 3000 [--threads N]
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "relay/socketio.hpp"

using relay::socketio::ack;
using relay::socketio::args;
using relay::socketio::socket;

namespace {

void emit_auth(socket& s) { s.emit("auth", {s.handshake().auth()}); }

}  // namespace

int main(int argc, char** argv) {
  relay::socketio::server_options options;
  options.host = "127.0.0.1";
  options.port = 3000;
  options.threads = 1;
  options.ping_interval_ms = 300;
  options.ping_timeout_ms = 200;
  options.max_http_buffer_size = 1'000'000;
  options.connect_timeout_ms = 1000;
  options.cors_origins = {"*"};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      options.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      options.threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--host") == 0) {
      options.host = argv[i + 1];
    }
  }

  relay::socketio::server io(options);
  io.of("/").on_connection([](socket& s) {
    emit_auth(s);
    s.on("message", [](socket& s, args& a, ack) { s.emit("message-back", a); });
    s.on("message-with-ack", [](socket&, args& a, ack reply) {
      if (reply) reply(a);
    });
  });
  io.of("/custom").on_connection([](socket& s) { emit_auth(s); });
  // /engine.io/: a bare Engine.IO echo, for the Engine.IO v4 test suite.
  io.engine_endpoint("/engine.io/", {
                                        [](relay::socketio::engine_session& e,
                                           std::string_view text) { e.send_text(text); },
                                        [](relay::socketio::engine_session& e,
                                           std::span<const uint8_t> data) { e.send_binary(data); },
                                    });

  // SIGINT/SIGTERM go to this thread only (the loops inherit the mask), taken with sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  io.start();
  std::printf("listening on %s:%u (%u threads)\n", options.host.c_str(), io.port(), io.threads());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  io.stop();
  return 0;
}
