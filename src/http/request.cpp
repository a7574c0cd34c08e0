#include "http/request.hpp"

namespace relay::http {
namespace {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 9110 §5.6.1: a list is elements separated by commas with optional whitespace; empty
// elements are legal and ignored.
bool list_has_token(std::string_view list, std::string_view token) noexcept {
  while (true) {
    const size_t comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view request::header(std::string_view name) const noexcept {
  for (const header_field& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool request::has_header(std::string_view name) const noexcept {
  for (const header_field& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

bool request::header_has_token(std::string_view name, std::string_view token) const noexcept {
  // An empty token would match empty list elements, which RFC 9110 §5.6.1 says to ignore.
  if (trim_ows(token).empty()) return false;
  // RFC 9110 §5.3: repeated field lines combine into one comma-separated list, so each
  // occurrence is searched in turn.
  for (const header_field& h : headers) {
    if (iequals(h.name, name) && list_has_token(h.value, token)) return true;
  }
  return false;
}

}  // namespace relay::http
