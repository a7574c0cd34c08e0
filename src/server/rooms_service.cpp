#include "server/rooms_service.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "auth/room_grants.hpp"
#include "core/wall_clock.hpp"

namespace relay::server {
namespace {

using core::wall_clock_ms;

using socketio::ack;
using socketio::args;
using socketio::socket;

constexpr size_t kMaxRoomName = 200;
constexpr size_t kMaxHistoryPage = 1000;

// The room argument: a string of 1-200 bytes, or nullptr.
const std::string* room_arg(const json::value* v) {
  if (v == nullptr || !v->is_string()) return nullptr;
  const std::string& s = v->as_string();
  return s.empty() || s.size() > kMaxRoomName ? nullptr : &s;
}

// A room given as "name" or as {room: "name", ...}.
const std::string* room_of(const json::value* v) {
  if (v != nullptr && v->is_object()) return room_arg(v->find("room"));
  return room_arg(v);
}

// A non-negative integer member, or `otherwise`.
uint64_t count_member(const json::value* object, std::string_view name, uint64_t otherwise) {
  const json::value* v = object != nullptr && object->is_object() ? object->find(name) : nullptr;
  if (v == nullptr || !v->is_number()) return otherwise;
  const double d = v->as_double();
  return d >= 0 ? static_cast<uint64_t>(d) : otherwise;
}

json::array messages_of(const store::history_page& page) {
  json::array out;
  out.reserve(page.entries.size());
  for (const store::history_entry_ptr& e : page.entries) out.push_back(message_view(*e));
  return out;
}

// A socket's rooms: counted against max_rooms_per_connection and, for a socket with a user on
// a namespace with presence, announced on the user's first socket in and last out.
struct socket_rooms {
  std::shared_ptr<room_hub> hub;
  std::string user;                // empty: not in presence
  json::value info;                // claims.relay.info, shown to the room's members
  std::vector<std::string> rooms;  // joined, each once

  bool has(const std::string& room) const {
    return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
  }
  void enter(const std::string& room) {
    if (has(room)) return;
    rooms.push_back(room);
    if (!user.empty() && hub->presence().join(room, user, info)) {
      hub->announce(room, "presence:join",
                    json::object{{"room", room}, {"user", user}, {"info", info}});
    }
  }
  void exit(const std::string& name) {
    const auto it = std::find(rooms.begin(), rooms.end(), name);
    if (it == rooms.end()) return;
    // Out of the list first, then announced: `name` may be the very element erased (exit_all
    // passes rooms.back()), so keep the string itself.
    const std::string room = std::move(*it);
    rooms.erase(it);
    if (!user.empty() && hub->presence().leave(room, user)) {
      hub->announce(room, "presence:leave", json::object{{"room", room}, {"user", user}});
    }
  }
  void exit_all() {
    while (!rooms.empty()) exit(rooms.back());
  }
};

json::value presence_info(const json::value* claims) {
  const json::value* relay = claims != nullptr ? claims->find("relay") : nullptr;
  const json::value* info = relay != nullptr && relay->is_object() ? relay->find("info") : nullptr;
  return info != nullptr ? *info : json::value();
}

// Answers through the ack, or with "relay:error" when the client asked for none.
void refuse(socket& s, ack& reply, std::string_view event, std::string_view room, std::string error,
            metrics::counter* refusals = nullptr) {
  if (refusals != nullptr) refusals->inc();
  if (reply) {
    reply({json::object{{"error", std::move(error)}}});
    return;
  }
  s.emit("relay:error", {json::object{{"event", std::string(event)},
                                      {"room", std::string(room)},
                                      {"error", std::move(error)}}});
}

}  // namespace

void install_rooms_service(socketio::namespace_ref nsp, rooms_policy policy,
                           std::shared_ptr<room_hub> hub) {
  hub->add_namespace(nsp);
  // Sockets without a token's claims share one grants object.
  auto tokenless = std::make_shared<const auth::room_grants>(
      policy.tokens_verified ? std::move(policy.anonymous) : auth::room_grants::all());
  metrics::counter* const refused = policy.refusals;
  metrics::counter* const published = policy.publishes;
  const bool track_presence = policy.presence;
  const uint32_t max_rooms = policy.max_rooms;
  metrics::counter* const too_many_rooms = policy.room_limit_hits;
  // The grants of a socket's token (claims set by the JWT middleware), or the tokenless ones.
  auto grants_of = [tokenless](socket& s) {
    const json::value* claims = s.data().find("claims");
    return claims != nullptr
               ? std::make_shared<const auth::room_grants>(auth::room_grants::from_claims(*claims))
               : tokenless;
  };
  // A recovered socket comes back to its rooms under the token it came back with: out of those
  // it no longer grants before anything it missed there is replayed (after the JWT middleware,
  // which this follows).
  nsp.use([grants_of, max_rooms](socket& s, socketio::next_fn next) {
    if (s.recovered()) {
      const auto grants = grants_of(s);
      size_t kept = 0;
      for (const std::string& r : s.rooms()) {
        const std::optional<std::string_view> room = room_hub::room_of_member_room(r);
        if (!room) continue;
        if (grants->may_subscribe(*room) && (max_rooms == 0 || kept < max_rooms)) {
          ++kept;
        } else {
          s.leave(r);
        }
      }
    }
    next(std::nullopt);
  });
  nsp.on_connection([hub, grants_of, refused, published, track_presence, max_rooms,
                     too_many_rooms](socket& s) {
    const json::value* claims = s.data().find("claims");  // set by the JWT middleware
    auto grants = grants_of(s);
    json::value from;
    if (const json::value* u = s.data().find("user"); u != nullptr && u->is_string()) {
      from = *u;
      s.join(room_hub::user_room(u->as_string()));  // POST /api/disconnect {user}
    }
    auto joined = std::make_shared<socket_rooms>(socket_rooms{hub, {}, {}, {}});
    if (track_presence && from.is_string()) {
      joined->user = from.as_string();
      joined->info = presence_info(claims);
      s.on_disconnect([joined](socket&, std::string_view) { joined->exit_all(); });
    }
    if (s.recovered()) {
      // Back in its rooms (connection state recovery; the middleware above kept only those its
      // token grants): counted and in presence again.
      for (const std::string& r : s.rooms()) {
        if (auto room = room_hub::room_of_member_room(r)) joined->enter(std::string(*room));
      }
    }

    // join(room) or join({room, since, epoch}): with `since`, the ack also carries what the
    // client missed, and `recovered` says whether that is all of it.
    s.on("join", [grants, hub, refused, joined, max_rooms, too_many_rooms](socket& s, args& a,
                                                                           ack reply) {
      const json::value* arg = a.empty() ? nullptr : &a[0];
      const std::string* room = room_of(arg);
      if (room == nullptr) return refuse(s, reply, "join", "", "room must be 1-200 bytes");
      if (!grants->may_subscribe(*room)) {
        return refuse(s, reply, "join", *room, "not allowed to join " + *room, refused);
      }
      if (max_rooms != 0 && !joined->has(*room) && joined->rooms.size() >= max_rooms) {
        return refuse(s, reply, "join", *room,
                      "too many rooms: at most " + std::to_string(max_rooms) + " per connection",
                      too_many_rooms);
      }
      // Member first, history second: a message published in between arrives both ways and
      // the client drops the offset it already has; the other order could lose it.
      s.join(room_hub::member_room(*room));
      joined->enter(*room);
      if (!reply) return;
      const int64_t now = wall_clock_ms();
      const store::stream_position top = hub->history().stream_top(*room, now);
      json::object answer{{"ok", true},
                          {"room", *room},
                          {"offset", static_cast<int64_t>(top.offset)},
                          {"epoch", top.epoch}};
      if (arg->is_object() && arg->find("since") != nullptr) {
        const store::history_page page =
            hub->history().since(*room, count_member(arg, "since", 0), kMaxHistoryPage, now);
        const json::value* epoch = arg->find("epoch");
        const bool same_epoch =
            epoch == nullptr || (epoch->is_string() && epoch->as_string() == page.epoch);
        answer.emplace_back("recovered",
                            same_epoch && !page.truncated && page.entries.size() < kMaxHistoryPage);
        answer.emplace_back("messages", messages_of(page));
      }
      reply({json::value(std::move(answer))});
    });

    s.on("leave", [joined](socket& s, args& a, ack reply) {
      const std::string* room = room_of(a.empty() ? nullptr : &a[0]);
      if (room == nullptr) return refuse(s, reply, "leave", "", "room must be 1-200 bytes");
      s.leave(room_hub::member_room(*room));
      joined->exit(*room);
      if (reply) reply({json::object{{"ok", true}, {"room", *room}}});
    });

    // history({room, since, limit}) -> {room, epoch, offset, truncated, messages}
    s.on("history", [grants, hub, refused](socket& s, args& a, ack reply) {
      const json::value* arg = a.empty() ? nullptr : &a[0];
      const std::string* room = room_of(arg);
      if (room == nullptr) return refuse(s, reply, "history", "", "room must be 1-200 bytes");
      if (!grants->may_subscribe(*room)) {
        return refuse(s, reply, "history", *room, "not allowed to read " + *room, refused);
      }
      if (!reply) return;
      const size_t limit = std::min<uint64_t>(count_member(arg, "limit", 100), kMaxHistoryPage);
      const store::history_page page =
          hub->history().since(*room, count_member(arg, "since", 0),
                               limit == 0 ? kMaxHistoryPage : limit, wall_clock_ms());
      reply({json::object{{"room", *room},
                          {"epoch", page.epoch},
                          {"offset", static_cast<int64_t>(page.last_offset)},
                          {"truncated", page.truncated},
                          {"messages", messages_of(page)}}});
    });

    // presence(room) -> {room, members: [{user, connections, info}]}
    s.on("presence", [grants, hub, refused](socket& s, args& a, ack reply) {
      const std::string* room = room_of(a.empty() ? nullptr : &a[0]);
      if (room == nullptr) return refuse(s, reply, "presence", "", "room must be 1-200 bytes");
      if (!grants->may_subscribe(*room)) {
        return refuse(s, reply, "presence", *room, "not allowed to read " + *room, refused);
      }
      if (reply) reply({json::object{{"room", *room}, {"members", members_of(*hub, *room)}}});
    });

    s.on("publish", [grants, hub, from, refused, published](socket& s, args& a, ack reply) {
      json::value* msg = a.empty() ? nullptr : &a[0];
      const std::string* room =
          msg != nullptr && msg->is_object() ? room_arg(msg->find("room")) : nullptr;
      if (room == nullptr) {
        return refuse(s, reply, "publish", "", "publish takes {room: 1-200 bytes, data}");
      }
      if (!grants->may_publish(*room)) {
        return refuse(s, reply, "publish", *room, "not allowed to publish in " + *room, refused);
      }
      json::value* data = msg->find("data");
      if (published != nullptr) published->inc();
      hub->publish(
          *room, "message", data != nullptr ? std::move(*data) : json::value(), from,
          [reply](const store::stream_position& p) {
            if (reply) {
              reply({json::object{{"ok", true}, {"offset", static_cast<int64_t>(p.offset)}}});
            }
          });
    });
  });
}

}  // namespace relay::server
