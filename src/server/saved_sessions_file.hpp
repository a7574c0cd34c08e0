#pragma once
// Connection state recovery across a restart of `relay serve --data-dir`: the sessions the
// shutdown disconnected are written to a JSON file there and read back at the next start.
#include <string>
#include <vector>

#include "relay/socketio.hpp"

namespace relay::server {

// The sessions in `path` (none when it is missing or unreadable, reported on stderr); the file
// is removed, so a session is offered to one start only.
std::vector<socketio::saved_session> take_saved_sessions(const std::string& path);
// Writes them to `path` through a temporary file and a rename; false (reported) on failure.
bool write_saved_sessions(const std::string& path,
                          const std::vector<socketio::saved_session>& sessions);

}  // namespace relay::server
