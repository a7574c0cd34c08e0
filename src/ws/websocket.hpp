#pragma once
// The server side of one WebSocket connection (RFC 6455): frames in through the streaming
// parser, messages out with corked writes, ping/pong, the close handshake, idle detection,
// permessage-deflate (RFC 7692) and the slow-consumer policy.
//
// Threading: a websocket lives on one loop; every method must be called on that loop's
// thread, and every behavior callback runs there.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "core/shared_buffer.hpp"
#include "net/connection.hpp"
#include "ws/close_code.hpp"
#include "ws/frame_parser.hpp"
#include "ws/opcode.hpp"
#include "ws/permessage_deflate.hpp"

namespace relay::ws {

// What a send did (uWS's model): ok, queued above the high-water mark (slow down), or not
// sent at all (connection closing, or the slow-consumer limit was hit and the socket is being
// closed with 1008).
enum class send_status : uint8_t { ok, backpressure, dropped };

enum class compress : uint8_t { no, yes };  // per message, if the connection negotiated it

struct websocket_options {
  uint64_t max_message_size = 16 * 1024 * 1024;  // inbound, after inflation -> 1009
  size_t max_buffered_bytes = 1024 * 1024;       // outbound queue cap -> close 1008
  net::socket_options socket;                    // high/low water for pausing reads
  uint32_t idle_timeout_ms = 120'000;  // silence after which we ping; again -> drop; 0 = off
  uint32_t close_timeout_ms = 5'000;   // wait for the peer's close frame
  deflate_config deflate;
};

class websocket;

// Per-endpoint application callbacks, run on the socket's loop. on_close runs exactly once per
// opened socket, whatever ended it; after it the socket is gone at the end of the iteration.
class behavior {
 public:
  virtual ~behavior() = default;
  virtual void on_open(websocket& ws) {}
  virtual void on_message(websocket& ws, std::span<const uint8_t> payload, opcode op,
                          compress was_compressed) = 0;
  virtual void on_drain(websocket& ws) {}
  // code 1006 when the connection ended without a close frame.
  virtual void on_close(websocket& ws, uint16_t code, std::string_view reason) {}
};

// Counters a loop keeps for its sockets (read by metrics; single-threaded per loop).
struct websocket_stats {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t slow_consumer_closes = 0;
  uint64_t protocol_errors = 0;
};

class websocket final : public net::connection, private frame_handler {
 public:
  // fd -1: the socket arrives through net::connection::hand_over_to (upgrade from HTTP).
  websocket(core::event_loop& loop, behavior& app, const websocket_options& options,
            std::optional<deflate_params> deflate, websocket_stats* stats);
  ~websocket() override;

  // From a per-thread object_pool: see core/object_pool.hpp for why (RSS per idle socket).
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size) noexcept;

  // Called once the socket is attached: runs behavior::on_open, arms the idle timer and feeds
  // bytes that arrived right behind the upgrade request.
  void open(std::span<uint8_t> early_bytes);

  send_status send(std::span<const uint8_t> payload, opcode op = opcode::binary,
                   compress c = compress::no);
  send_status send(std::string_view text) {
    return send({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, opcode::text);
  }
  // One message of `prefix` followed by payload (Engine.IO's packet type byte before its data),
  // framed straight into the output queue instead of being joined in a buffer first.
  send_status send_prefixed(char prefix, std::span<const uint8_t> payload, opcode op,
                            compress c = compress::no);
  // Queues bytes that are already complete frames (a broadcast encoded once for everyone).
  send_status send_frames(core::shared_buffer* frames, size_t off, size_t len);
  send_status ping(std::span<const uint8_t> payload = {});

  // Starts the closing handshake (no-op if already closing).
  void close(close_code code, std::string_view reason = {});
  // Drops the TCP connection without a close frame.
  void terminate() { close_now(net::close_reason::local); }

  bool compression_negotiated() const noexcept { return deflate_ != nullptr; }
  bool is_closing() const noexcept { return close_sent_ || closing(); }

  void* user_data = nullptr;  // the application's per-socket state

 private:
  struct deflate_state;

  // net::connection
  void on_data(std::span<uint8_t> bytes) override;
  void on_closed(net::close_reason why) override;
  void on_drain() override;
  void on_timer() override;
  // frame_handler
  bool on_message(opcode op, std::span<uint8_t> payload, compressed c) override;
  bool on_control(opcode op, std::span<uint8_t> payload) override;

  void write_frame(opcode op, std::span<const uint8_t> payload, compressed c);
  send_status admit(size_t frame_bytes);  // slow-consumer check before queueing
  void fail(close_code code, std::string_view reason);
  void notify_close(uint16_t code, std::string_view reason);

  behavior* app_;
  const websocket_options* options_;
  websocket_stats* stats_;
  frame_parser parser_;
  std::unique_ptr<deflate_state> deflate_;
  uint64_t last_rx_ms_ = 0;
  bool close_sent_ = false;
  bool close_notified_ = false;
  bool ping_outstanding_ = false;
  bool opened_ = false;
};

}  // namespace relay::ws
