#pragma once
// The chat behind the demo page that `relay serve` shows at "/": rooms, messages and
// who-is-typing, on the main namespace, written with the public Socket.IO API only.
#include "relay/socketio.hpp"

namespace relay::server {

void install_demo_chat(socketio::server& io);

}  // namespace relay::server
