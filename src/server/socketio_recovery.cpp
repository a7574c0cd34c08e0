#include "server/socketio_recovery.hpp"

#include <algorithm>
#include <charconv>

#include "core/wall_clock.hpp"
#include "server/socketio_runtime.hpp"

namespace relay::socketio::detail {
namespace {

// Offsets travel as strings (the client keeps the last string argument of an event).
std::string offset_string(uint64_t offset) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, offset, 36);
  return std::string(buf, end);
}

std::optional<uint64_t> parse_offset(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 36);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool in_any(const std::vector<std::string>& rooms, const std::vector<std::string>& of) {
  for (const std::string& r : rooms) {
    if (std::find(of.begin(), of.end(), r) != of.end()) return true;
  }
  return false;
}

}  // namespace

recovery_store::recovery_store(uint64_t max_disconnection_ms, unsigned loops)
    : max_ms_(max_disconnection_ms) {
  journals_.reserve(loops);
  for (unsigned i = 0; i < loops; ++i) journals_.push_back(std::make_unique<journal>());
}

uint64_t recovery_store::stamp(json::value& data) {
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  data.push_back(offset_string(id));
  return id;
}

void recovery_store::trim(journal& j, uint64_t now_ms) {
  while (!j.entries.empty() && j.entries.front().emitted_ms + max_ms_ < now_ms) {
    j.trimmed_ms = std::max(j.trimmed_ms, j.entries.front().emitted_ms);
    j.entries.pop_front();
    ++j.first_seq;
  }
}

void recovery_store::record(unsigned loop, std::shared_ptr<const broadcast_spec> spec,
                            std::shared_ptr<const broadcast_packet> packet, uint64_t id,
                            uint64_t emitted_ms) {
  if (loop >= journals_.size()) return;
  journal& j = *journals_[loop];
  std::lock_guard lock(j.mu);
  // Trimming by the event's own age keeps it a pure function of the entry: every loop drops
  // the same events, whenever it gets to them.
  trim(j, emitted_ms);
  j.entries.push_back(entry{id, emitted_ms, std::move(spec), std::move(packet)});
}

socketio::saved_session to_saved(const persisted_session& s) {
  return socketio::saved_session{s.sid,
                                 s.pid,
                                 s.nsp,
                                 s.rooms,
                                 s.data,
                                 s.last_sent_id != 0 ? offset_string(s.last_sent_id) : "",
                                 s.disconnected_unix_ms};
}

void recovery_store::persist(persisted_session s, uint64_t now_ms) {
  std::lock_guard lock(sessions_mu_);
  expire_sessions(now_ms);
  s.disconnected_ms = now_ms;
  s.disconnected_unix_ms = core::wall_clock_ms();
  session_order_.emplace_back(now_ms, s.pid);
  std::string pid = s.pid;
  sessions_[pid] = std::move(s);
}

void recovery_store::expire_sessions(uint64_t now_ms) {
  while (!session_order_.empty() && session_order_.front().first + max_ms_ < now_ms) {
    auto it = sessions_.find(session_order_.front().second);
    // A pid kept again later has a newer time: only the session this record was made for goes.
    if (it != sessions_.end() && it->second.disconnected_ms == session_order_.front().first) {
      sessions_.erase(it);
    }
    session_order_.pop_front();
  }
}

void recovery_store::load(std::vector<socketio::saved_session> sessions, uint64_t now_ms) {
  const int64_t now_unix = core::wall_clock_ms();
  std::lock_guard lock(sessions_mu_);
  for (socketio::saved_session& saved : sessions) {
    const int64_t away = std::max<int64_t>(now_unix - saved.disconnected_unix_ms, 0);
    if (static_cast<uint64_t>(away) > max_ms_ || saved.pid.empty()) continue;
    const std::optional<uint64_t> last = parse_offset(saved.last_offset);
    if (!last) continue;  // it never had an event: nothing to resume from
    persisted_session s;
    s.sid = std::move(saved.sid);
    s.pid = std::move(saved.pid);
    s.nsp = std::move(saved.nsp);
    s.rooms = std::move(saved.rooms);
    s.data = std::move(saved.data);
    s.last_sent_id = *last;
    s.disconnected_ms = now_ms - std::min<uint64_t>(static_cast<uint64_t>(away), now_ms);
    s.disconnected_unix_ms = saved.disconnected_unix_ms;
    s.loaded = true;
    session_order_.emplace_back(s.disconnected_ms, s.pid);
    std::string pid = s.pid;
    sessions_[pid] = std::move(s);
  }
}

std::vector<socketio::saved_session> recovery_store::saved(uint64_t now_ms) {
  std::lock_guard lock(sessions_mu_);
  std::vector<socketio::saved_session> out;
  for (const auto& [pid, s] : sessions_) {
    // Dynamic namespaces' parents are this process's objects: their sessions stay here.
    if (s.disconnected_ms + max_ms_ >= now_ms && s.parent == nullptr) out.push_back(to_saved(s));
  }
  return out;
}

bool recovery_store::meant_for(const entry& e, const persisted_session& s) {
  const broadcast_spec& spec = *e.spec;
  const bool same_namespace = spec.parent != nullptr ? spec.parent == s.parent : spec.nsp == s.nsp;
  if (!same_namespace) return false;
  if (!spec.rooms.empty() && !in_any(spec.rooms, s.rooms)) return false;
  if (in_any(spec.except, s.rooms)) return false;
  // A local broadcast reached only its own loop's sockets.
  return !spec.local || spec.origin_loop == s.loop;
}

std::optional<restored_session> recovery_store::restore(const std::string& pid,
                                                        const std::string& offset, unsigned loop,
                                                        uint64_t now_ms) {
  restored_session out;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = sessions_.find(pid);
    if (it == sessions_.end()) return std::nullopt;
    const bool expired = it->second.disconnected_ms + max_ms_ < now_ms;
    out.session = std::move(it->second);
    sessions_.erase(it);
    if (expired) return std::nullopt;
  }
  const std::optional<uint64_t> last = parse_offset(offset);
  if (!last) return std::nullopt;
  out.client_id = *last;
  persisted_session& s = out.session;
  if (s.loaded) {
    // An earlier process's: what it missed is the application's to say (replay_saved).
    if (*last != s.last_sent_id) return std::nullopt;
    out.last_id = *last;
    s.restore_point = 0;  // set by the caller's loop, whose journal it joins
    s.already.clear();
    s.base_id = *last;
    return out;
  }
  if (loop >= journals_.size() || s.loop >= journals_.size()) return std::nullopt;
  journal& old_loop = *journals_[s.loop];
  journal& here = *journals_[loop];
  std::unique_lock<std::mutex> lock_old(old_loop.mu, std::defer_lock);
  std::unique_lock<std::mutex> lock_here(here.mu, std::defer_lock);
  if (&old_loop == &here) {
    lock_here.lock();
  } else {
    std::lock(lock_old, lock_here);
  }
  // Positions by id, made here rather than kept per delivery: restores are rare, deliveries
  // are not.
  std::unordered_map<uint64_t, uint64_t> old_at;
  old_at.reserve(old_loop.entries.size());
  for (size_t i = 0; i < old_loop.entries.size(); ++i) {
    old_at.emplace(old_loop.entries[i].id, old_loop.first_seq + i);
  }
  std::unordered_map<uint64_t, uint64_t> here_ids_storage;
  if (&old_loop != &here) {
    here_ids_storage.reserve(here.entries.size());
    for (size_t i = 0; i < here.entries.size(); ++i) {
      here_ids_storage.emplace(here.entries[i].id, here.first_seq + i);
    }
  }
  const std::unordered_map<uint64_t, uint64_t>& here_at =
      &old_loop == &here ? old_at : here_ids_storage;
  // What the client received, as positions of its old loop's journal: those before `limit`,
  // plus the ids in `already`. Its last id is either the one it had right after coming to that
  // loop (base_id: everything before the restore point), or an event that loop delivered since
  // (everything up to it). Anything else is unknown, or trimmed: what followed may be gone.
  uint64_t limit = 0;
  if (s.base_id != 0 && *last == s.base_id) {
    limit = s.restore_point;
  } else if (auto at = old_at.find(*last); at != old_at.end() && at->second >= s.restore_point) {
    limit = at->second + 1;
  } else {
    return std::nullopt;
  }
  std::sort(s.already.begin(), s.already.end());
  auto received = [&](const entry& e) {
    if (std::binary_search(s.already.begin(), s.already.end(), e.id)) return true;
    auto at = old_at.find(e.id);
    if (at != old_at.end()) return at->second < limit;
    // Not in the old journal: trimmed there (long delivered), or not delivered there yet.
    return e.emitted_ms <= old_loop.trimmed_ms;
  };
  // Received here and not delivered by this loop yet: this loop must never send them (they
  // would come twice). What was missed and this loop has trimmed is gone: no recovery then.
  std::vector<uint64_t> already;
  for (uint64_t id : s.already) {
    if (!here_at.contains(id)) already.push_back(id);
  }
  if (&old_loop != &here) {
    for (const entry& e : old_loop.entries) {
      if (!meant_for(e, s)) continue;
      if (!received(e)) {
        if (e.emitted_ms <= here.trimmed_ms && !here_at.contains(e.id)) return std::nullopt;
      } else if (!here_at.contains(e.id)) {
        already.push_back(e.id);
      }
    }
  }
  out.last_id = *last;
  for (const entry& e : here.entries) {
    if (meant_for(e, s) && !received(e)) {
      out.missed.push_back({e.packet->raw.data.value(), e.spec->rooms, e.spec->except, e.id});
      out.last_id = e.id;
    }
  }
  s.restore_point = here.first_seq + here.entries.size();
  s.already = std::move(already);
  s.base_id = out.last_id;
  s.loop = loop;
  return out;
}

uint64_t recovery_store::journal_end(unsigned loop) {
  if (loop >= journals_.size()) return 0;
  journal& j = *journals_[loop];
  std::lock_guard lock(j.mu);
  return j.first_seq + j.entries.size();
}

}  // namespace relay::socketio::detail
