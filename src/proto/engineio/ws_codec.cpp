#include "proto/engineio/ws_codec.hpp"

#include "proto/engineio/base64.hpp"
#include "proto/engineio/payload.hpp"

namespace relay::engineio {

tl::expected<packet_ref, error> decode_ws_text(std::string_view frame, std::string* base64_out) {
  if (frame.empty()) return tl::unexpected(error::empty_packet);
  if (frame[0] == 'b' && base64_out != nullptr) {
    base64_out->clear();
    if (!base64_decode(frame.substr(1), *base64_out, base64_line_breaks::skip)) {
      return tl::unexpected(error::bad_base64);
    }
    return packet_ref{packet_type::message, true, *base64_out};
  }
  const std::optional<packet_type> type = packet_type_from_char(frame[0]);
  if (!type) return tl::unexpected(error::bad_packet_type);
  return packet_ref{*type, false, frame.substr(1)};
}

void encode_ws_text(packet_type type, std::string_view data, std::string& out) {
  out.reserve(out.size() + 1 + data.size());
  out.push_back(to_char(type));
  out.append(data);
}

ws_frame_kind encode_ws(const packet_ref& p, std::string& out, ws_binary_mode mode) {
  if (!p.binary) {
    encode_ws_text(p.type, p.data, out);
    return ws_frame_kind::text;
  }
  if (mode == ws_binary_mode::base64) {
    encode_packet(p, out);
    return ws_frame_kind::text;
  }
  out.append(p.data);
  return ws_frame_kind::binary;
}

}  // namespace relay::engineio
