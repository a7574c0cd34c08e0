#include "server/room_hub.hpp"

#include <chrono>
#include <utility>

#include "core/wall_clock.hpp"

namespace relay::server {

using core::wall_clock_ms;

namespace {
int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

namespace {

// An entry keeps {"data", "from"} as JSON text: one parse per replay, none per live message.
struct entry_body {
  json::value data;
  json::value from;
};

entry_body body_of(const store::history_entry& entry) {
  auto body = json::parse(entry.data);
  if (!body || !body->is_object()) return {};
  entry_body out;
  if (json::value* d = body->find("data")) out.data = std::move(*d);
  if (json::value* f = body->find("from")) out.from = std::move(*f);
  return out;
}

}  // namespace

json::value message_view(const store::history_entry& entry) {
  entry_body body = body_of(entry);
  return json::object{{"offset", static_cast<int64_t>(entry.offset)},
                      {"time", entry.time_ms},
                      {"event", entry.event},
                      {"data", std::move(body.data)},
                      {"from", std::move(body.from)}};
}

json::array members_of(room_hub& hub, std::string_view room) {
  json::array out;
  for (presence_member& m : hub.presence().members(room)) {
    out.push_back(json::object{{"user", std::move(m.user)},
                               {"connections", static_cast<int64_t>(m.connections)},
                               {"info", std::move(m.info)}});
  }
  return out;
}

json::value member_payload(std::string_view room, const store::history_entry& entry) {
  entry_body body = body_of(entry);
  return json::object{{"room", std::string(room)},
                      {"data", std::move(body.data)},
                      {"from", std::move(body.from)},
                      {"offset", static_cast<int64_t>(entry.offset)}};
}

room_hub::room_hub(std::unique_ptr<store::history_store> history) : history_(std::move(history)) {}

std::string room_hub::member_room(std::string_view room) {
  std::string r = "r:";
  r += room;
  return r;
}

std::string room_hub::user_room(std::string_view user) {
  std::string r = "u:";
  r += user;
  return r;
}

void room_hub::broadcast(std::string_view event, const json::value& data) {
  for (const socketio::namespace_ref& nsp : namespaces_) nsp.emit(event, {data});
}

void room_hub::announce(std::string_view room, std::string_view event, const json::value& payload) {
  const std::string members = member_room(room);
  for (const socketio::namespace_ref& nsp : namespaces_) nsp.to(members).emit(event, {payload});
}

void room_hub::disconnect_user(std::string_view user) {
  for (const socketio::namespace_ref& nsp : namespaces_) {
    nsp.to(user_room(user)).disconnect_sockets();
  }
}

void room_hub::add_namespace(socketio::namespace_ref nsp) { namespaces_.push_back(nsp); }

void room_hub::attach(loop_setup& setup) {
  if (loops_.size() < setup.all_loops.size())
    loops_.assign(setup.all_loops.begin(), setup.all_loops.end());
}

void room_hub::publish_here(const std::string& room, const std::string& event,
                            const json::value& data, const json::value& from, int64_t started_ns,
                            store::stream_position& position) {
  position = history_->append(
      room, event, json::to_string(json::value(json::object{{"data", data}, {"from", from}})),
      wall_clock_ms());
  const json::value payload(json::object{{"room", room},
                                         {"data", data},
                                         {"from", from},
                                         {"offset", static_cast<int64_t>(position.offset)}});
  const std::string members = member_room(room);
  for (const socketio::namespace_ref& nsp : namespaces_) nsp.to(members).emit(event, {payload});
  if (listener_) listener_(room, position.offset, event, payload);
  if (latency_ != nullptr) latency_->observe(static_cast<double>(steady_ns() - started_ns) * 1e-9);
}

bool room_hub::owned_here(std::string_view room) const {
  if (loops_.empty()) return true;
  return loops_[std::hash<std::string_view>{}(room) % loops_.size()] == core::event_loop::current();
}

void room_hub::publish(std::string room, std::string event, json::value data, json::value from,
                       publish_done done) {
  const int64_t started = latency_ != nullptr ? steady_ns() : 0;
  core::event_loop* caller = core::event_loop::current();
  const unsigned owner =
      loops_.empty() ? 0
                     : static_cast<unsigned>(std::hash<std::string_view>{}(room) % loops_.size());
  if (loops_.empty() || loops_[owner] == caller) {
    store::stream_position position;
    publish_here(room, event, data, from, started, position);
    if (done) done(position);
    return;
  }
  loops_[owner]->post([this, caller, started, room = std::move(room), event = std::move(event),
                       data = std::move(data), from = std::move(from),
                       done = std::move(done)]() mutable {
    auto position = std::make_shared<store::stream_position>();
    publish_here(room, event, data, from, started, *position);
    if (done && caller != nullptr) {
      caller->post([position, done = std::move(done)] { done(*position); });
    } else if (done) {
      done(*position);
    }
  });
}

}  // namespace relay::server
