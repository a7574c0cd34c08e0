#include "server/presence.hpp"

#include <algorithm>
#include <functional>

namespace relay::server {

presence_registry::stripe& presence_registry::stripe_for(std::string_view room) {
  return stripes_[std::hash<std::string_view>{}(room) % stripes_.size()];
}

const presence_registry::stripe& presence_registry::stripe_for(std::string_view room) const {
  return stripes_[std::hash<std::string_view>{}(room) % stripes_.size()];
}

bool presence_registry::join(std::string_view room, std::string_view user,
                             const json::value& info) {
  stripe& s = stripe_for(room);
  std::lock_guard lock(s.mu);
  room_members& r = s.rooms[std::string(room)];
  auto [it, first] = r.by_user.try_emplace(std::string(user));
  presence_member& m = it->second;
  if (first) {
    m.user = std::string(user);
    m.info = info;
  }
  ++m.connections;
  return first;
}

bool presence_registry::leave(std::string_view room, std::string_view user) {
  stripe& s = stripe_for(room);
  std::lock_guard lock(s.mu);
  const auto r = s.rooms.find(std::string(room));
  if (r == s.rooms.end()) return false;
  const auto m = r->second.by_user.find(std::string(user));
  if (m == r->second.by_user.end()) return false;
  if (--m->second.connections != 0) return false;
  r->second.by_user.erase(m);
  if (r->second.by_user.empty()) s.rooms.erase(r);
  return true;
}

std::vector<presence_member> presence_registry::members(std::string_view room) const {
  const stripe& s = stripe_for(room);
  std::lock_guard lock(s.mu);
  std::vector<presence_member> out;
  const auto r = s.rooms.find(std::string(room));
  if (r == s.rooms.end()) return out;
  out.reserve(r->second.by_user.size());
  for (const auto& [user, m] : r->second.by_user) out.push_back(m);
  std::sort(out.begin(), out.end(),
            [](const presence_member& a, const presence_member& b) { return a.user < b.user; });
  return out;
}

presence_registry::totals presence_registry::count() const {
  totals t;
  for (const stripe& s : stripes_) {
    std::lock_guard lock(s.mu);
    t.rooms += s.rooms.size();
    for (const auto& [name, r] : s.rooms) t.members += r.by_user.size();
  }
  return t;
}

}  // namespace relay::server
