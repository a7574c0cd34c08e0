#include <cmath>
#include <cstring>

#include "relay/json.hpp"

namespace relay::json {
namespace {

// Exact comparison of an integer with a double: converting the integer to double could round
// (2^53 + 1 == 2^53 as doubles), so convert the double instead when it is integral and in range.
bool same_number(int64_t i, double d) noexcept {
  // -2^63 is exact as a double; 2^63 is the first double above INT64_MAX.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(d >= -kTwo63 && d < kTwo63) || std::trunc(d) != d) return false;
  return static_cast<int64_t>(d) == i;
}

}  // namespace

value::value(binary_ptr b)
    : v_(b ? std::move(b) : std::make_shared<const std::vector<uint8_t>>()) {}

value binary(std::vector<uint8_t> bytes) {
  return value(std::make_shared<const std::vector<uint8_t>>(std::move(bytes)));
}

const value* value::find(std::string_view key) const noexcept {
  const object* o = std::get_if<object>(&v_);
  if (o == nullptr) return nullptr;
  for (const member& m : *o) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

value* value::find(std::string_view key) noexcept {
  return const_cast<value*>(static_cast<const value*>(this)->find(key));
}

value& value::operator[](std::string_view key) {
  if (is_null()) v_ = object{};
  if (value* found = find(key)) return *found;
  return as_object().emplace_back(std::string(key), value()).second;
}

void value::push_back(value v) {
  if (is_null()) v_ = array{};
  as_array().push_back(std::move(v));
}

size_t value::size() const noexcept {
  switch (type()) {
    case value_type::string:
      return as_string().size();
    case value_type::array:
      return as_array().size();
    case value_type::object:
      return as_object().size();
    case value_type::binary:
      return as_binary()->size();
    default:
      return 0;
  }
}

bool value::contains_binary() const noexcept {
  switch (type()) {
    case value_type::binary:
      return true;
    case value_type::array:
      for (const value& v : as_array()) {
        if (v.contains_binary()) return true;
      }
      return false;
    case value_type::object:
      for (const member& m : as_object()) {
        if (m.second.contains_binary()) return true;
      }
      return false;
    default:
      return false;
  }
}

bool operator==(const value& a, const value& b) noexcept {
  const value_type ta = a.type(), tb = b.type();
  if (ta != tb) {
    if (ta == value_type::integer && tb == value_type::floating) {
      return same_number(a.as_int(), b.as_double());
    }
    if (ta == value_type::floating && tb == value_type::integer) {
      return same_number(b.as_int(), a.as_double());
    }
    return false;
  }
  switch (ta) {
    case value_type::null:
      return true;
    case value_type::boolean:
      return a.as_bool() == b.as_bool();
    case value_type::integer:
      return a.as_int() == b.as_int();
    case value_type::floating:
      return a.as_double() == b.as_double();
    case value_type::string:
      return a.as_string() == b.as_string();
    case value_type::array:
      return a.as_array() == b.as_array();
    case value_type::object:
      return a.as_object() == b.as_object();
    case value_type::binary:
      return a.as_binary() == b.as_binary() || *a.as_binary() == *b.as_binary();
  }
  return false;
}

}  // namespace relay::json
