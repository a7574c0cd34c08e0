#include "server/room_hub.hpp"

#include <algorithm>
#include <atomic>
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

room_hub::room_hub(std::unique_ptr<store::history_store> history)
    : history_(std::move(history)), started_ms_(wall_clock_ms()) {}

namespace {
constexpr std::string_view kMemberPrefix = "r:";
}  // namespace

std::string room_hub::member_room(std::string_view room) {
  std::string r(kMemberPrefix);
  r += room;
  return r;
}

std::optional<std::string_view> room_hub::room_of_member_room(std::string_view socketio_room) {
  if (!socketio_room.starts_with(kMemberPrefix)) return std::nullopt;
  return socketio_room.substr(kMemberPrefix.size());
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
  if (loops_.size() < setup.all_loops.size()) {
    loops_.assign(setup.all_loops.begin(), setup.all_loops.end());
    delivered_.clear();
    for (size_t i = 0; tracking_ && i < loops_.size(); ++i) {
      delivered_.push_back(std::make_unique<std::unordered_map<std::string, uint64_t>>());
    }
  }
}

size_t room_hub::loop_index() const {
  const core::event_loop* here = core::event_loop::current();
  return static_cast<size_t>(std::find(loops_.begin(), loops_.end(), here) - loops_.begin());
}

void room_hub::note_delivered(size_t loop, const std::string& room, uint64_t offset) {
  uint64_t& last = (*delivered_[loop])[room];
  last = std::max(last, offset);
}

namespace {
constexpr std::string_view kResumeKey = "relay.resume";
}  // namespace

void room_hub::note_resume_points(socketio::socket& s) {
  const size_t loop = loop_index();
  if (!tracking_ || loop >= delivered_.size()) return;
  json::object points;
  for (const std::string& r : s.rooms()) {
    const std::optional<std::string_view> name = room_of_member_room(r);
    if (!name) continue;
    const std::string room(*name);
    const int64_t now = wall_clock_ms();
    const store::stream_position top = history_->stream_top(room, now);
    // Nothing delivered here since the start: it was sent nothing of this process's; an
    // earlier one's it had (or was replayed) up to the top as this process found it.
    auto it = delivered_[loop]->find(room);
    const uint64_t offset = it != delivered_[loop]->end() ? it->second : top.offset;
    points.emplace_back(room, json::array{static_cast<int64_t>(offset), top.epoch});
  }
  json::value& data = s.data();
  if (!data.is_object()) data = json::object{};
  data[std::string(kResumeKey)] = std::move(points);
}

std::optional<std::vector<socketio::missed_event>> room_hub::replay_saved(
    const socketio::saved_session& s) {
  const size_t loop = loop_index();
  const json::value* points = s.data.is_object() ? s.data.find(kResumeKey) : nullptr;
  if (!tracking_ || loop >= delivered_.size() || points == nullptr || !points->is_object()) {
    return std::nullopt;
  }
  const int64_t now = wall_clock_ms();
  std::vector<std::pair<store::history_entry_ptr, std::string>> missed;
  for (const std::string& r : s.rooms) {
    const std::optional<std::string_view> name = room_of_member_room(r);
    if (!name) continue;
    const std::string room(*name);
    const json::value* point = points->find(room);
    if (point == nullptr || !point->is_array() || point->as_array().size() != 2 ||
        !point->as_array()[0].is_int() || !point->as_array()[1].is_string()) {
      return std::nullopt;
    }
    const auto after = static_cast<uint64_t>(point->as_array()[0].as_int());
    const store::history_page page = history_->since(room, after, 0, now);
    if (page.truncated || page.epoch != point->as_array()[1].as_string()) return std::nullopt;
    // Up to what this loop delivered; an entry of this process it has not delivered yet will
    // reach the socket live once it is back in the room.
    auto it = delivered_[loop]->find(room);
    for (const store::history_entry_ptr& e : page.entries) {
      const bool delivered_here = it != delivered_[loop]->end() && e->offset <= it->second;
      if (!delivered_here && e->time_ms >= started_ms_) break;
      missed.emplace_back(e, room);
    }
  }
  // Rooms interleaved as they were published.
  std::stable_sort(missed.begin(), missed.end(), [](const auto& a, const auto& b) {
    return a.first->time_ms < b.first->time_ms;
  });
  std::vector<socketio::missed_event> events;
  events.reserve(missed.size());
  for (const auto& [entry, room] : missed) {
    events.push_back({member_room(room), json::array{entry->event, member_payload(room, *entry)}});
  }
  return events;
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
  const bool track = tracking_ && delivered_.size() == loops_.size();
  if (loops_.empty() || (!track && latency_ == nullptr)) {
    if (latency_ != nullptr)
      latency_->observe(static_cast<double>(steady_ns() - started_ns) * 1e-9);
    return;
  }
  // After each loop's delivery (posted from here after it, so it runs after it): that loop
  // notes the room's last delivered offset, and the last loop to get there observes the
  // latency: a publish is delivered once every loop has handed it to its members.
  auto left = latency_ != nullptr ? std::make_shared<std::atomic<size_t>>(loops_.size()) : nullptr;
  auto after_delivery = [this, track, left, room, started_ns,
                         offset = position.offset](size_t loop) {
    if (track) note_delivered(loop, room, offset);
    if (left && left->fetch_sub(1, std::memory_order_acq_rel) == 1) {
      latency_->observe(static_cast<double>(steady_ns() - started_ns) * 1e-9);
    }
  };
  const size_t here = loop_index();
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (i == here) {
      after_delivery(i);
    } else {
      loops_[i]->post([after_delivery, i] { after_delivery(i); });
    }
  }
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
