#include "server/sse_service.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "core/shared_buffer.hpp"
#include "core/wall_clock.hpp"
#include "http/cookie.hpp"
#include "http/http_session.hpp"
#include "http/query.hpp"
#include "net/connection.hpp"
#include "proto/sse/event_stream.hpp"

namespace relay::server {

class sse_stream;

struct sse_service::part {
  core::event_loop* loop = nullptr;
  net::connection_list streams;
  std::unordered_map<std::string, std::vector<sse_stream*>> by_room;
  std::atomic<size_t> count{0};  // read by deliver() on other loops, to skip idle loops
};

namespace {

// A counted reference to a shared buffer that a posted task holds: released when the task is
// done, or deleted unrun at shutdown.
class buffer_ref {
 public:
  explicit buffer_ref(core::shared_buffer* b) : b_(b) { b_->add_ref(); }
  buffer_ref(const buffer_ref& o) : b_(o.b_) { b_->add_ref(); }
  buffer_ref& operator=(const buffer_ref&) = delete;
  ~buffer_ref() { b_->release(); }
  core::shared_buffer* get() const { return b_; }

 private:
  core::shared_buffer* b_;
};

constexpr size_t kMaxRoomName = 200;
constexpr size_t kMaxReplay = 1000;

}  // namespace

// One EventSource: a connection taken over from HTTP that only ever writes.
class sse_stream final : public net::connection {
 public:
  sse_stream(sse_service::part& part, std::atomic<size_t>& total, std::vector<std::string> rooms,
             std::vector<uint64_t> positions, int64_t expires_ms, const sse_config& config)
      : net::connection(*part.loop, -1, nullptr, net::socket_options{}),
        part_(part),
        total_(total),
        rooms_(std::move(rooms)),
        positions_(std::move(positions)),
        expires_ms_(expires_ms),
        config_(config) {
    part_.streams.insert(this);
    for (const std::string& room : rooms_) part_.by_room[room].push_back(this);
    part_.count.fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
    loop().timers().schedule(timer(), loop().now_ms() + config_.heartbeat_ms);
  }

  // A message of rooms_[index]; nothing if the stream already has it (sent from the history).
  void send(size_t index, uint64_t offset, core::shared_buffer* tail) {
    if (closing() || closed() || offset <= positions_[index]) return;
    positions_[index] = offset;
    std::string id = "id: ";
    id += sse::format_positions(positions_);
    id += '\n';
    write(id);
    write_shared(tail, 0, tail->size());
    if (buffered_bytes() > config_.max_buffered_bytes) close_now(net::close_reason::slow_consumer);
  }
  // A message from the history, at connect.
  void replay(size_t index, uint64_t offset, std::string_view event, std::string_view data) {
    positions_[index] = std::max(positions_[index], offset);
    std::string out;
    sse::append_event(out, sse::format_positions(positions_), event, data);
    write(out);
  }
  size_t index_of(const std::string& room) const {
    return static_cast<size_t>(std::find(rooms_.begin(), rooms_.end(), room) - rooms_.begin());
  }
  const std::vector<std::string>& rooms() const { return rooms_; }

 protected:
  void on_data(std::span<uint8_t>) override {}  // an EventSource sends nothing after its GET

  void on_closed(net::close_reason) override {
    loop().timers().cancel(timer());
    for (const std::string& room : rooms_) {
      auto it = part_.by_room.find(room);
      if (it == part_.by_room.end()) continue;
      std::erase(it->second, this);
      if (it->second.empty()) part_.by_room.erase(it);
    }
    part_.streams.erase(this);
    part_.count.fetch_sub(1, std::memory_order_relaxed);
    total_.fetch_sub(1, std::memory_order_relaxed);
  }

  void on_timer() override {
    if (expires_ms_ != 0 && core::wall_clock_ms() >= expires_ms_) {
      std::string out;
      sse::append_event(out, {}, "token:expired", "{}");
      write(out);
      close_after_flush();
      return;
    }
    std::string ping;
    sse::append_comment(ping, "ping");
    write(ping);
    loop().timers().schedule(timer(), loop().now_ms() + config_.heartbeat_ms);
  }

 private:
  sse_service::part& part_;
  std::atomic<size_t>& total_;
  std::vector<std::string> rooms_;
  std::vector<uint64_t> positions_;  // per room: the last offset this stream has
  int64_t expires_ms_;               // the token's exp; 0: none
  const sse_config& config_;
};

namespace {

void refuse(http::http_session& session, http::status s, std::string_view code,
            std::string message) {
  session.respond(s, "application/json",
                  json::to_string(json::value(
                      json::object{{"error", std::move(message)}, {"code", std::string(code)}})));
}

struct admission {
  auth::room_grants grants;
  int64_t expires_ms = 0;
};

// The token's grants, or a refusal answered (401 with the reason, as at the Socket.IO
// handshake).
std::optional<admission> admit(http::http_session& session, const http::request& req,
                               const sse_config& config) {
  if (!config.jwt) return admission{auth::room_grants::all(), 0};
  const jwt_auth_config& jwt = *config.jwt;
  std::string_view token;
  if (std::string_view a = req.header("authorization");
      a.size() > 7 && (a.starts_with("Bearer ") || a.starts_with("bearer "))) {
    token = a.substr(7);
  } else if (std::string_view c = http::cookie_value(req.header("cookie"), jwt.cookie_name);
             !c.empty()) {
    token = c;
  } else if (std::string_view q = http::query_param(req.query, "token").value_or(""); !q.empty()) {
    if (!jwt.allow_query_token) {
      refuse(session, http::status::unauthorized, "token_in_query",
             "token in query string not allowed");
      return std::nullopt;
    }
    token = q;
  }
  if (token.empty()) {
    if (jwt.allow_anonymous) return admission{config.anonymous, 0};
    refuse(session, http::status::unauthorized, "token_required", "token required");
    return std::nullopt;
  }
  auto claims = auth::verify(token, jwt.keys, jwt.verify, auth::unix_now_s());
  if (!claims) {
    refuse(session, http::status::unauthorized, auth::code_name(claims.error()),
           std::string(auth::describe(claims.error())));
    return std::nullopt;
  }
  admission a{auth::room_grants::from_claims(*claims), 0};
  if (const json::value* exp = claims->find("exp"); exp != nullptr && exp->is_number()) {
    a.expires_ms = static_cast<int64_t>(exp->as_double() * 1000);
  }
  return a;
}

std::string cors_headers(const http::request& req, const std::vector<std::string>& allowed) {
  const std::string_view origin = req.header("origin");
  if (origin.empty()) return {};
  for (const std::string& o : allowed) {
    if (o == "*") return "Access-Control-Allow-Origin: *\r\n";
    if (o == origin) {
      return "Access-Control-Allow-Origin: " + o +
             "\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n";
    }
  }
  return {};
}

}  // namespace

sse_service::sse_service(sse_config config, std::shared_ptr<room_hub> hub)
    : config_(std::move(config)), hub_(std::move(hub)) {}

sse_service::~sse_service() = default;

void sse_service::attach(loop_setup& setup) {
  if (parts_.size() <= setup.index) parts_.resize(setup.index + 1);
  parts_[setup.index] = std::make_unique<part>();
  part& p = *parts_[setup.index];
  p.loop = &setup.loop;
  setup.router.add(
      "/sse", [this, &p](http::http_session& session, http::request& req, std::span<uint8_t>) {
        if (req.method != "GET") {
          session.respond_error(http::status::method_not_allowed, "Allow: GET\r\n");
          return;
        }
        if (config_.draining && config_.draining->load()) {
          session.respond(http::status::service_unavailable, "application/json",
                          R"({"error":"server draining","code":"draining"})", "Retry-After: 1\r\n");
          return;
        }
        auto rooms = sse::parse_rooms(http::query_param(req.query, "rooms").value_or(""),
                                      config_.max_rooms, kMaxRoomName);
        if (!rooms) {
          return refuse(session, http::status::bad_request, "bad_rooms",
                        "rooms=a,b: 1 to " + std::to_string(config_.max_rooms) +
                            " names of 1-200 bytes, percent-encoded");
        }
        auto admitted = admit(session, req, config_);
        if (!admitted) return;
        for (const std::string& room : *rooms) {
          if (!admitted->grants.may_subscribe(room)) {
            return refuse(session, http::status::forbidden, "not_allowed",
                          "not allowed to subscribe to " + room);
          }
        }
        // Where the client stands: Last-Event-ID (an EventSource reconnecting), else now.
        const int64_t now = core::wall_clock_ms();
        std::optional<std::vector<uint64_t>> resume;
        if (std::string_view last = req.header("last-event-id"); !last.empty()) {
          resume = sse::parse_positions(last, rooms->size());
          if (resume && resume->size() != rooms->size()) resume.reset();
        }
        std::vector<uint64_t> positions;
        for (const std::string& room : *rooms) {
          positions.push_back(resume ? 0 : hub_->history().stream_top(room, now).offset);
        }
        if (resume) positions = *resume;

        std::string head =
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream; charset=utf-8\r\n"
            "Cache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n";
        head += cors_headers(req, config_.cors_origins);
        head += "\r\n";
        sse::append_retry(head, config_.retry_ms);

        auto* stream = new sse_stream(p, streams_, std::move(*rooms), positions,
                                      admitted->expires_ms, config_);
        session.hand_over_to(*stream);
        stream->write(head);
        if (resume) {
          // Live messages for these rooms arrive as posted tasks, after this handler: the stream
          // skips those the history already gave it.
          for (size_t i = 0; i < stream->rooms().size(); ++i) {
            const store::history_page page =
                hub_->history().since(stream->rooms()[i], (*resume)[i], kMaxReplay, now);
            for (const store::history_entry_ptr& e : page.entries) {
              stream->replay(i, e->offset, e->event,
                             json::to_string(member_payload(stream->rooms()[i], *e)));
            }
          }
        }
      });
}

void sse_service::shutdown_loop(unsigned index) {
  if (index >= parts_.size() || !parts_[index]) return;
  parts_[index]->streams.for_each([](net::connection& c) { c.close_after_flush(); });
}

void sse_service::close_share(double share) {
  for (const std::unique_ptr<part>& p : parts_) {
    if (!p || p->count.load(std::memory_order_relaxed) == 0) continue;
    part* target = p.get();
    target->loop->post([target, share] {
      auto n = static_cast<size_t>(
          std::ceil(static_cast<double>(target->count.load(std::memory_order_relaxed)) * share));
      std::vector<net::connection*> some;
      target->streams.for_each([&](net::connection& c) {
        if (some.size() < n && !c.closing()) some.push_back(&c);
      });
      for (net::connection* c : some) c->close_after_flush();
    });
  }
}

void sse_service::exit_loop(unsigned index) {
  if (index >= parts_.size() || !parts_[index]) return;
  parts_[index]->streams.for_each([](net::connection& c) { delete &c; });
}

void sse_service::deliver(const std::string& room, uint64_t offset, std::string_view event,
                          const json::value& payload) {
  if (streams_.load(std::memory_order_relaxed) == 0) return;
  std::string tail;
  sse::append_event(tail, {}, event, json::to_string(payload));
  core::shared_buffer* buf = core::shared_buffer::copy_of(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tail.data()), tail.size()));
  core::event_loop* here = core::event_loop::current();
  for (const std::unique_ptr<part>& p : parts_) {
    if (!p || p->count.load(std::memory_order_relaxed) == 0) continue;
    auto hand_out = [part = p.get(), room, offset, ref = buffer_ref(buf)] {
      if (auto it = part->by_room.find(room); it != part->by_room.end()) {
        const std::vector<sse_stream*> subscribers = it->second;  // send() may close one
        for (sse_stream* s : subscribers) s->send(s->index_of(room), offset, ref.get());
      }
    };
    if (p->loop == here) {
      hand_out();
    } else {
      p->loop->post(std::move(hand_out));
    }
  }
  buf->release();
}

}  // namespace relay::server
