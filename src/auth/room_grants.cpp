#include "auth/room_grants.hpp"

namespace relay::auth {

bool room_matches(std::string_view pattern, std::string_view room) noexcept {
  // Glob with '*' only: on a mismatch, go back to the last '*' and let it take one more
  // character. Linear in practice, O(pattern × room) at worst (both are short).
  size_t p = 0, r = 0;
  size_t star = std::string_view::npos, star_r = 0;
  while (r < room.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_r = r;
    } else if (p < pattern.size() && pattern[p] == room[r]) {
      ++p;
      ++r;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      r = ++star_r;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

bool any_matches(const std::vector<std::string>& patterns, std::string_view room) noexcept {
  for (const std::string& p : patterns) {
    if (room_matches(p, room)) return true;
  }
  return false;
}

std::vector<std::string> patterns_of(const json::value* list) {
  std::vector<std::string> out;
  if (list == nullptr || !list->is_array()) return out;
  for (const json::value& v : list->as_array()) {
    if (v.is_string()) out.push_back(v.as_string());
  }
  return out;
}

}  // namespace

bool room_grants::may_subscribe(std::string_view room) const noexcept {
  return any_matches(subscribe, room);
}

bool room_grants::may_publish(std::string_view room) const noexcept {
  return any_matches(publish, room);
}

room_grants room_grants::from_claims(const json::value& claims) {
  room_grants g;
  const json::value* relay = claims.find("relay");
  if (relay == nullptr || !relay->is_object()) return g;
  g.subscribe = patterns_of(relay->find("subscribe"));
  g.publish = patterns_of(relay->find("publish"));
  return g;
}

room_grants room_grants::all() { return room_grants{{"*"}, {"*"}}; }

}  // namespace relay::auth
