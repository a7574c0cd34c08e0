#pragma once
// Reading a request's query string and percent-encoded parts of a URL.
#include <optional>
#include <string>
#include <string_view>

namespace relay::http {

// The raw (still percent-encoded) value of the first `name=value` pair of a query string;
// nullopt when there is none ("name" alone gives an empty value).
std::optional<std::string_view> query_param(std::string_view query, std::string_view name) noexcept;

// %XX-decodes a path segment or a query value into `out` ("+" stays "+"); false on a broken
// escape (a % not followed by two hex digits).
bool percent_decode(std::string_view in, std::string& out);

}  // namespace relay::http
