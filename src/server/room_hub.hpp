#pragma once
// The rooms of `relay serve`: one set of rooms shared by every rooms namespace and the HTTP
// API, each with its history (src/store) and offsets.
//
// Ordering: all publishes to a room run on one loop, the room's owner (a hash of its name),
// which appends to the history and broadcasts in the same step. Every subscriber therefore sees
// a room's messages in offset order, whichever loops the publishers are on. A publish from
// another loop costs one post there and one back for the answer.
//
// Threading: add_namespace() and attach() before the loops run; the rest on loop threads.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event_loop.hpp"
#include "metrics/histogram.hpp"
#include "relay/socketio.hpp"
#include "server/presence.hpp"
#include "server/server_config.hpp"
#include "store/history.hpp"

namespace relay::server {

// A history entry as clients see it: {offset, time, event, data, from}.
json::value message_view(const store::history_entry& entry);

// The payload room members get for a history entry: {room, data, from, offset}.
json::value member_payload(std::string_view room, const store::history_entry& entry);

class room_hub;
// A room's presence as clients see it: [{user, connections, info}], by user.
json::array members_of(room_hub& hub, std::string_view room);

class room_hub {
 public:
  explicit room_hub(std::unique_ptr<store::history_store> history);

  void add_namespace(socketio::namespace_ref nsp);
  // Before the loops run: where publish latencies go (it must outlive the hub).
  void set_latency_histogram(metrics::histogram* h) noexcept { latency_ = h; }
  // Before the loops run: told every message once it is in the history, on the room's owner
  // loop, with the payload members get (SSE streams take it from here).
  using publish_listener =
      std::function<void(const std::string& room, uint64_t offset, const std::string& event,
                         const json::value& payload)>;
  void set_publish_listener(publish_listener l) { listener_ = std::move(l); }
  void attach(loop_setup& setup);  // from on_loop_setup, for every loop

  using publish_done = std::function<void(const store::stream_position&)>;
  // Appends to the room's history and delivers `event` {room, data, from, offset} to the room's
  // members in every rooms namespace. `done` runs on the calling loop once the message is in
  // the history and on its way.
  void publish(std::string room, std::string event, json::value data, json::value from,
               publish_done done);

  // `event` with `data` to every socket of every rooms namespace (no history, no offset).
  void broadcast(std::string_view event, const json::value& data);
  // Disconnects the user's sockets from every rooms namespace ("io server disconnect").
  void disconnect_user(std::string_view user);

  // `event` {payload} to the room's members in every rooms namespace (presence:join, ...).
  void announce(std::string_view room, std::string_view event, const json::value& payload);

  // Whether the room's publishes run on the calling loop (publish() then finishes before it
  // returns).
  bool owned_here(std::string_view room) const;

  // Connection state recovery across a restart (history on disk, socketio.recovery on). Each
  // loop then remembers the last offset it delivered in each room, so that a session can be
  // resumed from the history exactly. Before the loops run.
  void track_deliveries() { tracking_ = true; }
  // recovery_options::on_persist: notes in s.data() the last offset of each of its rooms it
  // was sent (on its loop).
  void note_resume_points(socketio::socket& s);
  // recovery_options::replay_saved: the room messages a session of an earlier process missed,
  // up to what this loop has delivered (the rest reaches it live); nullopt when its rooms'
  // histories no longer hold them.
  std::optional<std::vector<socketio::missed_event>> replay_saved(const socketio::saved_session& s);

  store::history_store& history() noexcept { return *history_; }
  presence_registry& presence() noexcept { return presence_; }

  // The Socket.IO room that holds a room's members ("r:" + name: client rooms can never be a
  // socket's own id room).
  static std::string member_room(std::string_view room);
  // Its inverse: the room a Socket.IO room holds the members of, or nullopt for other rooms.
  static std::optional<std::string_view> room_of_member_room(std::string_view socketio_room);
  // The Socket.IO room every socket of a user joins ("u:" + user id).
  static std::string user_room(std::string_view user);

 private:
  void publish_here(const std::string& room, const std::string& event, const json::value& data,
                    const json::value& from, int64_t started_ns, store::stream_position& position);

  // This loop's index in loops_ (loops_.size() when not on one).
  size_t loop_index() const;
  void note_delivered(size_t loop, const std::string& room, uint64_t offset);

  std::unique_ptr<store::history_store> history_;
  presence_registry presence_;
  bool tracking_ = false;
  // With tracking_: per loop (touched by that loop only), room -> last offset it delivered.
  std::vector<std::unique_ptr<std::unordered_map<std::string, uint64_t>>> delivered_;
  const int64_t started_ms_;  // history entries older than this are an earlier process's
  std::vector<socketio::namespace_ref> namespaces_;
  std::vector<core::event_loop*> loops_;
  metrics::histogram* latency_ = nullptr;
  publish_listener listener_;
};

}  // namespace relay::server
