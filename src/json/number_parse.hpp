#pragma once
// A JSON number token to a double, for the tokens simdjson 3.0.1 On-Demand refuses although
// they are valid JSON (an exponent with many leading zeros: 5e-0000000000000000000001).
#include <optional>
#include <string_view>

namespace relay::json {

// token: one RFC 8259 number, possibly followed by whitespace. nullopt if it is not a number
// or overflows a double (JSON.parse would give Infinity); underflow gives ±0, as in JS.
std::optional<double> parse_number_token(std::string_view token) noexcept;

}  // namespace relay::json
