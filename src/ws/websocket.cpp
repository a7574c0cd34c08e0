#include "ws/websocket.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/object_pool.hpp"
#include "core/slow_consumers.hpp"
#include "ws/frame_header.hpp"
#include "ws/utf8.hpp"

namespace relay::ws {
namespace {

// Per-thread scratch for inflated input and deflated output: one buffer per loop, reused by
// every socket, so compressed traffic allocates nothing per message once warm.
thread_local std::vector<uint8_t> tls_inflate_buffer;
thread_local std::vector<uint8_t> tls_deflate_buffer;

// Keep scratch buffers from pinning memory after a single huge message.
void trim(std::vector<uint8_t>& v) {
  if (v.capacity() > (1u << 20)) std::vector<uint8_t>().swap(v);
}

}  // namespace

struct websocket::deflate_state {
  explicit deflate_state(const deflate_params& p, const deflate_config& cfg)
      : params(p), config(cfg) {}
  deflate_params params;
  const deflate_config& config;
  // Created on first use: many connections negotiate compression and never use it.
  std::unique_ptr<inflater> in;
  std::unique_ptr<deflater> out;
};

websocket::websocket(core::event_loop& loop, behavior& app, const websocket_options& options,
                     std::optional<deflate_params> deflate, websocket_stats* stats)
    : net::connection(loop, -1, nullptr, options.socket),
      app_(&app),
      options_(&options),
      stats_(stats),
      parser_(parser_options{.max_message_size = options.max_message_size,
                             .side = role::server,
                             .allow_compressed = deflate.has_value()}) {
  if (deflate) deflate_ = std::make_unique<deflate_state>(*deflate, options.deflate);
}

websocket::~websocket() = default;

using websocket_pool = core::object_pool<sizeof(websocket), alignof(websocket)>;

void* websocket::operator new(size_t size) {
  if (size != sizeof(websocket)) return ::operator new(size);  // cannot happen: final class
  return websocket_pool::allocate();
}

void websocket::operator delete(void* p, size_t size) noexcept {
  if (size != sizeof(websocket)) return ::operator delete(p);
  websocket_pool::release(p);
}

void websocket::open(std::span<uint8_t> early_bytes) {
  opened_ = true;
  last_rx_ms_ = loop().now_ms();
  if (options_->idle_timeout_ms > 0) {
    loop().timers().schedule(timer(), last_rx_ms_ + options_->idle_timeout_ms);
  }
  app_->on_open(*this);
  if (!early_bytes.empty() && !closed()) on_data(early_bytes);
}

void websocket::on_data(std::span<uint8_t> bytes) {
  last_rx_ms_ = loop().now_ms();
  ping_outstanding_ = false;
  if (const parse_error* err = parser_.feed(bytes, *this)) {
    if (stats_) ++stats_->protocol_errors;
    fail(err->code, err->reason);
  }
}

bool websocket::on_message(opcode op, std::span<uint8_t> payload, compressed c) {
  if (closing()) return false;
  // §7.1.4: after our close frame, data is discarded, but parsing goes on to find the
  // peer's close reply.
  if (close_sent_) return true;
  std::span<const uint8_t> message = payload;
  if (c == compressed::yes) {
    if (!deflate_) {
      fail(close_code::protocol_error, "unexpected RSV1");
      return false;
    }
    auto& st = *deflate_;
    if (!st.in) {
      st.in = std::make_unique<inflater>(st.params.client_max_window_bits,
                                         st.params.client_no_context_takeover);
    }
    switch (st.in->inflate(payload, tls_inflate_buffer, options_->max_message_size)) {
      case inflate_status::ok:
        break;
      case inflate_status::too_big:
        fail(close_code::message_too_big, "message too big");
        return false;
      case inflate_status::corrupt:
        fail(close_code::invalid_payload, "invalid compressed data");
        return false;
    }
    message = tls_inflate_buffer;
    // The parser cannot check UTF-8 of compressed text: do it on the inflated bytes.
    if (op == opcode::text && !is_valid_utf8(message.data(), message.size())) {
      fail(close_code::invalid_payload, "invalid UTF-8");
      return false;
    }
  }
  if (stats_) ++stats_->messages_in;
  app_->on_message(*this, message, op, c == compressed::yes ? compress::yes : compress::no);
  if (c == compressed::yes) trim(tls_inflate_buffer);
  return !closed() && !closing();
}

bool websocket::on_control(opcode op, std::span<uint8_t> payload) {
  switch (op) {
    case opcode::ping:
      // §5.5.3: answer with the same application data, unless we are already closing.
      if (!close_sent_ && !closing()) write_frame(opcode::pong, payload, compressed::no);
      return true;
    case opcode::pong:
      ping_outstanding_ = false;
      return true;
    case opcode::close: {
      uint16_t code = 1005;  // no status received
      std::string_view reason;
      if (payload.size() >= 2) {
        code = static_cast<uint16_t>(payload[0] << 8 | payload[1]);
        reason = {reinterpret_cast<const char*>(payload.data()) + 2, payload.size() - 2};
      }
      if (!close_sent_) {
        // §5.5.1: echo the status code; the server closes TCP first (§7.1.1).
        uint8_t body[2];
        size_t n = 0;
        if (code != 1005) {
          body[0] = static_cast<uint8_t>(code >> 8);
          body[1] = static_cast<uint8_t>(code);
          n = 2;
        }
        write_frame(opcode::close, {body, n}, compressed::no);
        close_sent_ = true;
      }
      notify_close(code, reason);
      close_after_flush();
      return false;
    }
    default:
      return true;
  }
}

void websocket::write_frame(opcode op, std::span<const uint8_t> payload, compressed c) {
  const size_t header = frame_header_size(payload.size(), false);
  uint8_t* out = write_uninitialized(header + payload.size());
  write_frame_header(out, op, payload.size(), final_frame::yes, c);
  if (!payload.empty()) std::memcpy(out + header, payload.data(), payload.size());
}

send_status websocket::admit(size_t frame_bytes) {
  if (closed() || closing() || close_sent_) return send_status::dropped;
  if (buffered_bytes() > 0 && buffered_bytes() + frame_bytes > options_->max_buffered_bytes) {
    // Slow consumer: what is queued still goes out, this message does not, and the peer is
    // told why (Redis client-output-buffer-limit, uWS maxBackpressure). A single message
    // larger than the limit is still sent to a consumer that has caught up: the limit bounds
    // the backlog, not the message size (that is max_message_size's job).
    if (stats_) ++stats_->slow_consumer_closes;
    core::note_slow_consumer("websocket", buffered_bytes(), options_->max_buffered_bytes);
    close(close_code::policy_violation, "slow consumer");
    return send_status::dropped;
  }
  return send_status::ok;
}

send_status websocket::send_prefixed(char prefix, std::span<const uint8_t> payload, opcode op,
                                     compress c) {
  if (c == compress::yes && deflate_) {
    thread_local std::vector<uint8_t> joined;  // compressed whole anyway: join first
    joined.assign(1, static_cast<uint8_t>(prefix));
    joined.insert(joined.end(), payload.begin(), payload.end());
    const send_status s = send(joined, op, c);
    trim(joined);
    return s;
  }
  const size_t size = 1 + payload.size();
  const size_t header = frame_header_size(size, false);
  if (admit(header + size) == send_status::dropped) return send_status::dropped;
  uint8_t* out = write_uninitialized(header + size);
  write_frame_header(out, op, size, final_frame::yes, compressed::no);
  out[header] = static_cast<uint8_t>(prefix);
  if (!payload.empty()) std::memcpy(out + header + 1, payload.data(), payload.size());
  if (stats_) ++stats_->messages_out;
  return buffered_bytes() > options_->socket.high_water ? send_status::backpressure
                                                        : send_status::ok;
}

send_status websocket::send(std::span<const uint8_t> payload, opcode op, compress c) {
  if (c == compress::yes && deflate_) {
    auto& st = *deflate_;
    if (!st.out) {
      st.out = std::make_unique<deflater>(st.params.server_max_window_bits,
                                          st.params.server_no_context_takeover,
                                          st.config.compression_level, st.config.mem_level);
    }
    tls_deflate_buffer.clear();
    st.out->deflate(payload, tls_deflate_buffer);
    const std::span<const uint8_t> z = tls_deflate_buffer;
    if (admit(frame_header_size(z.size(), false) + z.size()) == send_status::dropped) {
      return send_status::dropped;
    }
    write_frame(op, z, compressed::yes);
    trim(tls_deflate_buffer);
  } else {
    if (admit(frame_header_size(payload.size(), false) + payload.size()) == send_status::dropped) {
      return send_status::dropped;
    }
    write_frame(op, payload, compressed::no);
  }
  if (stats_) ++stats_->messages_out;
  return buffered_bytes() > options_->socket.high_water ? send_status::backpressure
                                                        : send_status::ok;
}

send_status websocket::send_frames(core::shared_buffer* frames, size_t off, size_t len) {
  if (admit(len) == send_status::dropped) return send_status::dropped;
  write_shared(frames, off, len);
  return buffered_bytes() > options_->socket.high_water ? send_status::backpressure
                                                        : send_status::ok;
}

send_status websocket::ping(std::span<const uint8_t> payload) {
  if (payload.size() > 125) return send_status::dropped;
  if (admit(2 + payload.size()) == send_status::dropped) return send_status::dropped;
  write_frame(opcode::ping, payload, compressed::no);
  return send_status::ok;
}

void websocket::close(close_code code, std::string_view reason) {
  if (close_sent_ || closed() || closing()) return;
  uint8_t body[125];
  const uint16_t c = static_cast<uint16_t>(code);
  body[0] = static_cast<uint8_t>(c >> 8);
  body[1] = static_cast<uint8_t>(c);
  // A control frame carries at most 125 bytes (§5.5): cut the reason, never mid-character.
  size_t n = std::min(reason.size(), sizeof body - 2);
  while (n > 0 && n < reason.size() && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  if (n != 0) std::memcpy(body + 2, reason.data(), n);  // an empty reason may have no data()
  write_frame(opcode::close, {body, n + 2}, compressed::no);
  close_sent_ = true;
  // Wait (bounded) for the peer's close frame; on_control then closes TCP.
  loop().timers().schedule(timer(), loop().now_ms() + options_->close_timeout_ms);
}

void websocket::fail(close_code code, std::string_view reason) {
  // §7.1.7 "Fail the WebSocket Connection": send a close frame if we can, then drop TCP
  // without waiting for the peer.
  if (!close_sent_ && !closed()) {
    close(code, reason);
  }
  notify_close(static_cast<uint16_t>(code), reason);
  close_after_flush();
}

void websocket::on_timer() {
  if (close_sent_ || closing()) {
    terminate();  // the peer never answered our close frame
    return;
  }
  const uint64_t now = loop().now_ms();
  const uint64_t idle = options_->idle_timeout_ms;
  if (now < last_rx_ms_ + idle) {
    loop().timers().schedule(timer(), last_rx_ms_ + idle);
    return;
  }
  if (ping_outstanding_) {
    terminate();  // silent for two idle periods: the peer is gone
    return;
  }
  ping_outstanding_ = true;
  ping();
  last_rx_ms_ = now;  // give the pong a full period
  loop().timers().schedule(timer(), now + idle);
}

void websocket::on_drain() { app_->on_drain(*this); }

void websocket::notify_close(uint16_t code, std::string_view reason) {
  if (close_notified_ || !opened_) return;
  close_notified_ = true;
  app_->on_close(*this, code, reason);
}

void websocket::on_closed(net::close_reason) { notify_close(1006, {}); }

}  // namespace relay::ws
