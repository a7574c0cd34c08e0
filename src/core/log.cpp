#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace relay::log {
namespace {

std::atomic<uint8_t> g_min{static_cast<uint8_t>(level::info)};
std::atomic<bool> g_json{false};

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_value(std::string& out, const value& v, bool json) {
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    if (json) {
      append_json_string(out, *s);
    } else if (s->find_first_of(" \"=") != std::string_view::npos || s->empty()) {
      append_json_string(out, *s);  // quoted when a reader could not tell where it ends
    } else {
      out += *s;
    }
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", *d);
    out += buf;
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  out += buf;
  std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(ms.count()));
  out += buf;
}

}  // namespace

void configure(level min, bool json) {
  g_min.store(static_cast<uint8_t>(min));
  g_json.store(json);
}

bool enabled(level l) noexcept { return static_cast<uint8_t>(l) >= g_min.load(); }

bool parse_level(std::string_view name, level& out) noexcept {
  for (uint8_t i = 0; i < 4; ++i) {
    if (kNames[i] == name) {
      out = static_cast<level>(i);
      return true;
    }
  }
  return false;
}

void write(level l, std::string_view message, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  const bool json = g_json.load();
  std::string line;
  line.reserve(128);
  if (json) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += "\",\"level\":\"";
    line += kNames[static_cast<uint8_t>(l)];
    line += "\",\"msg\":";
    append_json_string(line, message);
    for (const field& f : fields) {
      line += ',';
      append_json_string(line, f.first);
      line += ':';
      append_value(line, f.second, true);
    }
    line += "}\n";
  } else {
    append_timestamp(line);
    line += ' ';
    line += kNames[static_cast<uint8_t>(l)];
    line += ' ';
    line += message;
    for (const field& f : fields) {
      line += ' ';
      line += f.first;
      line += '=';
      append_value(line, f.second, false);
    }
    line += '\n';
  }
  // One write: lines of different threads do not interleave (stderr is unbuffered anyway).
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace relay::log
