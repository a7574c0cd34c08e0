// What an SSE client sends that Relay parses: Last-Event-ID (stream positions) and the rooms
// query. Checks: no crash or overrun; accepted positions format back to the same text when it
// was canonical; accepted rooms are within the limits and re-encode to an accepted query.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/sse/event_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto positions = relay::sse::parse_positions(text, 8)) {
    assert(!positions->empty() && positions->size() <= 8);
    const std::string again = relay::sse::format_positions(*positions);
    assert(relay::sse::parse_positions(again, 8) == positions);
  }
  if (auto rooms = relay::sse::parse_rooms(text, 8, 16)) {
    assert(!rooms->empty() && rooms->size() <= 8);
    std::string query;
    for (const std::string& r : *rooms) {
      assert(!r.empty() && r.size() <= 16);
      if (!query.empty()) query += ',';
      for (const unsigned char c : r) {
        static const char* hex = "0123456789ABCDEF";
        query += '%';
        query += hex[c >> 4];
        query += hex[c & 15];
      }
    }
    assert(relay::sse::parse_rooms(query, 8, 16) == rooms);
  }
  // Framing never lets a field's bytes start a new field.
  std::string out;
  relay::sse::append_event(out, text, text, text);
  assert(out.size() >= 2 && out.substr(out.size() - 2) == "\n\n");
  return 0;
}
