#pragma once
// Server-Sent Events on the rooms of `relay serve` (docs/sse.md): GET /sse?rooms=a,b streams
// the rooms' messages as text/event-stream, the same messages Socket.IO members get, with
// `id:` = the stream's position (src/proto/sse) so that an EventSource reconnecting with
// Last-Event-ID gets what it missed from the history. Tokens follow the handshake rules of
// docs/auth.md (Bearer header, cookie, ?token= only when allowed), and every room must be
// within the token's subscribe grants.
//
// Delivery: the room's owner loop (room_hub) formats each message once into a shared buffer
// and posts it to every loop that has SSE streams; each stream adds its own short id line.
//
// Threading: attach() before the loops run; deliver() on any loop; the rest on each loop.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "auth/room_grants.hpp"
#include "server/jwt_auth.hpp"
#include "server/room_hub.hpp"
#include "server/server_config.hpp"

namespace relay::server {

struct sse_config {
  std::shared_ptr<const jwt_auth_config> jwt;  // null: no tokens checked, every room open
  auth::room_grants anonymous;                 // with jwt and allow_anonymous: tokenless grants
  uint32_t heartbeat_ms = 15'000;
  uint32_t retry_ms = 2'000;
  size_t max_rooms = 32;
  size_t max_buffered_bytes = 1024 * 1024;  // a slower reader is disconnected
  std::vector<std::string> cors_origins;    // "*" or exact origins
  // Set while the server drains: new streams get 503 (Retry-After), to go to another server.
  std::shared_ptr<const std::atomic<bool>> draining;
};

class sse_service {
 public:
  sse_service(sse_config config, std::shared_ptr<room_hub> hub);
  ~sse_service();

  void attach(loop_setup& setup);      // GET /sse on this loop
  void shutdown_loop(unsigned index);  // the loop stops: end its streams (flushing them)
  void exit_loop(unsigned index);      // the loop is gone: free what is left
  // Any thread: every loop ends this share (0..1] of its streams, after what they have queued;
  // their EventSources reconnect with Last-Event-ID (elsewhere, when the server drains).
  void close_share(double share);

  // On the room's owner loop, once a message is in the history.
  void deliver(const std::string& room, uint64_t offset, std::string_view event,
               const json::value& payload);

  size_t streams() const noexcept { return streams_.load(std::memory_order_relaxed); }

  struct part;  // one loop's streams

 private:
  sse_config config_;
  std::shared_ptr<room_hub> hub_;
  std::vector<std::unique_ptr<part>> parts_;
  std::atomic<size_t> streams_{0};
};

}  // namespace relay::server
