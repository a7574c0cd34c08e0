#include "proto/engineio/error.hpp"

#include <string>

namespace relay::engineio {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "engineio"; }
  std::string message(int ev) const override {
    return std::string(describe(static_cast<error>(ev)));
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::string_view describe(error e) noexcept {
  switch (e) {
    case error::empty_payload:
      return "empty payload";
    case error::empty_packet:
      return "empty packet";
    case error::bad_packet_type:
      return "bad packet type";
    case error::bad_base64:
      return "bad base64";
    case error::too_many_packets:
      return "too many packets";
    case error::payload_too_large:
      return "payload too large";
  }
  return "unknown engineio error";
}

uint16_t http_status(error e) noexcept { return e == error::payload_too_large ? 413 : 400; }

}  // namespace relay::engineio
