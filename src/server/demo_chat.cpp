#include "server/demo_chat.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace relay::server {
namespace {

using socketio::ack;
using socketio::args;
using socketio::socket;

constexpr size_t kMaxName = 32;
constexpr size_t kMaxText = 1000;

bool valid_room(std::string_view r) {
  if (r.empty() || r.size() > 32) return false;
  for (char c : r) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string trimmed(std::string_view s, size_t max) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s.substr(0, max));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string& name_of(socket& s) { return s.data()["name"].as_string(); }
const std::string& room_of(socket& s) { return s.data()["room"].as_string(); }

void say(socketio::namespace_ref nsp, const std::string& room, std::string text) {
  nsp.to(room).emit("system", {json::object{{"room", room}, {"text", std::move(text)}}});
}

}  // namespace

void install_demo_chat(socketio::server& io) {
  socketio::namespace_ref chat = io.of("/");
  chat.on_connection([chat](socket& s) {
    // A verified token's user (relay serve --jwt-...) is the name; else the one the page sent.
    std::string name;
    if (const json::value* u = s.data().find("user"); u != nullptr && u->is_string()) {
      name = trimmed(u->as_string(), kMaxName);
    } else if (const json::value* n = s.handshake().auth().find("name");
               n != nullptr && n->is_string()) {
      name = trimmed(n->as_string(), kMaxName);
    }
    if (name.empty()) name = "guest-" + std::string(s.id().substr(0, 4));
    s.data()["name"] = name;  // beside what the auth middleware put there
    s.data()["room"] = "lobby";
    s.join("lobby");
    s.emit("welcome", {json::object{{"id", s.id()}, {"name", name}, {"room", "lobby"}}});
    say(chat, "lobby", name + " joined");

    s.on("join", [chat](socket& s, args& a, ack reply) {
      if (a.empty() || !a[0].is_string() || !valid_room(a[0].as_string())) {
        if (reply) reply({json::object{{"error", "room names are 1-32 of A-Z a-z 0-9 - _"}}});
        return;
      }
      const std::string next = a[0].as_string();
      const std::string prev = room_of(s);
      if (next != prev) {
        s.leave(prev);
        say(chat, prev, name_of(s) + " left");
        s.join(next);
        s.data()["room"] = next;
        say(chat, next, name_of(s) + " joined");
      }
      if (reply) reply({json::object{{"room", next}}});
    });

    s.on("chat", [chat](socket& s, args& a, ack reply) {
      if (a.empty() || !a[0].is_string()) return;
      std::string text = trimmed(a[0].as_string(), kMaxText);
      if (text.empty()) return;
      chat.to(room_of(s)).emit("chat", {json::object{{"from", name_of(s)},
                                                     {"room", room_of(s)},
                                                     {"text", std::move(text)},
                                                     {"at", now_ms()}}});
      if (reply) reply({json::object{{"ok", true}}});
    });

    s.on("typing", [](socket& s, args& a, ack) {
      const bool typing = !a.empty() && a[0].is_bool() && a[0].as_bool();
      s.to(room_of(s)).emit("typing",
                            {json::object{{"from", name_of(s)}, {"typing", typing}}});
    });

    s.on_disconnect([chat](socket& s, std::string_view) {
      say(chat, room_of(s), name_of(s) + " left");
    });
  });
}

}  // namespace relay::server
