#include <string>

#include "relay/json.hpp"

namespace relay::json {

std::string_view describe(parse_errc e) noexcept {
  switch (e) {
    case parse_errc::too_large:
      return "JSON text too large";
    case parse_errc::too_deep:
      return "JSON nested too deeply";
    case parse_errc::invalid_utf8:
      return "JSON text is not UTF-8";
    case parse_errc::empty:
      return "empty JSON text";
    case parse_errc::syntax:
      return "JSON syntax error";
    case parse_errc::invalid_string:
      return "invalid JSON string";
    case parse_errc::invalid_number:
      return "invalid JSON number";
    case parse_errc::trailing_content:
      return "content after the JSON value";
    case parse_errc::out_of_memory:
      return "out of memory parsing JSON";
  }
  return "unknown JSON error";
}

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "json"; }
  std::string message(int ev) const override {
    return std::string(describe(static_cast<parse_errc>(ev)));
  }
};

}  // namespace

const std::error_category& parse_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(parse_errc e) noexcept {
  return {static_cast<int>(e), parse_category()};
}

}  // namespace relay::json
