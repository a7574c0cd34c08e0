#pragma once
// Reading a cookie from a request's Cookie header (RFC 6265 §5.4 / §4.2.1).
#include <string_view>

namespace relay::http {

// The value of cookie `name` in a Cookie header ("a=1; b=2"), without DQUOTEs around it; empty
// if absent. The first one wins when a name repeats.
std::string_view cookie_value(std::string_view header, std::string_view name) noexcept;

}  // namespace relay::http
