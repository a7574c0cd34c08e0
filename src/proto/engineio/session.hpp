#pragma once
// One Engine.IO v4 session: the handshake's sid, the transport it currently uses (HTTP
// long-polling or WebSocket), the heartbeat, the upgrade from polling to WebSocket, and the
// packets waiting for a polling GET. Sans policy: the engine (engine.hpp) routes HTTP requests
// and WebSocket frames here; the upper layer (Socket.IO) sees messages through
// engine_handler and sends with send_text()/send_binary().
//
// Threading: a session lives on one loop, like its connections.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_loop.hpp"
#include "core/shared_buffer.hpp"
#include "core/timer_wheel.hpp"
#include "http/content_coding.hpp"
#include "http/http_session.hpp"
#include "proto/engineio/packet.hpp"
#include "proto/engineio/query.hpp"
#include "proto/engineio/sid.hpp"
#include "relay/header_list.hpp"
#include "ws/websocket.hpp"

namespace relay::engineio {

class engine;

// What the upper layer keeps of the handshake request (Socket.IO's socket.handshake).
struct handshake_info {
  header_list headers;  // names lower-cased; the target is the handshake's URL
  uint64_t issued_ms = 0;
  bool secure = false;
};

class session final : public core::deferred_deletable,
                      private core::timer,
                      private http::held_request_owner {
 public:
  session(engine& owner, std::string_view sid, transport_kind transport);
  // From a per-thread object_pool (see core/object_pool.hpp): one per connection.
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size) noexcept;
  ~session() override;

  std::string_view sid() const noexcept { return sid_; }
  transport_kind transport() const noexcept { return transport_; }
  bool upgrading() const noexcept { return probe_ != nullptr; }
  bool closed() const noexcept { return state_ == state::closed; }

  // Message packets to the client. Dropped once the session is closing.
  // `compress`: may go out compressed (permessage-deflate negotiated, and at least the
  // engine's deflate_threshold long); false sends it as is (Node's compress(false)).
  void send_text(std::string_view data, bool compress = true);
  void send_binary(std::span<const uint8_t> data, bool compress = true);
  // A message packet already framed for WebSocket ("4" + text in one unmasked text frame, e.g. a
  // broadcast's, built once per loop), `text_size` being the text's length: queued as is (the
  // buffer is shared, not copied) when this session is on WebSocket and would send that text
  // uncompressed. False otherwise: the caller sends it with send_text().
  bool send_prebuilt_text(core::shared_buffer* frame, size_t text_size, bool compress);
  // Bytes queued and not yet written (polling queue, or the WebSocket's queue).
  size_t buffered_bytes() const noexcept;

  // Server-initiated close: queued packets are flushed, then a close packet, then the
  // transport is closed. `reason` goes to engine_handler::on_close.
  void close(std::string_view reason = "forced close");
  // Ends the session now (shutdown): no waiting for a polling client to fetch its close
  // packet; the handler's on_close runs before this returns.
  void close_now(std::string_view reason) { terminate(reason); }

  void* user_data = nullptr;  // the upper layer's per-session state

  // The handshake asked for b64=1 (engine.io-client's forceBase64): binary messages go over
  // WebSocket as "b<base64>" text frames, as they do in long-polling payloads.
  void set_base64_binary(bool on) noexcept { base64_binary_ = on; }

  // --- used by the engine ---------------------------------------------------------------
  // Starts the heartbeat once the open packet is queued.
  void start();
  // HTTP long-polling: a GET (answered now or held) and a POST (packets from the client).
  // accepted: what the GET's Accept-Encoding allows for the answer's body.
  void on_poll(http::http_session& http, std::string_view cors_headers,
               http::content_coding accepted = http::content_coding::identity);
  void on_post(http::http_session& http, std::string_view body, std::string_view cors_headers);
  // The WebSocket transport (direct, or after an upgrade).
  void attach_websocket(ws::websocket& ws);
  // A WebSocket that is probing an upgrade from polling.
  void attach_probe(ws::websocket& ws);
  void on_ws_message(ws::websocket& ws, std::span<const uint8_t> payload, ws::opcode op);
  void on_ws_closed(ws::websocket& ws);

 private:
  enum class state : uint8_t { open, closing, closed };

  struct queued_packet {
    packet_type type;
    bool binary;
    bool compress;  // may go out compressed (its emit did not say compress(false))
    std::string data;
  };

  void send_packet(packet_type type, std::string_view data, bool binary, bool compress = false);
  void on_packet(packet_type type, bool binary, std::string_view data);
  void flush_polling();
  void answer_poll(std::string_view body,
                   http::content_coding coding = http::content_coding::identity);
  void on_held_request_aborted(http::http_session& http) override;
  void finish_upgrade();
  void drop_probe();
  void schedule_ping();
  static void on_timer(core::timer& t);
  // Ends the session: notifies the engine and the handler once, frees it at the end of the
  // iteration. `reason` in Engine.IO's words ("transport close", "ping timeout", ...).
  // A held poll gets the close packet "1", or a noop "6" when the client closed the session
  // itself (as the Node server answers).
  enum class poll_answer : uint8_t { close_packet, noop };
  void terminate(std::string_view reason, poll_answer answer = poll_answer::close_packet);

  // The probe's deadline: a WebSocket that does not complete the upgrade in time is closed
  // (polling goes on). Its own timer: the session's timer is the heartbeat.
  struct upgrade_deadline : core::timer {
    explicit upgrade_deadline(session* s);
    session* owner;
  };
  // What only HTTP long-polling needs, allocated for sessions that start on polling: a
  // WebSocket-only session (most of an idle fleet) carries none of it.
  struct polling_state {
    explicit polling_state(session* s) : deadline(s) {}
    upgrade_deadline deadline;
    http::http_session* poll = nullptr;  // a held polling GET
    std::vector<queued_packet> queue;    // packets waiting for a polling GET
    size_t queued_bytes = 0;
    std::string cors;          // CORS headers for the held GET's answer
    http::content_coding coding = http::content_coding::identity;  // the held GET accepts
    std::string close_reason;  // of a close() waiting for the client's last poll
  };
  polling_state& polling();
  bool poll_held() const noexcept { return polling_ != nullptr && polling_->poll != nullptr; }
  bool queue_empty() const noexcept { return polling_ == nullptr || polling_->queue.empty(); }

  engine& engine_;
  inline_id sid_;
  std::unique_ptr<polling_state> polling_;
  ws::websocket* ws_ = nullptr;     // the WebSocket transport
  ws::websocket* probe_ = nullptr;  // a WebSocket probing an upgrade
  transport_kind transport_;
  state state_ = state::open;
  bool awaiting_pong_ = false;
  bool probe_ok_ = false;  // the probe answered 2probe: waiting for its "5"
  bool base64_binary_ = false;
};

}  // namespace relay::engineio
