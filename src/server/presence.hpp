#pragma once
// Who is in a room: each user once, with how many connections (tabs, devices) they have in it
// and the optional info from their token (claims.relay.info). A user's first connection into a
// room is a "join", their last one out a "leave"; the callers announce those.
//
// Threading: any loop thread. Rooms are spread over lock stripes by name; a join or leave
// holds one stripe for a map update. Sockets without a user are not tracked.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relay/json.hpp"

namespace relay::server {

struct presence_member {
  std::string user;
  uint32_t connections = 0;
  json::value info;
};

class presence_registry {
 public:
  // True when this is the user's first connection in the room (announce presence:join).
  bool join(std::string_view room, std::string_view user, const json::value& info);
  // True when it was the user's last connection in the room (announce presence:leave).
  bool leave(std::string_view room, std::string_view user);

  std::vector<presence_member> members(std::string_view room) const;

  struct totals {
    size_t rooms = 0;
    size_t members = 0;  // users, each counted once per room
  };
  totals count() const;

 private:
  struct room_members {
    std::unordered_map<std::string, presence_member> by_user;
  };
  struct stripe {
    mutable std::mutex mu;
    std::unordered_map<std::string, room_members> rooms;
  };
  stripe& stripe_for(std::string_view room);
  const stripe& stripe_for(std::string_view room) const;

  std::array<stripe, 32> stripes_;
};

}  // namespace relay::server
