#include "server/socketio_recovery.hpp"

#include <algorithm>
#include <charconv>

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

void recovery_store::expire(uint64_t now_ms) {
  while (!packets_.empty() && packets_.front().at_ms + max_ms_ < now_ms) packets_.pop_front();
  std::erase_if(sessions_,
                [&](const auto& kv) { return kv.second.disconnected_ms + max_ms_ < now_ms; });
}

void recovery_store::store(const std::string& nsp, std::vector<std::string> rooms,
                           std::vector<std::string> except, json::value& data, uint64_t now_ms,
                           const void* parent) {
  std::lock_guard lock(mu_);
  expire(now_ms);
  const uint64_t offset = next_offset_++;
  data.push_back(offset_string(offset));
  packets_.push_back(
      stored_packet{offset, now_ms, nsp, parent, std::move(rooms), std::move(except), data});
}

void recovery_store::persist(persisted_session s, uint64_t now_ms) {
  std::lock_guard lock(mu_);
  expire(now_ms);
  s.disconnected_ms = now_ms;
  std::string pid = s.pid;
  sessions_[pid] = std::move(s);
}

std::optional<restored_session> recovery_store::restore(const std::string& pid,
                                                        const std::string& offset,
                                                        uint64_t now_ms) {
  std::lock_guard lock(mu_);
  expire(now_ms);
  auto it = sessions_.find(pid);
  if (it == sessions_.end()) return std::nullopt;
  restored_session out{std::move(it->second), {}};
  sessions_.erase(it);
  const std::optional<uint64_t> last = parse_offset(offset);
  if (!last) return std::nullopt;
  // The client's last offset must still be buffered, or packets after it may be gone.
  auto pos = std::find_if(packets_.begin(), packets_.end(),
                          [&](const stored_packet& p) { return p.offset == *last; });
  if (pos == packets_.end()) return std::nullopt;
  const std::vector<std::string>& rooms = out.session.rooms;
  for (++pos; pos != packets_.end(); ++pos) {
    const bool same_namespace = pos->parent != nullptr ? pos->parent == out.session.parent
                                                       : pos->nsp == out.session.nsp;
    if (!same_namespace) continue;
    if (!pos->rooms.empty() && !in_any(pos->rooms, rooms)) continue;
    if (in_any(pos->except, rooms)) continue;
    out.missed.push_back(pos->data);
  }
  return out;
}

}  // namespace relay::socketio::detail
