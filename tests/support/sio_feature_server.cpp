// A Socket.IO server for the integration tests of features the conformance server does not
// show (middleware refusals, server-side acks, disconnect reasons, rooms utilities), written
// with the public API only. Prints "listening on 127.0.0.1:PORT (N threads)".
//
//   sio_feature_server --port 0 --threads 2 [--recovery-ms M] [--deflate 1]
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "relay/socketio.hpp"

using relay::json::array;
using relay::json::object;
using relay::json::value;
using relay::socketio::ack;
using relay::socketio::args;
using relay::socketio::error;
using relay::socketio::namespace_ref;
using relay::socketio::next_fn;
using relay::socketio::socket;

namespace {

std::string string_arg(const args& a, size_t i) {
  return i < a.size() && a[i].is_string() ? a[i].as_string() : std::string();
}

void install_main(namespace_ref nsp) {
  nsp.use([](socket& s, next_fn next) {
    const value* token = s.handshake().auth().find("token");
    if (token != nullptr && token->is_string() && token->as_string() == "reject") {
      next(error{"not authorized", object{{"code", 401}}});
      return;
    }
    next(std::nullopt);
  });
  nsp.on_connection([nsp](socket& s) {
    s.on("join", [](socket& s, args& a, ack reply) {
      s.join(string_arg(a, 0));
      const std::vector<std::string> joined = s.rooms();
      array rooms(joined.begin(), joined.end());
      if (reply) reply({value(std::move(rooms))});
    });
    s.on("leave", [](socket& s, args& a, ack reply) {
      s.leave(string_arg(a, 0));
      if (reply) reply({});
    });
    // ("to", [rooms...], [except...], payload): a broadcast from this socket.
    s.on("to", [](socket& s, args& a, ack reply) {
      if (a.size() < 3 || !a[0].is_array() || !a[1].is_array()) return;
      relay::socketio::broadcast b = s.broadcast_all();
      for (const value& r : a[0].as_array()) b = b.to(r.as_string());
      for (const value& r : a[1].as_array()) b = b.except(r.as_string());
      b.emit("relayed", {a[2]});
      if (reply) reply({});
    });
    // ("burst", room, tag, count): `count` "relayed" {tag, n} broadcasts to the room at once.
    s.on("burst", [nsp](socket&, args& a, ack reply) {
      const std::string room = string_arg(a, 0);
      const value tag = a.size() > 1 ? a[1] : value();
      const int64_t n = a.size() > 2 && a[2].is_int() ? a[2].as_int() : 0;
      for (int64_t i = 1; i <= n; ++i)
        nsp.to(room).emit("relayed", {object{{"tag", tag}, {"n", i}}});
      if (reply) reply({});
    });
    // Asks the client a question and reports what came back (or the timeout).
    s.on("ask", [](socket& s, args& a, ack) {
      const uint32_t timeout =
          a.size() > 1 && a[1].is_int() ? static_cast<uint32_t>(a[1].as_int()) : 2000;
      s.emit_with_ack(
          "question", {a.empty() ? value() : a[0]},
          [](socket& self, std::optional<std::string> err, args reply) {
            if (err) {
              self.emit("answer-timeout", {*err});
            } else {
              self.emit("answer", std::move(reply));
            }
          },
          timeout);
    });
    s.on("kick", [](socket& s, args& a, ack) {
      s.disconnect(!a.empty() && a[0].is_bool() && a[0].as_bool());
    });
    // ("flood", count, size): that many "blob" events of `size` characters, at once.
    s.on("flood", [](socket& s, args& a, ack) {
      const int64_t n = a.size() > 0 && a[0].is_int() ? a[0].as_int() : 0;
      const int64_t size = a.size() > 1 && a[1].is_int() ? a[1].as_int() : 0;
      const std::string blob(static_cast<size_t>(size), 'x');
      for (int64_t i = 0; i < n; ++i) s.emit("blob", {blob});
    });
    // ("flood-volatile", room or "", count, size) then "end": volatile events to the room (a
    // broadcast) or to the asker itself ("" ), each `size` characters, then one plain event.
    s.on("flood-volatile", [nsp](socket& s, args& a, ack reply) {
      const std::string room = string_arg(a, 0);
      const int64_t n = a.size() > 1 && a[1].is_int() ? a[1].as_int() : 0;
      const int64_t size = a.size() > 2 && a[2].is_int() ? a[2].as_int() : 0;
      const std::string blob(static_cast<size_t>(size), 'v');
      for (int64_t i = 0; i < n; ++i) {
        if (room.empty()) {
          s.emit_volatile("v", {i, blob});
        } else {
          nsp.to(room).volatile_().emit("v", {i, blob});
        }
      }
      if (room.empty()) {
        s.emit("end", {n});
      } else {
        nsp.to(room).emit("end", {n});
      }
      if (reply) reply({});
    });
    // ("blob-compress", size, compress, room?): one "blob" of `size` characters to this socket,
    // or to the room, with compress(flag).
    s.on("blob-compress", [nsp](socket& s, args& a, ack) {
      const int64_t size = a.size() > 0 && a[0].is_int() ? a[0].as_int() : 0;
      const bool compress = a.size() > 1 && a[1].is_bool() && a[1].as_bool();
      const std::string blob(static_cast<size_t>(size), 'z');
      if (a.size() > 2 && a[2].is_string()) {
        nsp.to(a[2].as_string()).compress(compress).emit("blob", {blob});
      } else {
        s.compress(compress).emit("blob", {blob});
      }
    });
    s.on("close-connection", [](socket& s, args&, ack) { s.close_connection(); });
    s.on("whoami", [](socket& s, args&, ack reply) {
      if (reply) {
        reply({object{{"id", s.id()},
                      {"recovered", s.recovered()},
                      {"header", std::string(s.handshake().header("X-Relay-Test"))},
                      {"query", std::string(s.handshake().query())}}});
      }
    });
    s.on("sockets-join", [nsp](socket&, args& a, ack reply) {
      nsp.to(string_arg(a, 0)).sockets_join(string_arg(a, 1));
      if (reply) reply({});
    });
    // ("ask-room", room, timeout_ms, question): a broadcast ack to the room's members; the
    // asker's ack gets {err, responses}.
    s.on("ask-room", [nsp](socket&, args& a, ack reply) {
      relay::socketio::broadcast b = nsp.to(string_arg(a, 0));
      if (a.size() > 1 && a[1].is_int()) b = b.timeout(static_cast<uint32_t>(a[1].as_int()));
      b.emit_with_ack(
          "question", {a.size() > 2 ? a[2] : value()},
          [reply](std::optional<std::string> err, std::vector<args> responses) {
            array all;
            // Node's shape: each client's first reply argument.
            for (args& r : responses) all.push_back(r.empty() ? value() : r[0]);
            if (reply)
              reply({object{{"err", err ? value(*err) : value()}, {"responses", std::move(all)}}});
          });
    });
    s.on("set-data", [](socket& s, args& a, ack reply) {
      s.data() = a.empty() ? value() : a[0];
      if (reply) reply({});
    });
    // ("fetch", room): fetchSockets over the room, as [{id, rooms, data, auth}].
    s.on("fetch", [nsp](socket&, args& a, ack reply) {
      nsp.to(string_arg(a, 0))
          .fetch_sockets([reply](std::vector<relay::socketio::socket_info> all) {
            array out;
            for (auto& info : all) {
              out.emplace_back(object{{"id", info.id},
                                      {"nsp", info.nsp},
                                      {"rooms", array(info.rooms.begin(), info.rooms.end())},
                                      {"data", std::move(info.data)},
                                      {"auth", info.handshake.auth()}});
            }
            if (reply) reply({std::move(out)});
          });
    });
    s.on("server-side-emit", [nsp](socket&, args&, ack reply) {
      nsp.server_side_emit("ping", {},
                           [reply](std::optional<std::string> err, std::vector<args> r) {
                             if (reply) {
                               reply({object{{"err", err ? value(*err) : value()},
                                             {"replies", static_cast<int64_t>(r.size())}}});
                             }
                           });
    });
    s.on("disconnect-room",
         [nsp](socket&, args& a, ack) { nsp.to(string_arg(a, 0)).disconnect_sockets(); });
    s.on_disconnect([nsp](socket& s, std::string_view reason) {
      nsp.to("observers").emit("gone", {object{{"id", s.id()}, {"reason", std::string(reason)}}});
    });
  });
}

}  // namespace

int main(int argc, char** argv) {
  relay::socketio::server_options options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.upgrade_timeout_ms = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      options.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      options.threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--deflate") == 0) {
      options.per_message_deflate = std::atoi(argv[i + 1]) != 0;
    } else if (std::strcmp(argv[i], "--recovery-ms") == 0) {
      options.recovery.enabled = true;
      options.recovery.max_disconnection_ms = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    }
  }
  // Signals go to this thread only (the loops inherit the mask), taken with sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  relay::socketio::server io(options);
  install_main(io.of("/"));
  io.of("/admin").use([](socket&, next_fn next) { next(error{"admins only", value()}); });
  // Dynamic namespaces: any "/dyn-<digits>"; a broadcast on the parent reaches all of them.
  namespace_ref dyn = io.of([](std::string_view name, const value&) {
    if (name.size() <= 5 || name.substr(0, 5) != "/dyn-") return false;
    for (char c : name.substr(5)) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  });
  dyn.on_connection([dyn](socket& s) {
    s.emit("hello", {s.nsp()});
    s.on("shout", [dyn](socket&, args& a, ack reply) {
      dyn.emit("shouted", {a.empty() ? value() : a[0]});
      if (reply) reply({});
    });
  });
  io.start();
  std::printf("listening on 127.0.0.1:%u (%u threads)\n", io.port(), io.threads());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  io.stop();
  return 0;
}
