#include "proto/socketio/decoder.hpp"

#include <memory>
#include <utility>

namespace relay::socketio {
namespace {

// An ack id has at most as many digits as kMaxAckId (9007199254740991).
constexpr size_t kMaxAckIdDigits = 16;

tl::unexpected<decode_error> fail(decode_errc code) {
  return tl::unexpected(decode_error{code, describe(code)});
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_binary_type(packet_type t) noexcept {
  return t == packet_type::binary_event || t == packet_type::binary_ack;
}

// socket.io-parser's placeholder test: an object whose "_placeholder" is true.
const json::value* placeholder_num(const json::value& v) noexcept {
  if (!v.is_object()) return nullptr;
  const json::value* flag = v.find("_placeholder");
  if (flag == nullptr || !flag->is_bool() || !flag->as_bool()) return nullptr;
  static const json::value kMissing;
  const json::value* num = v.find("num");
  return num != nullptr ? num : &kMissing;
}

// Is num an index below count? (JSON may write it 1 or 1.0.)
std::optional<size_t> attachment_index(const json::value& num, size_t count) noexcept {
  if (num.is_int()) {
    if (num.as_int() < 0 || static_cast<uint64_t>(num.as_int()) >= count) return std::nullopt;
    return static_cast<size_t>(num.as_int());
  }
  if (num.is_double()) {
    const double d = num.as_double();
    if (!(d >= 0 && d < static_cast<double>(count)) || d != static_cast<double>(size_t(d))) {
      return std::nullopt;
    }
    return static_cast<size_t>(d);
  }
  return std::nullopt;
}

// Every placeholder must name one of the count attachments; checked on the text so a bad
// packet fails before its attachments are buffered.
bool placeholders_valid(const json::value& v, size_t count) noexcept {
  if (const json::value* num = placeholder_num(v)) {
    return attachment_index(*num, count).has_value();
  }
  if (v.is_array()) {
    for (const json::value& e : v.as_array()) {
      if (!placeholders_valid(e, count)) return false;
    }
  } else if (v.is_object()) {
    for (const json::member& m : v.as_object()) {
      if (!placeholders_valid(m.second, count)) return false;
    }
  }
  return true;
}

// socket.io-parser's reconstructPacket; placeholders were validated by placeholders_valid.
void replace_placeholders(json::value& v, const std::vector<json::binary_ptr>& attachments) {
  if (const json::value* num = placeholder_num(v)) {
    v = json::value(attachments[*attachment_index(*num, attachments.size())]);
    return;
  }
  if (v.is_array()) {
    for (json::value& e : v.as_array()) replace_placeholders(e, attachments);
  } else if (v.is_object()) {
    for (json::member& m : v.as_object()) replace_placeholders(m.second, attachments);
  }
}

// The packet text after the type: [<attachments>-][<nsp>,][<id>][<json>].
// Fills p in place (packets are moved around enough already).
tl::expected<void, decode_error> parse_text(std::string_view text, size_t& attachments,
                                            const decoder_options& options, packet& p) {
  if (text.empty()) return fail(decode_errc::empty_packet);
  if (text.size() > options.max_text_size) return fail(decode_errc::too_large);
  const std::optional<packet_type> type = packet_type_from_char(text[0]);
  if (!type) return fail(decode_errc::unknown_type);
  p.type = *type;
  size_t i = 1;

  attachments = 0;
  if (is_binary_type(p.type)) {
    const size_t start = i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      attachments = attachments * 10 + static_cast<size_t>(text[i] - '0');
      if (attachments > options.max_attachments) return fail(decode_errc::too_many_attachments);
    }
    if (i == start || i == text.size() || text[i] != '-' || attachments == 0) {
      return fail(decode_errc::bad_attachments);
    }
    ++i;
  }

  // The namespace runs to the first ',' or to the end ("41/admin" is a DISCONNECT from /admin).
  if (i < text.size() && text[i] == '/') {
    const size_t comma = text.find(',', i);
    const size_t end = comma == std::string_view::npos ? text.size() : comma;
    p.nsp.assign(text.data() + i, end - i);
    i = comma == std::string_view::npos ? end : comma + 1;
  }

  if (i < text.size() && is_digit(text[i])) {
    const size_t start = i;
    uint64_t id = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (i - start == kMaxAckIdDigits) return fail(decode_errc::bad_ack_id);
      id = id * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    if (id > kMaxAckId) return fail(decode_errc::bad_ack_id);
    p.id = id;
  }

  if (i < text.size()) {
    const std::string_view json_text = text.substr(i);
    json::parse_options json_options;
    json_options.max_depth = options.max_depth;
    json_options.max_size = options.max_text_size;
    auto data = json::parse(json_text, json_options);
    if (!data) {
      if (data.error().code == json::parse_errc::too_deep) return fail(decode_errc::too_deep);
      // "2admin,[...]": a ',' before anything that could open a payload ends a namespace that
      // lacks its '/'.
      const size_t first = json_text.find_first_of(",[{\"");
      if (first != std::string_view::npos && json_text[first] == ',') {
        return fail(decode_errc::bad_namespace);
      }
      return tl::unexpected(decode_error{decode_errc::invalid_json, data.error().message});
    }
    p.data = std::move(*data);
  }

  if (!is_payload_valid(p.type, p.data)) return fail(decode_errc::invalid_payload);
  if ((p.type == packet_type::ack || p.type == packet_type::binary_ack) && !p.id) {
    return fail(decode_errc::missing_ack_id);
  }
  if (attachments != 0 && !placeholders_valid(*p.data, attachments)) {
    return fail(decode_errc::bad_placeholder);
  }
  return {};
}

}  // namespace

const decoder_options decoder::kDefaultOptions{};

decoder::result decoder::feed_text(std::string_view text) {
  if (pending_) {
    reset();
    return fail(decode_errc::unexpected_text);
  }
  size_t attachments = 0;
  result r(tl::in_place, std::in_place);
  packet& p = **r;
  if (auto ok = parse_text(text, attachments, *options_, p); !ok) return tl::unexpected(ok.error());
  if (attachments == 0) return r;
  // socket.io-parser hands binary packets out as EVENT / ACK.
  p.type = p.type == packet_type::binary_event ? packet_type::event : packet_type::ack;
  pending_ = std::make_unique<partial>();
  pending_->p = std::move(p);
  pending_->expected = attachments;
  pending_->attachments.reserve(attachments);
  return std::optional<packet>();
}

decoder::result decoder::feed_binary(json::binary_ptr data) {
  if (!pending_) return fail(decode_errc::unexpected_binary);
  if (!data) data = std::make_shared<const std::vector<uint8_t>>();
  pending_->attachments.push_back(std::move(data));
  if (pending_->attachments.size() < pending_->expected) return std::optional<packet>();
  packet p = std::move(pending_->p);
  replace_placeholders(*p.data, pending_->attachments);
  reset();
  return std::optional<packet>(std::move(p));
}

void decoder::reset() noexcept { pending_.reset(); }

}  // namespace relay::socketio
