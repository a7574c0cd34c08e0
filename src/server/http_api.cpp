#include "server/http_api.hpp"

#include <charconv>
#include <memory>
#include <string_view>
#include <utility>

#include "core/wall_clock.hpp"
#include "http/http_session.hpp"
#include "http/query.hpp"

namespace relay::server {
namespace {

using http::status;

constexpr size_t kMaxRoomName = 200;
constexpr size_t kMaxRoomsPerPublish = 100;
constexpr size_t kMaxEventName = 100;
constexpr size_t kMaxIdempotencyKey = 200;
constexpr size_t kMaxHistoryPage = 1000;
constexpr std::string_view kJson = "application/json";

uint64_t wall_clock_ms() { return static_cast<uint64_t>(core::wall_clock_ms()); }

void answer(http::http_session& session, status s, const json::value& body,
            std::string_view extra_headers = {}) {
  session.respond(s, kJson, json::to_string(body), extra_headers);
}

void fail(http::http_session& session, status s, std::string_view code, std::string message,
          std::string_view extra_headers = {}) {
  answer(session, s, json::object{{"error", std::move(message)}, {"code", std::string(code)}},
         extra_headers);
}

bool same_key(std::string_view a, std::string_view b) {
  // Constant time in the length of the candidate: the comparison leaks no prefix.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool authorized(const http::request& req, const std::vector<std::string>& keys) {
  std::string_view given = req.header("x-api-key");
  if (given.empty()) {
    const std::string_view auth = req.header("authorization");
    if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer ")) {
      given = auth.substr(7);
    }
  }
  if (given.empty()) return false;
  bool match = false;
  for (const std::string& k : keys) match |= same_key(given, k);
  return match;
}

bool parse_count(std::optional<std::string_view> text, uint64_t& out) {
  if (!text) return true;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), out);
  return ec == std::errc() && end == text->data() + text->size();
}

bool valid_room(const json::value* v) {
  return v != nullptr && v->is_string() && !v->as_string().empty() &&
         v->as_string().size() <= kMaxRoomName;
}

// Socket.IO reserves these event names on the client; relay's own events are not for backends.
bool reserved_event(std::string_view e) {
  return e == "connect" || e == "connect_error" || e == "disconnect" || e == "disconnecting" ||
         e == "newListener" || e == "removeListener" || e.starts_with("relay:") ||
         e.starts_with("token:") || e.starts_with("presence:");
}

// The JSON object body of a POST, or an error answered.
std::optional<json::value> json_body(http::http_session& session, const http::request& req) {
  auto body = json::parse(req.body);
  if (!body || !body->is_object()) {
    fail(session, status::bad_request, "bad_json", "the body must be a JSON object");
    return std::nullopt;
  }
  return std::move(*body);
}

// The event name of a publish or broadcast ("message" when absent), or an error answered.
std::optional<std::string> event_of(http::http_session& session, const json::value& body) {
  const json::value* e = body.find("event");
  if (e == nullptr) return std::string("message");
  if (!e->is_string() || e->as_string().empty() || e->as_string().size() > kMaxEventName ||
      reserved_event(e->as_string())) {
    fail(session, status::bad_request, "bad_event",
         "event must be a name of 1-100 bytes, not a reserved one");
    return std::nullopt;
  }
  return e->as_string();
}

// A publish waiting for its rooms' owner loops to append and broadcast, so that the answer can
// name each message's offset. The HTTP request is held meanwhile; if the client goes away the
// answer is dropped (the messages are published all the same).
struct pending_publish final : http::held_request_owner {
  http::http_session* session = nullptr;  // null once the client went away
  json::array results;                    // one {room, offset, epoch} per room, in order
  size_t remaining = 0;
  std::string idempotency_key;
  uint64_t now_ms = 0;
  std::shared_ptr<idempotency_cache> idempotency;

  void on_held_request_aborted(http::http_session&) override { session = nullptr; }

  void done(size_t index, const store::stream_position& p) {
    json::object& r = results[index].as_object();
    r.emplace_back("offset", static_cast<int64_t>(p.offset));
    r.emplace_back("epoch", p.epoch);
    if (--remaining != 0) return;
    const std::string answer =
        json::to_string(json::value(json::object{{"ok", true}, {"results", std::move(results)}}));
    if (!idempotency_key.empty()) idempotency->complete(idempotency_key, answer);
    if (session != nullptr) session->respond(status::ok, kJson, answer);
  }
};

void publish(http::http_session& session, const http::request& req, const http_api_config& api) {
  auto body = json_body(session, req);
  if (!body) return;
  std::string key(req.header("idempotency-key"));
  if (const json::value* k = body->find("idempotency_key"); k != nullptr && k->is_string()) {
    key = k->as_string();
  }
  if (key.size() > kMaxIdempotencyKey) {
    return fail(session, status::bad_request, "bad_idempotency_key",
                "idempotency_key is at most 200 bytes");
  }
  const uint64_t now = wall_clock_ms();
  // The key is claimed after the request is checked (a refused request publishes nothing and
  // leaves the key free), right before publishing.
  auto claim_key = [&]() {
    if (key.empty()) return true;
    idempotency_cache::claim_result c = api.idempotency->claim(key, now);
    if (c.state == idempotency_cache::claim_state::answered) {
      session.respond(status::ok, kJson, c.answer, "Idempotent-Replayed: true\r\n");
      return false;
    }
    if (c.state == idempotency_cache::claim_state::in_progress) {
      fail(session, status::conflict, "idempotency_key_in_progress",
           "a request with this idempotency key is still being published; retry",
           "Retry-After: 1\r\n");
      return false;
    }
    return true;
  };
  std::vector<std::string> rooms;
  if (const json::value* room = body->find("room"); room != nullptr) {
    if (!valid_room(room)) {
      return fail(session, status::bad_request, "bad_room", "room must be 1-200 bytes");
    }
    rooms.push_back(room->as_string());
  }
  if (const json::value* list = body->find("rooms"); list != nullptr) {
    if (!list->is_array() || list->as_array().size() > kMaxRoomsPerPublish) {
      return fail(session, status::bad_request, "bad_room", "rooms must be a list of at most 100");
    }
    for (const json::value& r : list->as_array()) {
      if (!valid_room(&r)) {
        return fail(session, status::bad_request, "bad_room", "room must be 1-200 bytes");
      }
      rooms.push_back(r.as_string());
    }
  }
  if (rooms.empty()) {
    return fail(session, status::bad_request, "bad_room", "give room or rooms");
  }
  auto event = event_of(session, *body);
  if (!event) return;
  const json::value* data = body->find("data");
  const json::value* from = body->find("from");
  const json::value sender = from != nullptr && from->is_string() ? *from : json::value();
  if (!claim_key()) return;
  auto pending = std::make_shared<pending_publish>();
  pending->session = &session;
  pending->remaining = rooms.size();
  pending->idempotency_key = std::move(key);
  pending->now_ms = now;
  pending->idempotency = api.idempotency;
  bool all_here = true;
  for (const std::string& room : rooms) {
    pending->results.push_back(json::object{{"room", room}});
    all_here = all_here && api.hub->owned_here(room);
  }
  // Rooms owned by other loops answer later: the request waits, held (not when every room is
  // this loop's: then the answer is made before this handler returns).
  if (!all_here) session.hold(*pending);
  for (size_t i = 0; i < rooms.size(); ++i) {
    if (api.metrics != nullptr) api.metrics->publishes_http.inc();
    api.hub->publish(std::move(rooms[i]), *event, data != nullptr ? *data : json::value(), sender,
                     [pending, i](const store::stream_position& p) { pending->done(i, p); });
  }
}

void broadcast(http::http_session& session, const http::request& req, const http_api_config& api) {
  auto body = json_body(session, req);
  if (!body) return;
  auto event = event_of(session, *body);
  if (!event) return;
  const json::value* data = body->find("data");
  api.hub->broadcast(*event, data != nullptr ? *data : json::value());
  answer(session, status::ok, json::object{{"ok", true}});
}

void disconnect(http::http_session& session, const http::request& req, const http_api_config& api) {
  auto body = json_body(session, req);
  if (!body) return;
  const json::value* user = body->find("user");
  if (user == nullptr || !user->is_string() || user->as_string().empty()) {
    return fail(session, status::bad_request, "bad_user", "give the user id as user");
  }
  api.hub->disconnect_user(user->as_string());
  answer(session, status::ok, json::object{{"ok", true}});
}

// The room named by the rest of the path, or an error answered.
std::optional<std::string> room_in_path(http::http_session& session, std::string_view encoded) {
  std::string room;
  if (!http::percent_decode(encoded, room) || room.empty() || room.size() > kMaxRoomName) {
    fail(session, status::bad_request, "bad_room", "room must be 1-200 bytes");
    return std::nullopt;
  }
  return room;
}

void history(http::http_session& session, const http::request& req, std::string_view encoded,
             const http_api_config& api) {
  const std::optional<std::string> path_room = room_in_path(session, encoded);
  if (!path_room) return;
  const std::string& room = *path_room;
  uint64_t since = 0, limit = 100;
  if (!parse_count(http::query_param(req.query, "since"), since) ||
      !parse_count(http::query_param(req.query, "limit"), limit)) {
    return fail(session, status::bad_request, "bad_query", "since and limit are integers");
  }
  if (limit == 0 || limit > kMaxHistoryPage) limit = kMaxHistoryPage;
  const store::history_page page =
      api.hub->history().since(room, since, limit, static_cast<int64_t>(wall_clock_ms()));
  json::array messages;
  for (const store::history_entry_ptr& e : page.entries) messages.push_back(message_view(*e));
  answer(session, status::ok,
         json::object{{"room", room},
                      {"epoch", page.epoch},
                      {"offset", static_cast<int64_t>(page.last_offset)},
                      {"truncated", page.truncated},
                      {"messages", std::move(messages)}});
}

void presence(http::http_session& session, std::string_view encoded, const http_api_config& api) {
  const std::optional<std::string> room = room_in_path(session, encoded);
  if (!room) return;
  json::array members = members_of(*api.hub, *room);
  answer(session, status::ok, json::object{{"room", *room}, {"members", std::move(members)}});
}

void stats(http::http_session& session, const http_api_config& api) {
  const store::history_stats h = api.hub->history().stats();
  answer(session, status::ok,
         json::object{
             {"history", json::object{{"rooms", static_cast<int64_t>(h.rooms)},
                                      {"entries", static_cast<int64_t>(h.entries)},
                                      {"bytes", static_cast<int64_t>(h.bytes)},
                                      {"write_errors", static_cast<int64_t>(h.write_errors)}}},
             {"idempotency_keys", static_cast<int64_t>(api.idempotency->size())}});
}

void route(http::http_session& session, http::request& req, const http_api_config& api) {
  if (!authorized(req, api.keys)) {
    if (api.metrics != nullptr) api.metrics->api_key_refusals.inc();
    return fail(session, status::unauthorized, "unauthorized",
                "an API key is required (Authorization: Bearer KEY)",
                "WWW-Authenticate: Bearer\r\n");
  }
  const std::string_view path = req.path;
  if (api.metrics != nullptr) {
    // Known endpoints only: a label per arbitrary path would grow without bound.
    std::string_view endpoint = "other";
    for (std::string_view e : {"/api/publish", "/api/broadcast", "/api/disconnect", "/api/stats",
                               "/api/history/", "/api/presence/"}) {
      if (path == e || (e.back() == '/' && path.starts_with(e))) endpoint = e;
    }
    api.metrics->api_requests.with({endpoint}).inc();
  }
  const auto only = [&](std::string_view method) {
    if (req.method == method) return true;
    fail(session, status::method_not_allowed, "method_not_allowed",
         std::string(path) + " takes " + std::string(method),
         method == "GET" ? "Allow: GET\r\n" : "Allow: POST\r\n");
    return false;
  };
  if (path == "/api/publish") {
    if (only("POST")) publish(session, req, api);
  } else if (path == "/api/broadcast") {
    if (only("POST")) broadcast(session, req, api);
  } else if (path == "/api/disconnect") {
    if (only("POST")) disconnect(session, req, api);
  } else if (path == "/api/stats") {
    if (only("GET")) stats(session, api);
  } else if (path.starts_with("/api/history/")) {
    if (only("GET")) history(session, req, path.substr(13), api);
  } else if (path.starts_with("/api/presence/")) {
    if (only("GET")) presence(session, path.substr(14), api);
  } else {
    fail(session, status::not_found, "not_found", "no such API endpoint");
  }
}

}  // namespace

void add_http_api_routes(http::router& router, std::shared_ptr<const http_api_config> config) {
  router.add_prefix("/api/", [config](http::http_session& session, http::request& req,
                                      std::span<uint8_t>) { route(session, req, *config); });
}

}  // namespace relay::server
