#pragma once
// Rooms as a service on a namespace (relay serve --rooms-namespace /live): clients join, leave,
// publish and read history by event, within what their token grants (src/auth/room_grants),
// with no application code (docs/auth.md has the full protocol):
//   join(room | {room, since, epoch}) -> ack {ok, room, offset, epoch[, recovered, messages]}
//   leave(room)                       -> ack {ok, room}
//   publish({room, data})             -> ack {ok, offset}
//   history({room, since, limit})     -> ack {room, epoch, offset, truncated, messages}
//   presence(room)                    -> ack {room, members: [{user, connections, info}]}
// With presence on, a user's first socket into a room makes its members get "presence:join"
// {room, user, info}, and the user's last socket out "presence:leave" {room, user}: a user with
// many tabs counts once. Sockets without a user (anonymous) are not tracked.
// Members of the room get "message" {room, data, from, offset} (from: the publisher's user, or
// null). Rooms and their history are the room_hub's, shared by every rooms namespace.
// A refusal without an ack to carry it comes back as the event "relay:error" {event, room,
// error}: never a silent drop.
//
// Room names are 1-200 bytes; inside the namespace they are kept as "r:" + name, so a client
// can never join a socket's own id room (ids have no ':') and read its private messages.
#include <memory>

#include "auth/room_grants.hpp"
#include "metrics/counter.hpp"
#include "relay/socketio.hpp"
#include "server/room_hub.hpp"

namespace relay::server {

struct rooms_policy {
  // The namespace has the JWT middleware: grants come from each socket's claims. Otherwise
  // every room is open to everyone.
  bool tokens_verified = false;
  // With tokens verified: what a socket admitted without a token may do.
  auth::room_grants anonymous;
  bool presence = true;    // track members, announce presence:join / leave
  uint32_t max_rooms = 0;  // rooms one socket may be in at once; 0: no limit
  metrics::counter* room_limit_hits = nullptr;
  metrics::counter* refusals = nullptr;  // joins, reads and publishes refused
  metrics::counter* publishes = nullptr;
};

void install_rooms_service(socketio::namespace_ref nsp, rooms_policy policy,
                           std::shared_ptr<room_hub> hub);

}  // namespace relay::server
