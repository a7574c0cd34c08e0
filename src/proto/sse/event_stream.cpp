#include "proto/sse/event_stream.hpp"

#include <charconv>

#include "http/query.hpp"

namespace relay::sse {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (const char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += '\n';
}

}  // namespace

void append_event(std::string& out, std::string_view id, std::string_view event,
                  std::string_view data) {
  if (!id.empty()) append_field(out, "id", id);
  if (!event.empty()) append_field(out, "event", event);
  // Every line of the data is its own field; the client joins them back with "\n".
  while (true) {
    const size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: ";
    out += line;
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
}

void append_comment(std::string& out, std::string_view text) {
  out += ": ";
  for (const char c : text) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += "\n\n";
}

void append_retry(std::string& out, uint32_t ms) {
  out += "retry: ";
  out += std::to_string(ms);
  out += "\n\n";
}

std::optional<std::vector<uint64_t>> parse_positions(std::string_view text, size_t max_rooms) {
  std::vector<uint64_t> offsets;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size()) return std::nullopt;
    if (offsets.size() == max_rooms) return std::nullopt;
    offsets.push_back(n);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return offsets;
}

std::string format_positions(const std::vector<uint64_t>& offsets) {
  std::string out;
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(offsets[i]);
  }
  return out;
}

std::optional<std::vector<std::string>> parse_rooms(std::string_view value, size_t max_rooms,
                                                    size_t max_name) {
  std::vector<std::string> rooms;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = value.substr(0, comma);
    std::string name;
    if (!http::percent_decode(item, name)) return std::nullopt;
    if (name.empty() || name.size() > max_name || rooms.size() == max_rooms) return std::nullopt;
    rooms.push_back(std::move(name));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return rooms;
}

}  // namespace relay::sse
