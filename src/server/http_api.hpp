#pragma once
// The HTTP API of `relay serve` for a team's backend (docs/http-api.md), under /api/, guarded
// by API keys (Authorization: Bearer KEY, or X-API-Key: KEY):
//   POST /api/publish     {room | rooms, event?, data, from?, idempotency_key?}
//   POST /api/broadcast   {event?, data}: every socket of the rooms namespaces, no history
//   GET  /api/history/ROOM?since=N&limit=M
//   GET  /api/presence/ROOM
//   POST /api/disconnect  {user}
//   GET  /api/stats
// Errors are JSON {error, code} with the HTTP status. Without keys configured the API is off.
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "server/idempotency_cache.hpp"
#include "server/room_hub.hpp"
#include "server/server_metrics.hpp"

namespace relay::server {

struct http_api_config {
  std::vector<std::string> keys;
  std::shared_ptr<room_hub> hub;
  std::shared_ptr<idempotency_cache> idempotency =
      std::make_shared<idempotency_cache>(5 * 60 * 1000, 100'000);
  // Optional: where requests are counted (must outlive the routes).
  server_metrics* metrics = nullptr;
};

// Adds the routes to one loop's router (routes are per loop; the config is shared).
void add_http_api_routes(http::router& router, std::shared_ptr<const http_api_config> config);

}  // namespace relay::server
