#include "proto/engineio/session.hpp"

#include "core/object_pool.hpp"
#include "core/slow_consumers.hpp"
#include "proto/engineio/engine.hpp"
#include "proto/engineio/payload.hpp"
#include "proto/engineio/ws_codec.hpp"

namespace relay::engineio {
namespace {

constexpr std::string_view kPollContentType = "text/plain; charset=UTF-8";

std::string_view as_chars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace

session::session(engine& owner, std::string_view sid, transport_kind transport)
    : core::timer(&session::on_timer), engine_(owner), sid_(sid), transport_(transport) {
  if (transport == transport_kind::polling) polling();
}

using session_pool = core::object_pool<sizeof(session), alignof(session)>;

void* session::operator new(size_t size) {
  if (size != sizeof(session)) return ::operator new(size);  // final class
  return session_pool::allocate();
}

void session::operator delete(void* p, size_t size) noexcept {
  if (size != sizeof(session)) return ::operator delete(p);
  session_pool::release(p);
}

session::polling_state& session::polling() {
  if (!polling_) polling_ = std::make_unique<polling_state>(this);
  return *polling_;
}

session::upgrade_deadline::upgrade_deadline(session* s)
    : core::timer([](core::timer& t) { static_cast<upgrade_deadline&>(t).owner->drop_probe(); }),
      owner(s) {}

void session::drop_probe() {
  if (probe_ == nullptr) return;
  ws::websocket* probe = probe_;
  probe_ = nullptr;
  probe_ok_ = false;
  probe->user_data = nullptr;
  probe->close(ws::close_code::normal, "upgrade timeout");
}

session::~session() {
  if (poll_held()) polling_->poll->unhold();
  if (ws_ != nullptr) ws_->user_data = nullptr;
  if (probe_ != nullptr) probe_->user_data = nullptr;
}

void session::start() { schedule_ping(); }

void session::schedule_ping() {
  awaiting_pong_ = false;
  engine_.loop().timers().schedule(*this,
                                   engine_.loop().now_ms() + engine_.options().ping_interval_ms);
}

void session::on_timer(core::timer& t) {
  auto& self = static_cast<session&>(t);
  if (self.state_ == state::closing) {
    // A polling client never came back for its close packet.
    self.terminate(self.polling().close_reason);
    return;
  }
  if (self.awaiting_pong_) {
    self.terminate("ping timeout");
    return;
  }
  // v4: the server pings, the client answers with a pong within pingTimeout.
  self.awaiting_pong_ = true;
  self.send_packet(packet_type::ping, {}, false);
  if (self.state_ != state::open) return;
  self.engine_.loop().timers().schedule(
      self, self.engine_.loop().now_ms() + self.engine_.options().ping_timeout_ms);
}

size_t session::buffered_bytes() const noexcept {
  if (transport_ == transport_kind::websocket && ws_ != nullptr) return ws_->buffered_bytes();
  return polling_ ? polling_->queued_bytes : 0;
}

void session::send_text(std::string_view data, bool compress) {
  send_packet(packet_type::message, data, false, compress);
}

void session::send_binary(std::span<const uint8_t> data, bool compress) {
  send_packet(packet_type::message, as_chars(data), true, compress);
}

bool session::send_prebuilt_text(core::shared_buffer* frame, size_t text_size, bool compress) {
  if (state_ != state::open || transport_ != transport_kind::websocket || ws_ == nullptr) {
    return false;
  }
  if (compress && text_size >= engine_.options().deflate_threshold &&
      ws_->compression_negotiated()) {
    return false;  // this one goes out deflated, with this connection's compressor
  }
  ws_->send_frames(frame, 0, frame->size());
  return true;
}

void session::send_packet(packet_type type, std::string_view data, bool binary, bool compress) {
  if (state_ != state::open) return;
  if (transport_ == transport_kind::websocket && ws_ != nullptr) {
    // The WebSocket compresses only if permessage-deflate was negotiated.
    const ws::compress c = compress && data.size() >= engine_.options().deflate_threshold
                               ? ws::compress::yes
                               : ws::compress::no;
    if (binary && !base64_binary_) {
      ws_->send({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, ws::opcode::binary,
                c);
    } else if (binary) {
      thread_local std::string frame;  // "b<base64>"
      frame.clear();
      encode_ws(packet_ref{type, true, data}, frame, ws_binary_mode::base64);
      ws_->send({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, ws::opcode::text,
                c);
    } else {
      ws_->send_prefixed(to_char(type),
                         {reinterpret_cast<const uint8_t*>(data.data()), data.size()},
                         ws::opcode::text, c);
    }
    return;
  }
  polling_state& ps = polling();
  if (ps.poll == nullptr &&
      ps.queued_bytes + data.size() + 1 > engine_.options().websocket.max_buffered_bytes) {
    // A polling client that stopped fetching: the same slow-consumer limit as a WebSocket's
    // queue, never an unbounded buffer.
    ++engine_.stats().slow_consumer_closes;
    core::note_slow_consumer("polling", ps.queued_bytes,
                             engine_.options().websocket.max_buffered_bytes);
    terminate("transport error");
    return;
  }
  ps.queued_bytes += data.size() + 1;
  ps.queue.push_back(queued_packet{type, binary, compress, std::string(data)});
  flush_polling();
}

void session::flush_polling() {
  if (!poll_held() || queue_empty()) return;
  polling_state& ps = *polling_;
  std::vector<packet_ref> refs;
  refs.reserve(ps.queue.size());
  bool compress = false;
  for (const queued_packet& p : ps.queue) {
    refs.push_back(packet_ref{p.type, p.binary, p.data});
    compress = compress || p.compress;
  }
  std::string body;
  encode_payload(refs, body);
  ps.queue.clear();
  ps.queued_bytes = 0;
  const engine_options& o = engine_.options();
  if (compress && o.http_compression && ps.coding != http::content_coding::identity &&
      body.size() >= o.http_compression_threshold) {
    std::string z;
    if (http::compress_body(body, ps.coding, o.http_compression_level, z)) {
      answer_poll(z, ps.coding);
      return;
    }
  }
  answer_poll(body);
}

void session::answer_poll(std::string_view body, http::content_coding coding) {
  http::http_session* http = polling_->poll;
  polling_->poll = nullptr;
  if (coding == http::content_coding::identity) {
    http->respond(http::status::ok, kPollContentType, body, polling_->cors);
    return;
  }
  std::string headers = polling_->cors;
  headers.append("Content-Encoding: ").append(http::coding_name(coding)).append("\r\n");
  http->respond(http::status::ok, kPollContentType, body, headers);
}

void session::on_poll(http::http_session& http, std::string_view cors,
                      http::content_coding accepted) {
  polling_state& ps = polling();
  if (ps.poll != nullptr) {
    // Two GETs at once: the Node server calls it "overlap from client" and ends the session.
    http.respond_error(http::status::bad_request, std::string(cors));
    terminate("transport error");
    return;
  }
  ps.cors.assign(cors);
  ps.coding = accepted;
  ps.poll = &http;
  if (!ps.queue.empty()) {
    flush_polling();
  } else if (probe_ok_) {
    // Upgrading: release the client's poll so it can switch to the WebSocket.
    answer_poll("6");
  } else {
    http.hold(*this);
    return;
  }
  if (state_ == state::closing && queue_empty()) terminate(polling_->close_reason);
}

void session::on_post(http::http_session& http, std::string_view body, std::string_view cors) {
  payload_limits limits;
  limits.max_payload = engine_.options().max_payload;
  auto decoded = decode_payload(body, limits);
  if (!decoded) {
    http.respond(http::status::bad_request, "text/plain", describe(decoded.error()),
                 std::string(cors));
    terminate("parse error");
    return;
  }
  // Answer first: a packet may close the session (and the connection stays usable anyway).
  http.respond(http::status::ok, "text/html", "ok", std::string(cors));
  for (const packet_ref& p : decoded->packets()) {
    if (state_ == state::closed) break;
    on_packet(p.type, p.binary, p.data);
  }
}

void session::on_packet(packet_type type, bool binary, std::string_view data) {
  switch (type) {
    case packet_type::pong:
      if (awaiting_pong_ && state_ == state::open) schedule_ping();
      break;
    case packet_type::message:
      if (state_ != state::open) break;
      if (binary) {
        engine_.handler_ref().on_binary(
            *this, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
      } else {
        engine_.handler_ref().on_message(*this, data);
      }
      break;
    case packet_type::close:
      terminate("transport close", poll_answer::noop);
      break;
    default:
      break;  // ping/upgrade/noop/open from a client: nothing to do in v4
  }
}

void session::attach_websocket(ws::websocket& ws) {
  ws_ = &ws;
  transport_ = transport_kind::websocket;
}

void session::attach_probe(ws::websocket& ws) {
  probe_ = &ws;
  probe_ok_ = false;
  engine_.loop().timers().schedule(polling().deadline,
                                   engine_.loop().now_ms() + engine_.options().upgrade_timeout_ms);
}

void session::on_ws_message(ws::websocket& ws, std::span<const uint8_t> payload, ws::opcode op) {
  if (&ws == probe_) {
    const std::string_view text = as_chars(payload);
    if (op == ws::opcode::text && text == "2probe") {
      ws.send("3probe");
      probe_ok_ = true;
      if (poll_held() && queue_empty()) answer_poll("6");  // noop: let the poll return
    } else if (op == ws::opcode::text && text == "5" && probe_ok_) {
      finish_upgrade();
    } else {
      probe_->user_data = nullptr;
      probe_ = nullptr;
      ws.close(ws::close_code::protocol_error, "bad upgrade");
    }
    return;
  }
  if (&ws != ws_) return;
  if (op == ws::opcode::binary) {
    on_packet(packet_type::message, true, as_chars(payload));
    return;
  }
  // "b<base64>" text frames are binary messages (Node's parser takes them from any client).
  thread_local std::string base64_scratch;
  auto p = decode_ws_text(as_chars(payload), &base64_scratch);
  if (!p) {
    terminate("parse error");
    return;
  }
  on_packet(p->type, p->binary, p->data);
}

void session::finish_upgrade() {
  polling_state& ps = polling();
  core::timer_wheel::cancel(ps.deadline);
  ++engine_.stats().upgrades;
  ws_ = probe_;
  probe_ = nullptr;
  transport_ = transport_kind::websocket;
  engine_.handler_ref().on_upgrade(*this);
  if (ps.poll != nullptr) answer_poll("6");
  // What waited for a poll goes over the WebSocket, in order.
  std::vector<queued_packet> waiting;
  waiting.swap(ps.queue);
  ps.queued_bytes = 0;
  const bool closing = state_ == state::closing;
  if (closing) state_ = state::open;  // let the queued packets out
  for (const queued_packet& p : waiting) send_packet(p.type, p.data, p.binary, p.compress);
  if (closing) {
    state_ = state::closing;
    terminate(ps.close_reason);
  }
}

void session::on_ws_closed(ws::websocket& ws) {
  if (&ws == probe_) {
    probe_ = nullptr;  // the upgrade failed; polling goes on
    probe_ok_ = false;
    core::timer_wheel::cancel(polling().deadline);
    return;
  }
  if (&ws == ws_) {
    ws_ = nullptr;
    terminate("transport close");
  }
}

void session::on_held_request_aborted(http::http_session&) {
  if (polling_) polling_->poll = nullptr;
  // The client dropped its poll: the Node server calls it "poll connection closed
  // prematurely" and ends the session with a transport error.
  if (transport_ == transport_kind::polling && probe_ == nullptr) terminate("transport error");
}

void session::close(std::string_view reason) {
  if (state_ != state::open) return;
  if (transport_ == transport_kind::websocket) {
    terminate(reason);
    return;
  }
  // Polling: the close packet goes out with whatever is queued, in the next poll.
  send_packet(packet_type::close, {}, false);
  polling_state& ps = polling();
  ps.close_reason.assign(reason);
  state_ = state::closing;
  if (ps.queue.empty()) {
    terminate(ps.close_reason);  // a held poll took it
    return;
  }
  engine_.loop().timers().schedule(*this,
                                   engine_.loop().now_ms() + engine_.options().ping_timeout_ms);
}

void session::terminate(std::string_view reason, poll_answer answer) {
  if (state_ == state::closed) return;
  state_ = state::closed;
  core::timer_wheel::cancel(*this);
  const std::string why(reason);  // reason may point into close_reason
  if (poll_held()) {
    http::http_session* http = polling_->poll;
    polling_->poll = nullptr;
    http->respond(http::status::ok, kPollContentType, answer == poll_answer::noop ? "6" : "1",
                  polling_->cors);
  }
  if (probe_ != nullptr) {
    probe_->user_data = nullptr;
    probe_->close(ws::close_code::normal);
    probe_ = nullptr;
  }
  if (ws_ != nullptr) {
    ws_->user_data = nullptr;
    ws_->close(ws::close_code::normal);
    ws_ = nullptr;
  }
  if (polling_) {
    polling_->queue.clear();
    polling_->queued_bytes = 0;
  }
  engine_.forget(*this);
  engine_.handler_ref().on_close(*this, why);
  engine_.loop().defer_delete(this);
}

}  // namespace relay::engineio
