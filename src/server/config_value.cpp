#include "server/config_value.hpp"

// GCC 12 at -O2 with the sanitizers reports std::variant's inactive members as "maybe
// uninitialized" when a config_value is moved (a known false positive of its variant code).
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (the fuzz preset)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <span>
#include <utility>

#include "relay/json.hpp"

namespace relay::server {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A leading decimal integer and what follows it ("30s" -> 30, "s").
bool split_number(std::string_view text, int64_t& number, std::string_view& unit) {
  text = trim(text);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return false;
  unit = trim(text.substr(static_cast<size_t>(end - text.data())));
  return true;
}

struct unit_factor {
  std::string_view name;
  int64_t factor;
};

// Multiplies without overflowing int64; false when it would.
bool scale(int64_t n, int64_t factor, int64_t& out) {
  if (n != 0 && (n > INT64_MAX / factor || n < INT64_MIN / factor)) return false;
  out = n * factor;
  return true;
}

tl::expected<int64_t, std::string> parse_duration(const value_rule& rule, std::string_view text) {
  static constexpr std::array<unit_factor, 5> kMillis{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  int64_t n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return tl::unexpected(describe_rule(rule));
  if (unit.empty()) return n;  // the key's own unit
  const std::string u = lowercase(unit);
  for (const unit_factor& f : kMillis) {
    if (u != f.name) continue;
    int64_t ms = 0;
    if (!scale(n, f.factor, ms)) return tl::unexpected(describe_rule(rule));
    if (rule.unit == time_unit::milliseconds) return ms;
    if (ms % 1000 != 0) return tl::unexpected(std::string("a whole number of seconds"));
    return ms / 1000;
  }
  return tl::unexpected(describe_rule(rule));
}

tl::expected<int64_t, std::string> parse_size(const value_rule& rule, std::string_view text) {
  static constexpr std::array<unit_factor, 8> kBytes{{{"b", 1},
                                                      {"kb", 1000},
                                                      {"kib", 1024},
                                                      {"mb", 1000'000},
                                                      {"mib", 1024 * 1024},
                                                      {"gb", 1000'000'000},
                                                      {"gib", int64_t{1024} * 1024 * 1024},
                                                      {"", 1}}};
  int64_t n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return tl::unexpected(describe_rule(rule));
  const std::string u = lowercase(unit);
  for (const unit_factor& f : kBytes) {
    int64_t bytes = 0;
    if (u == f.name && scale(n, f.factor, bytes)) return bytes;
  }
  return tl::unexpected(describe_rule(rule));
}

tl::expected<config_value, std::string> in_range(const value_rule& rule, int64_t n) {
  if (n < rule.min || n > rule.max) return tl::unexpected(describe_rule(rule));
  return config_value(n);
}

// A TOML basic string: JSON's string escapes are valid TOML ones.
std::string quoted(std::string_view s) { return json::to_string(json::value(std::string(s))); }

// The largest unit that divides the value exactly: 25000 ms -> "25s", 1048576 -> "1MiB".
std::string with_unit(int64_t n, std::span<const unit_factor> units) {
  for (const unit_factor& f : units) {
    if (n != 0 && n % f.factor == 0)
      return quoted(std::to_string(n / f.factor) + std::string(f.name));
  }
  return std::to_string(n);
}

}  // namespace

std::string describe_rule(const value_rule& rule) {
  std::string range;
  if (rule.max == INT64_MAX) {
    if (rule.min != 0) range = " of at least " + std::to_string(rule.min);
  } else {
    range = " from " + std::to_string(rule.min) + " to " + std::to_string(rule.max);
  }
  switch (rule.kind) {
    case value_kind::string:
      return "a string";
    case value_kind::boolean:
      return "true or false";
    case value_kind::integer:
      return "an integer" + range;
    case value_kind::duration:
      return std::string("a duration (\"250ms\", \"30s\", \"5m\", \"1h\", or a number of ") +
             (rule.unit == time_unit::seconds ? "seconds" : "milliseconds") + ")" + range;
    case value_kind::size:
      return "a size (\"64KiB\", \"1MiB\", or a number of bytes)" + range;
    case value_kind::string_list:
      return "a list of strings";
  }
  return "a value";
}

tl::expected<config_value, std::string> parse_text(const value_rule& rule, std::string_view text) {
  switch (rule.kind) {
    case value_kind::string:
      return config_value(std::string(text));
    case value_kind::boolean: {
      const std::string t = lowercase(trim(text));
      if (t == "true" || t == "1" || t == "yes" || t == "on") return config_value(true);
      if (t == "false" || t == "0" || t == "no" || t == "off") return config_value(false);
      return tl::unexpected(describe_rule(rule));
    }
    case value_kind::integer: {
      int64_t n = 0;
      std::string_view rest;
      if (!split_number(text, n, rest) || !rest.empty()) return tl::unexpected(describe_rule(rule));
      return in_range(rule, n);
    }
    case value_kind::duration: {
      auto n = parse_duration(rule, text);
      if (!n) return tl::unexpected(n.error());
      return in_range(rule, *n);
    }
    case value_kind::size: {
      auto n = parse_size(rule, text);
      if (!n) return tl::unexpected(n.error());
      return in_range(rule, *n);
    }
    case value_kind::string_list: {
      std::vector<std::string> items;
      while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
      }
      return config_value(std::move(items));
    }
  }
  return tl::unexpected(describe_rule(rule));
}

tl::expected<config_value, std::string> check_value(const value_rule& rule, config_value value) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    switch (rule.kind) {
      case value_kind::string:
        return value;
      case value_kind::duration:
      case value_kind::size:
        return parse_text(rule, *text);
      case value_kind::string_list:
        return config_value(std::vector<std::string>{*text});
      default:
        return tl::unexpected(describe_rule(rule));
    }
  }
  if (std::holds_alternative<bool>(value)) {
    if (rule.kind == value_kind::boolean) return value;
    return tl::unexpected(describe_rule(rule));
  }
  if (const auto* n = std::get_if<int64_t>(&value)) {
    if (rule.kind == value_kind::integer || rule.kind == value_kind::duration ||
        rule.kind == value_kind::size) {
      return in_range(rule, *n);
    }
    return tl::unexpected(describe_rule(rule));
  }
  if (rule.kind == value_kind::string_list) return value;
  return tl::unexpected(describe_rule(rule));
}

std::string to_toml_text(const value_rule& rule, const config_value& value) {
  static constexpr std::array<unit_factor, 5> kMillis{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};
  static constexpr std::array<unit_factor, 4> kSeconds{
      {{"d", 86'400}, {"h", 3'600}, {"m", 60}, {"s", 1}}};
  static constexpr std::array<unit_factor, 3> kBytes{
      {{"GiB", int64_t{1024} * 1024 * 1024}, {"MiB", 1024 * 1024}, {"KiB", 1024}}};
  if (const auto* s = std::get_if<std::string>(&value)) return quoted(*s);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* n = std::get_if<int64_t>(&value)) {
    if (rule.kind == value_kind::duration) {
      return with_unit(*n, rule.unit == time_unit::seconds ? std::span<const unit_factor>(kSeconds)
                                                           : std::span<const unit_factor>(kMillis));
    }
    if (rule.kind == value_kind::size) return with_unit(*n, kBytes);
    return std::to_string(*n);
  }
  std::string out = "[";
  for (const std::string& item : std::get<std::vector<std::string>>(value)) {
    if (out.size() > 1) out += ", ";
    out += quoted(item);
  }
  return out + "]";
}

}  // namespace relay::server
