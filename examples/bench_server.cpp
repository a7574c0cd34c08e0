// The Socket.IO benchmark app (the same app runs on Node for the side-by-side benchmark, see
// bench/node/): every client joins room "s" unless its handshake query has pub=1; event "echo"
// is answered with socket.emit("echo", data); event "pub" does io.to("s").emit("m", data).
//
//   bench_server --port 3000 [--threads N] [--host H] [--recovery 1]
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "relay/socketio.hpp"

using relay::socketio::ack;
using relay::socketio::args;
using relay::socketio::socket;

namespace {

// True if the query string has the parameter name=value (exact, unencoded).
bool has_param(std::string_view query, std::string_view param) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    if (query.substr(0, amp) == param) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  relay::socketio::server_options options;
  options.host = "127.0.0.1";
  options.port = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      options.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      options.threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--host") == 0) {
      options.host = argv[i + 1];
    } else if (std::strcmp(argv[i], "--recovery") == 0) {
      options.recovery.enabled = std::atoi(argv[i + 1]) != 0;
    }
  }

  relay::socketio::server io(options);
  relay::socketio::namespace_ref main = io.of("/");
  main.on_connection([main](socket& s) {
    if (!has_param(s.handshake().query(), "pub=1")) s.join("s");
    // Only the first argument goes back, as in the Node app's (data) => emit("echo", data).
    // The arguments are moved on, not copied (a braced list would copy them).
    s.on("echo", [](socket& s, args& a, ack) {
      a.resize(1);
      s.emit("echo", std::move(a));
    });
    s.on("pub", [main](socket&, args& a, ack) {
      a.resize(1);
      main.to("s").emit("m", std::move(a));
    });
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
