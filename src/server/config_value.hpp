#pragma once
// One configuration value as the TOML file, a RELAY_ variable or a flag gives it, checked
// against its key's kind. Durations and sizes take units ("30s", "1MiB"); a bare number is in
// the key's own unit, so the historical millisecond flags (--ping-interval 25000) still work.
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <variant>
#include <vector>

namespace relay::server {

enum class value_kind { string, boolean, integer, duration, size, string_list };
enum class time_unit { milliseconds, seconds };

// Integers, durations (in the key's unit) and sizes (bytes) are all int64.
using config_value = std::variant<std::string, bool, int64_t, std::vector<std::string>>;

// What a key accepts.
struct value_rule {
  value_kind kind = value_kind::string;
  time_unit unit = time_unit::milliseconds;  // durations: what a bare number means
  int64_t min = 0;
  int64_t max = INT64_MAX;
};

// From a RELAY_ variable, a flag or --set: "25s", "1MiB", "true", "a,b". The error names what
// was expected ("an integer from 0 to 65535").
tl::expected<config_value, std::string> parse_text(const value_rule& rule, std::string_view text);
// Range and kind checks for a value already typed (a TOML integer, a list of strings).
tl::expected<config_value, std::string> check_value(const value_rule& rule, config_value value);

// As TOML source: `"0.0.0.0"`, `8080`, `"25s"`, `["a", "b"]`.
std::string to_toml_text(const value_rule& rule, const config_value& value);
// What the rule accepts, for messages and --help.
std::string describe_rule(const value_rule& rule);

}  // namespace relay::server
