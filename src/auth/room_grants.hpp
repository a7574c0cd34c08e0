#pragma once
// Which rooms a connection may join (subscribe) and publish in, from its token's claims:
//   {"relay": {"subscribe": ["chat:*", "news"], "publish": ["chat:*"]}}
// A pattern matches a room name exactly, but that each '*' matches any run of characters
// (none included): "chat:*" matches "chat:" and "chat:a:b", "*" matches every room.
#include <string>
#include <string_view>
#include <vector>

#include "relay/json.hpp"

namespace relay::auth {

bool room_matches(std::string_view pattern, std::string_view room) noexcept;

struct room_grants {
  std::vector<std::string> subscribe;
  std::vector<std::string> publish;

  bool may_subscribe(std::string_view room) const noexcept;
  bool may_publish(std::string_view room) const noexcept;

  // From claims.relay.subscribe / .publish; anything else (absent, not an array, non-string
  // entries) grants nothing.
  static room_grants from_claims(const json::value& claims);
  // Everything: for servers that verify no tokens.
  static room_grants all();
};

}  // namespace relay::auth
