#pragma once
// Server-Sent Events (the HTML Living Standard's text/event-stream): framing events, and
// reading what a reconnecting EventSource sends back.
//
// Relay's event ids are stream positions: for a stream of one room, the room's offset ("42");
// for several rooms, one offset per room in the order of the URL's `rooms` list ("42,0,7"),
// so that Last-Event-ID alone says where every room of the stream stood.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::sse {

// Appends one event. `data` may hold newlines (one "data:" line each); CR and LF in `id` and
// `event` would end their field early, so they are dropped (the callers' names have none).
void append_event(std::string& out, std::string_view id, std::string_view event,
                  std::string_view data);
// ": text\n\n": ignored by clients; keeps proxies and NATs from timing the stream out.
void append_comment(std::string& out, std::string_view text);
// "retry: ms\n\n": how long the client waits before reconnecting.
void append_retry(std::string& out, uint32_t ms);

// Last-Event-ID as offsets, one per room: "42" or "42,0,7" -> {42, 0, 7}. nullopt for anything
// else (a client must not be able to make the server guess). At most max_rooms offsets.
std::optional<std::vector<uint64_t>> parse_positions(std::string_view last_event_id,
                                                     size_t max_rooms);
std::string format_positions(const std::vector<uint64_t>& offsets);

// The `rooms` query value: comma-separated, percent-encoded names ("chat%3A1,news"). nullopt if
// empty, badly encoded, a name is empty or longer than max_name, or more than max_rooms.
std::optional<std::vector<std::string>> parse_rooms(std::string_view value, size_t max_rooms,
                                                    size_t max_name);

}  // namespace relay::sse
