#include "proto/socketio/error.hpp"

#include <string>

namespace relay::socketio {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "socketio"; }
  std::string message(int ev) const override {
    return std::string(describe(static_cast<decode_errc>(ev)));
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(decode_errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::string_view describe(decode_errc e) noexcept {
  switch (e) {
    case decode_errc::empty_packet:
      return "empty packet";
    case decode_errc::unknown_type:
      return "unknown packet type";
    case decode_errc::bad_attachments:
      return "illegal attachments";
    case decode_errc::too_many_attachments:
      return "too many attachments";
    case decode_errc::bad_namespace:
      return "namespace does not start with '/'";
    case decode_errc::bad_ack_id:
      return "invalid ack id";
    case decode_errc::missing_ack_id:
      return "ack without an id";
    case decode_errc::too_large:
      return "packet too large";
    case decode_errc::too_deep:
      return "payload nested too deeply";
    case decode_errc::invalid_json:
      return "payload is not JSON";
    case decode_errc::invalid_payload:
      return "invalid payload";
    case decode_errc::bad_placeholder:
      return "illegal attachment placeholder";
    case decode_errc::unexpected_binary:
      return "got binary data when not reconstructing a packet";
    case decode_errc::unexpected_text:
      return "got plaintext data when reconstructing a packet";
  }
  return "unknown socketio error";
}

}  // namespace relay::socketio
