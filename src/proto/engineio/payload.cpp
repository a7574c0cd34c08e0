#include "proto/engineio/payload.hpp"

#include <cstring>
#include <optional>

#include "proto/engineio/base64.hpp"

namespace relay::engineio {
namespace {

// Calls f(record) for each '\x1e'-separated record of body, stopping when f returns false.
template <typename F>
void for_each_record(std::string_view body, F&& f) {
  const char* p = body.data();
  const char* const end = p + body.size();
  while (true) {
    const auto* sep = static_cast<const char*>(std::memchr(p, kRecordSeparator, end - p));
    const char* record_end = sep != nullptr ? sep : end;
    if (!f(std::string_view(p, record_end - p)) || sep == nullptr) return;
    p = sep + 1;
  }
}

size_t encoded_size(const packet_ref& p) {
  return 1 + (p.binary ? base64_encoded_size(p.data.size()) : p.data.size());
}

}  // namespace

tl::expected<decoded_payload, error> decode_payload(std::string_view body,
                                                    const payload_limits& limits) {
  if (body.size() > limits.max_payload) return tl::unexpected(error::payload_too_large);
  if (body.empty()) return tl::unexpected(error::empty_payload);

  // Pass 1: check the framing and size what pass 2 needs, so a hostile body is rejected
  // before anything is allocated and a good one costs two allocations.
  size_t count = 0;
  size_t binary_bound = 0;
  std::optional<error> failed;
  for_each_record(body, [&](std::string_view record) {
    if (++count > limits.max_packets) {
      failed = error::too_many_packets;
    } else if (record.empty()) {
      failed = error::empty_packet;
    } else if (record[0] == 'b') {
      binary_bound += base64_max_decoded_size(record.size() - 1);
    } else if (!packet_type_from_char(record[0])) {
      failed = error::bad_packet_type;
    }
    return !failed;
  });
  if (failed) return tl::unexpected(*failed);

  decoded_payload out;
  out.packets_.reserve(count);
  if (binary_bound != 0) out.binary_ = std::make_unique_for_overwrite<char[]>(binary_bound);
  char* next_binary = out.binary_.get();
  for_each_record(body, [&](std::string_view record) {
    if (record[0] != 'b') {
      out.packets_.push_back({*packet_type_from_char(record[0]), false, record.substr(1)});
      return true;
    }
    const std::optional<size_t> n =
        base64_decode(record.substr(1), next_binary, base64_line_breaks::skip);
    if (!n) {
      failed = error::bad_base64;
      return false;
    }
    out.packets_.push_back({packet_type::message, true, std::string_view(next_binary, *n)});
    next_binary += *n;
    return true;
  });
  if (failed) return tl::unexpected(*failed);
  return out;
}

void encode_packet(const packet_ref& p, std::string& out) {
  if (p.binary) {
    out.push_back('b');
    base64_encode(p.data, out);
  } else {
    out.push_back(to_char(p.type));
    out.append(p.data);
  }
}

void encode_payload(std::span<const packet_ref> packets, std::string& out) {
  if (packets.empty()) return;
  size_t total = packets.size() - 1;  // separators
  for (const packet_ref& p : packets) total += encoded_size(p);
  out.reserve(out.size() + total);
  for (size_t i = 0; i < packets.size(); ++i) {
    if (i != 0) out.push_back(kRecordSeparator);
    encode_packet(packets[i], out);
  }
}

}  // namespace relay::engineio
