#include "server/rooms_service.hpp"

#include <memory>
#include <string>
#include <utility>

#include "auth/room_grants.hpp"

namespace relay::server {
namespace {

using socketio::ack;
using socketio::args;
using socketio::socket;

constexpr size_t kMaxRoomName = 200;
constexpr std::string_view kRoomPrefix = "r:";

std::string internal_room(std::string_view room) {
  std::string r(kRoomPrefix);
  r += room;
  return r;
}

// The room argument: a string of 1-200 bytes, or nullptr.
const std::string* room_arg(const json::value* v) {
  if (v == nullptr || !v->is_string()) return nullptr;
  const std::string& s = v->as_string();
  return s.empty() || s.size() > kMaxRoomName ? nullptr : &s;
}

// Answers through the ack, or with "relay:error" when the client asked for none.
void refuse(socket& s, ack& reply, std::string_view event, std::string_view room,
            std::string error) {
  if (reply) {
    reply({json::object{{"error", std::move(error)}}});
    return;
  }
  s.emit("relay:error", {json::object{{"event", std::string(event)},
                                      {"room", std::string(room)},
                                      {"error", std::move(error)}}});
}

}  // namespace

void install_rooms_service(socketio::namespace_ref nsp, rooms_policy policy) {
  // Sockets without a token's claims share one grants object.
  auto tokenless = std::make_shared<const auth::room_grants>(
      policy.tokens_verified ? std::move(policy.anonymous) : auth::room_grants::all());
  nsp.on_connection([nsp, tokenless](socket& s) {
    const json::value* claims = s.data().find("claims");  // set by the JWT middleware
    auto grants =
        claims != nullptr
            ? std::make_shared<const auth::room_grants>(auth::room_grants::from_claims(*claims))
            : tokenless;
    json::value from;
    if (const json::value* u = s.data().find("user"); u != nullptr && u->is_string()) from = *u;

    s.on("join", [grants](socket& s, args& a, ack reply) {
      const std::string* room = room_arg(a.empty() ? nullptr : &a[0]);
      if (room == nullptr) return refuse(s, reply, "join", "", "room must be 1-200 bytes");
      if (!grants->may_subscribe(*room)) {
        return refuse(s, reply, "join", *room, "not allowed to join " + *room);
      }
      s.join(internal_room(*room));
      if (reply) reply({json::object{{"ok", true}, {"room", *room}}});
    });

    s.on("leave", [](socket& s, args& a, ack reply) {
      const std::string* room = room_arg(a.empty() ? nullptr : &a[0]);
      if (room == nullptr) return refuse(s, reply, "leave", "", "room must be 1-200 bytes");
      s.leave(internal_room(*room));
      if (reply) reply({json::object{{"ok", true}, {"room", *room}}});
    });

    s.on("publish", [nsp, grants, from](socket& s, args& a, ack reply) {
      const json::value* msg = a.empty() ? nullptr : &a[0];
      const std::string* room =
          msg != nullptr && msg->is_object() ? room_arg(msg->find("room")) : nullptr;
      if (room == nullptr) {
        return refuse(s, reply, "publish", "", "publish takes {room: 1-200 bytes, data}");
      }
      if (!grants->may_publish(*room)) {
        return refuse(s, reply, "publish", *room, "not allowed to publish in " + *room);
      }
      const json::value* data = msg->find("data");
      nsp.to(internal_room(*room))
          .emit("message", {json::object{{"room", *room},
                                         {"data", data != nullptr ? *data : json::value()},
                                         {"from", from}}});
      if (reply) reply({json::object{{"ok", true}}});
    });
  });
}

}  // namespace relay::server
