#include "bench/http_response_reader.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "http/request.hpp"

namespace relay::bench {
namespace {

constexpr size_t kMaxLine = 4096;

using http::iequals;  // ASCII case-insensitive, as HTTP compares header names

// Does the comma-separated list `value` hold `token` (case-insensitive)?
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

void http_response_reader::reset() noexcept {
  state_ = state::head;
  head_.clear();
  line_.clear();
  remaining_ = 0;
  pending_ = {};
}

// Gathers one CRLF- (or LF-) terminated line into *line across calls.
bool http_response_reader::take_line(std::span<const uint8_t>& in, std::string* line,
                                     bool* complete) {
  const auto* begin = in.data();
  const auto* nl = std::find(begin, begin + in.size(), uint8_t{'\n'});
  const size_t n = static_cast<size_t>(nl - begin);
  line->append(reinterpret_cast<const char*>(begin), n);
  *complete = nl != begin + in.size();
  in = in.subspan(*complete ? n + 1 : n);
  if (*complete && !line->empty() && line->back() == '\r') line->pop_back();
  return line->size() <= kMaxLine;
}

http_read_status http_response_reader::feed(std::span<const uint8_t>& in) {
  while (true) {
    switch (state_) {
      case state::failed:
        return http_read_status::error;
      case state::head: {
        // Up to the blank line that ends the head (RFC 9112 §2.1).
        const std::string_view data(reinterpret_cast<const char*>(in.data()), in.size());
        const size_t old = head_.size();
        head_.append(data);
        size_t end = head_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
        size_t sep = 4;
        if (end == std::string::npos) {
          end = head_.find("\n\n", old >= 1 ? old - 1 : 0);
          sep = 2;
        }
        if (end == std::string::npos) {
          in = in.subspan(in.size());
          if (head_.size() > kMaxHead) {
            state_ = state::failed;
            return http_read_status::error;
          }
          return http_read_status::need_more;
        }
        const size_t used = end + sep - old;  // bytes of `in` that belong to the head
        in = in.subspan(used);
        head_.resize(end);
        const http_read_status s = parse_head();
        head_.clear();
        if (s != http_read_status::need_more) return s;
        break;  // a body follows, or a 1xx was skipped
      }
      case state::body_length: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ > 0) return http_read_status::need_more;
        return finish();
      }
      case state::body_until_close:
        in = in.subspan(in.size());
        return http_read_status::need_more;
      case state::chunk_size: {
        bool complete = false;
        if (!take_line(in, &line_, &complete)) {
          state_ = state::failed;
          return http_read_status::error;
        }
        if (!complete) return http_read_status::need_more;
        std::string_view size_text = line_;
        size_text = trim(size_text.substr(0, size_text.find(';')));  // chunk extensions
        uint64_t size = 0;
        const auto [end, ec] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size()) {
          state_ = state::failed;
          return http_read_status::error;
        }
        line_.clear();
        remaining_ = size;
        state_ = size == 0 ? state::trailer : state::chunk_data;
        break;
      }
      case state::chunk_data: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        in = in.subspan(take);
        remaining_ -= take;
        if (remaining_ > 0) return http_read_status::need_more;
        state_ = state::chunk_data_end;
        break;
      }
      case state::chunk_data_end: {
        bool complete = false;
        if (!take_line(in, &line_, &complete)) {
          state_ = state::failed;
          return http_read_status::error;
        }
        if (!complete) return http_read_status::need_more;
        if (!line_.empty()) {  // the CRLF right after the chunk's data
          state_ = state::failed;
          return http_read_status::error;
        }
        state_ = state::chunk_size;
        break;
      }
      case state::trailer: {
        bool complete = false;
        if (!take_line(in, &line_, &complete)) {
          state_ = state::failed;
          return http_read_status::error;
        }
        if (!complete) return http_read_status::need_more;
        const bool last = line_.empty();  // trailer fields end with an empty line
        line_.clear();
        if (last) return finish();
        break;
      }
    }
    if (in.empty()) return http_read_status::need_more;
  }
}

http_read_status http_response_reader::on_eof() {
  if (state_ == state::body_until_close) return finish();
  return in_progress() ? (state_ = state::failed, http_read_status::error)
                       : http_read_status::need_more;
}

http_read_status http_response_reader::finish() {
  response_ = pending_;
  pending_ = {};
  state_ = state::head;
  remaining_ = 0;
  return http_read_status::response;
}

http_read_status http_response_reader::parse_head() {
  std::string_view head = head_;
  // Status line: HTTP/1.x SP 3DIGIT SP reason (RFC 9112 §4).
  const size_t eol = head.find('\n');
  std::string_view status_line = trim(head.substr(0, eol));
  head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    state_ = state::failed;
    return http_read_status::error;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') {
      state_ = state::failed;
      return http_read_status::error;
    }
    status = status * 10 + (status_line[i] - '0');
  }
  const bool http10 = status_line[7] == '0';
  bool chunked = false, has_length = false, close = false, keep_alive = false;
  uint64_t length = 0;
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      state_ = state::failed;
      return http_read_status::error;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      uint64_t v = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      // Two different lengths are a framing error (RFC 9112 §6.3, item 5).
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
          (has_length && v != length)) {
        state_ = state::failed;
        return http_read_status::error;
      }
      has_length = true;
      length = v;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = has_token(value, "chunked");
    } else if (iequals(name, "connection")) {
      close |= has_token(value, "close");
      keep_alive |= has_token(value, "keep-alive");
    }
  }
  if (status < 200) return http_read_status::need_more;  // 1xx: the final answer follows
  pending_.status = status;
  pending_.keep_alive = http10 ? keep_alive && !close : !close;
  if (status == 204 || status == 304) return finish();
  if (chunked) {
    state_ = state::chunk_size;
  } else if (has_length) {
    if (length == 0) return finish();
    remaining_ = length;
    state_ = state::body_length;
  } else {
    pending_.keep_alive = false;  // the end of the body is the end of the connection
    state_ = state::body_until_close;
  }
  return http_read_status::need_more;
}

}  // namespace relay::bench
