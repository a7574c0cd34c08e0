#pragma once
// Connection state recovery (Socket.IO 4.6+, "connectionStateRecovery"). Every replayable event
// gets an id, appended as its last argument (the client keeps the last one it saw). A socket
// that ends for a recoverable reason leaves its session (id, private id, rooms, data, loop)
// here; a client back within max_disconnection_ms with {pid, offset} gets it back and, in
// order, every event meant for it that it had not received.
//
// "Had not received" with several loops: each loop delivers broadcasts in the order they reach
// it, which is not the order their ids were given in (a loop delivers its own publisher's
// events at once and another loop's a moment later). So each loop keeps a journal of what it
// delivered, in its own order, and ids are never compared. The client received exactly the
// entries of its old loop's journal up to its last id. The loop it comes back to replays each
// entry of its own journal meant for it that is not among those; what that loop has not
// delivered yet reaches the socket live. Nothing is lost or sent twice, wherever it reconnects.
//
// Threading: stamp() from any thread; record() on the loop it names; restore() on the loop the
// client came back to. Each journal has its own mutex (its loop writes, a restoring loop reads);
// the sessions share one, taken per connect and disconnect.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/json.hpp"
#include "relay/socketio.hpp"

namespace relay::socketio::detail {

struct broadcast_spec;
struct broadcast_packet;

struct persisted_session {
  std::string sid;
  std::string pid;
  std::string nsp;
  // The dynamic parent that created nsp (an identity, never dereferenced), or null.
  const void* parent = nullptr;
  std::vector<std::string> rooms;
  json::value data;
  unsigned loop = 0;  // whose journal holds what the client received
  // When the socket came to `loop` by a restore: every entry of that journal before
  // restore_point meant for it was received or replayed, and so were the ids in `already`
  // (received before, not delivered by this loop yet: it never sends them). base_id is the
  // client's last id right after the restore, a valid offset until a live event follows.
  uint64_t restore_point = 0;
  std::vector<uint64_t> already;
  uint64_t base_id = 0;
  uint64_t last_sent_id = 0;  // the last event id sent to it (0: none)
  uint64_t disconnected_ms = 0;
  int64_t disconnected_unix_ms = 0;
  // Given by load_sessions(): an earlier process's, whose journals are gone. The client must
  // come back with last_sent_id; the application's replay_saved gives what it missed.
  bool loaded = false;
};

// A packet to replay, with whom it was for: by then a middleware may have taken the socket out
// of some rooms (relay serve: a token that no longer grants them).
struct missed_packet {
  json::value data;                // [event, args..., id]
  std::vector<std::string> rooms;  // empty: the whole namespace
  std::vector<std::string> except;
  uint64_t id = 0;  // 0: an application's replay (replay_saved)
};

struct restored_session {
  persisted_session session;
  std::vector<missed_packet> missed;  // in order
  // Of the last event the client will have had; the session's restore_point, already and
  // base_id describe where it now stands in the journal of the loop it came back to.
  uint64_t last_id = 0;
  uint64_t client_id = 0;  // the id the client came back with
};

socketio::saved_session to_saved(const persisted_session& s);

class recovery_store {
 public:
  recovery_store(uint64_t max_disconnection_ms, unsigned loops);

  // Gives a replayable event its id: appended to `data` (an array) as the offset string.
  // Returns the id.
  uint64_t stamp(json::value& data);
  // On loop `loop`, as it delivers a stamped event (spec: its recipients; packet: the stamped
  // data; emitted_ms: when it was stamped).
  void record(unsigned loop, std::shared_ptr<const broadcast_spec> spec,
              std::shared_ptr<const broadcast_packet> packet, uint64_t id, uint64_t emitted_ms);
  void persist(persisted_session s, uint64_t now_ms);
  // Sessions of an earlier process (see persisted_session::loaded); now_ms: steady, as persist.
  void load(std::vector<socketio::saved_session> sessions, uint64_t now_ms);
  std::vector<socketio::saved_session> saved(uint64_t now_ms);
  // On loop `loop`: the session of `pid` with what it missed after `offset`; nullopt if unknown,
  // expired, or the offset is no longer (or never was) in its old loop's journal. Either way
  // the session is consumed.
  std::optional<restored_session> restore(const std::string& pid, const std::string& offset,
                                          unsigned loop, uint64_t now_ms);
  // The position after the last entry of a loop's journal.
  uint64_t journal_end(unsigned loop);

 private:
  struct entry {
    uint64_t id;
    uint64_t emitted_ms;
    std::shared_ptr<const broadcast_spec> spec;
    std::shared_ptr<const broadcast_packet> packet;
  };
  struct journal {
    std::mutex mu;
    std::deque<entry> entries;
    uint64_t first_seq = 0;   // the front entry's position
    uint64_t trimmed_ms = 0;  // newest emitted_ms trimmed so far
  };
  static bool meant_for(const entry& e, const persisted_session& s);
  void trim(journal& j, uint64_t now_ms);

  const uint64_t max_ms_;
  std::atomic<uint64_t> next_id_{1};
  std::vector<std::unique_ptr<journal>> journals_;  // by loop index
  // Drops the sessions disconnected more than max_ms_ ago, oldest first (sessions_mu_ held).
  void expire_sessions(uint64_t now_ms);

  std::mutex sessions_mu_;
  std::unordered_map<std::string, persisted_session> sessions_;  // by pid
  // (disconnected_ms, pid) in the order they were kept: expiry pops the front instead of
  // scanning every session on every disconnect (a burst of them made that quadratic).
  std::deque<std::pair<uint64_t, std::string>> session_order_;
};

}  // namespace relay::socketio::detail
