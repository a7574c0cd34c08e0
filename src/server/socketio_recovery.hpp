#pragma once
// Connection state recovery (Socket.IO 4.6+, "connectionStateRecovery"): every event packet
// that can be replayed gets an offset, appended as its last argument (the client remembers the
// last one it saw); a socket that ends for a recoverable reason leaves its session (id, private
// id, rooms, data) here; a client reconnecting within max_disconnection_ms with {pid, offset}
// gets its session back and, in order, every stored packet after that offset meant for it.
//
// Shared by all loops: a client may reconnect on any of them, and offsets must be ordered the
// same for everyone. One mutex, taken once per stored packet (not per recipient) and per
// connect/disconnect; only when recovery is enabled.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/json.hpp"

namespace relay::socketio::detail {

struct persisted_session {
  std::string sid;
  std::string pid;
  std::string nsp;
  // The dynamic parent that created nsp (an identity, never dereferenced), or null.
  const void* parent = nullptr;
  std::vector<std::string> rooms;
  json::value data;
  uint64_t disconnected_ms = 0;
};

struct restored_session {
  persisted_session session;
  std::vector<json::value> missed;  // event data arrays, offsets included, in order
};

class recovery_store {
 public:
  explicit recovery_store(uint64_t max_disconnection_ms) : max_ms_(max_disconnection_ms) {}

  // Assigns the next offset, appends it to `data` (an array) and keeps the packet for replay.
  // `parent` set: a broadcast to every child namespace of that dynamic parent (nsp is only
  // its label); it is replayed to sessions of any of its children.
  void store(const std::string& nsp, std::vector<std::string> rooms,
             std::vector<std::string> except, json::value& data, uint64_t now_ms,
             const void* parent = nullptr);
  void persist(persisted_session s, uint64_t now_ms);
  // The session of `pid` with what it missed after `offset`; nullopt if unknown, expired, or
  // the offset is no longer (or never was) in the buffer. Either way the session is consumed.
  std::optional<restored_session> restore(const std::string& pid, const std::string& offset,
                                          uint64_t now_ms);

 private:
  struct stored_packet {
    uint64_t offset;
    uint64_t at_ms;
    std::string nsp;
    const void* parent;  // see store()
    std::vector<std::string> rooms;
    std::vector<std::string> except;
    json::value data;
  };
  void expire(uint64_t now_ms);

  const uint64_t max_ms_;
  std::mutex mu_;
  uint64_t next_offset_ = 1;
  std::deque<stored_packet> packets_;
  std::unordered_map<std::string, persisted_session> sessions_;  // by pid
};

}  // namespace relay::socketio::detail
