#pragma once
// Structured logs on stderr: one line per event, as text for a terminal or as JSON for a log
// pipeline ({"ts":"2026-12-02T15:12:44.123Z","level":"warn","msg":"slow consumer closed",
// "transport":"websocket","queued":1048990}). For rare events (start, stop, refusals worth an
// operator's eye): each line is formatted into one buffer and written with one write(2), so
// lines from different loops never interleave.
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <variant>

namespace relay::log {

enum class level : uint8_t { debug, info, warn, error };

// Start-up: the lowest level written and the format. Default: info, text.
void configure(level min, bool json);
bool enabled(level l) noexcept;
// "debug", "info", "warn", "error"; false for anything else.
bool parse_level(std::string_view name, level& out) noexcept;

using value = std::variant<std::string_view, int64_t, double, bool>;
using field = std::pair<std::string_view, value>;

void write(level l, std::string_view message, std::initializer_list<field> fields = {});

inline void info(std::string_view m, std::initializer_list<field> f = {}) {
  write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
  write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
  write(level::error, m, f);
}

}  // namespace relay::log
