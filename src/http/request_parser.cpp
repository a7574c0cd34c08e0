#include "http/request_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>

namespace relay::http {
namespace {

using namespace std::string_view_literals;

// RFC 9112 §2.2 asks servers to skip at least one empty line before a request line (some
// clients send a CRLF after a POST body); a handful is plenty, more is noise or an attack.
constexpr uint32_t kMaxEmptyLinesBeforeRequest = 4;
// 16 hex digits hold any 64-bit size; longer (zero-padded) sizes are not sent by real clients.
constexpr size_t kMaxChunkSizeDigits = 16;
// Chunk framing may exceed the decoded bytes by max_body_bytes plus this; see the header.
constexpr size_t kChunkFramingSlack = size_t{64} * 1024;

// Character classes, one bit each, looked up through one 256-entry table.
constexpr uint8_t kTchar = 1 << 0;   // RFC 9110 §5.6.2 token
constexpr uint8_t kField = 1 << 1;   // RFC 9110 §5.5 field-vchar / SP / HTAB
constexpr uint8_t kTarget = 1 << 2;  // request-target: visible ASCII or obs-text, no SP/CTL
constexpr uint8_t kHost = 1 << 3;    // RFC 3986 §3.2.2 host [":" port] characters
constexpr uint8_t kQdtext = 1 << 4;  // RFC 9110 §5.6.4 qdtext

constexpr std::array<uint8_t, 256> make_char_table() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    uint8_t bits = 0;
    if (alnum ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= kTchar;
    }
    // obs-text (0x80-0xFF) is allowed in values and targets; bytes are passed through.
    if (c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f)) bits |= kField;
    if (c >= 0x21 && c != 0x7f) bits |= kTarget;
    if (alnum || std::string_view("-._~!$&'()*+,;=:[]%").find(static_cast<char>(c)) !=
                     std::string_view::npos) {
      bits |= kHost;
    }
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
        (c >= 0x5d && c != 0x7f)) {
      bits |= kQdtext;
    }
    t[static_cast<size_t>(c)] = bits;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kChars = make_char_table();

constexpr bool has(char c, uint8_t cls) noexcept {
  return (kChars[static_cast<uint8_t>(c)] & cls) != 0;
}
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr size_t saturating_add(size_t a, size_t b) noexcept {
  return a > std::numeric_limits<size_t>::max() - b ? std::numeric_limits<size_t>::max() : a + b;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool all_of_class(std::string_view s, uint8_t cls) noexcept {
  for (const char c : s) {
    if (!has(c, cls)) return false;
  }
  return true;
}

// field-value bytes: HTAB, SP, VCHAR, obs-text; i.e. anything but controls other than HTAB,
// and DEL. Values are most of a head's bytes, so 8 are checked at a time: a word passes if no
// byte is below 0x20 and none is 0x7F (bit tricks from "Bit Twiddling Hacks", haszero /
// hasless); a word that fails is rechecked bytewise, since HTAB is legal.
bool valid_field_value(std::string_view v) noexcept {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  auto word_ok = [&](size_t at) {
    uint64_t w;
    std::memcpy(&w, v.data() + at, 8);
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
    const uint64_t x = w ^ (kOnes * 0x7f);
    const uint64_t del = (x - kOnes) & ~x & kHighs;
    return (below_space | del) == 0 || all_of_class(v.substr(at, 8), kField);
  };
  if (v.size() < 8) return all_of_class(v, kField);
  for (size_t i = 0; i + 8 < v.size(); i += 8) {
    if (!word_ok(i)) return false;
  }
  return word_ok(v.size() - 8);  // the last, possibly overlapping, word
}

// True if every byte of `s` is in class `cls`; no early exit, so short strings of
// unpredictable length cost no branch misses beyond the loop's own.
bool all_of_class_branchless(std::string_view s, uint8_t cls) noexcept {
  uint8_t acc = cls;
  for (const char c : s) acc &= kChars[static_cast<uint8_t>(c)];
  return acc == cls;
}

// Offset of the first LF in [from, to), or `to` if there is none.
size_t find_lf(const char* p, size_t from, size_t to) noexcept {
  if (from >= to) return to;
  const void* lf = std::memchr(p + from, '\n', to - from);
  return lf == nullptr ? to : static_cast<size_t>(static_cast<const char*>(lf) - p);
}

// Calls f(element) for each element of a comma-separated list (RFC 9110 §5.6.1), trimmed of
// OWS; empty elements are passed too, the caller decides whether they are legal.
template <typename F>
void for_each_element(std::string_view list, F&& f) {
  while (true) {
    const size_t comma = list.find(',');
    f(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3). Single SPs only: the
// lenient whitespace parsing §3 permits is a known source of parser disagreement.
status parse_request_line(std::string_view line, request& req) noexcept {
  size_t i = 0;
  while (i < line.size() && has(line[i], kTchar)) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return status::bad_request;
  req.method = line.substr(0, i);

  const size_t target_start = ++i;
  while (i < line.size() && has(line[i], kTarget)) ++i;
  // Anything but SP here is a control character, DEL or a stray CR (RFC 9112 §3.2).
  if (i == target_start || i == line.size() || line[i] != ' ') return status::bad_request;
  const std::string_view target = line.substr(target_start, i - target_start);

  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
  const std::string_view version = line.substr(i + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/"sv || !is_digit(version[5]) ||
      version[6] != '.' || !is_digit(version[7])) {
    return status::bad_request;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return status::http_version_not_supported;
  }

  std::string_view path;
  std::string_view query;
  if (target.front() == '/') {  // origin-form (RFC 9112 §3.2.1)
    path = target;
  } else if (target == "*"sv) {  // asterisk-form (§3.2.4): OPTIONS only
    if (req.method != "OPTIONS"sv) return status::bad_request;
    path = target;
  } else {
    // absolute-form (§3.2.2): servers MUST accept it. Only http(s); the path component is
    // what routing needs, so `path` points at it.
    const size_t sep = target.find("://"sv);
    if (sep == std::string_view::npos) return status::bad_request;  // incl. authority-form
    const std::string_view scheme = target.substr(0, sep);
    if (!iequals(scheme, "http"sv) && !iequals(scheme, "https"sv)) return status::bad_request;
    const std::string_view rest = target.substr(sep + 3);
    const size_t authority_end = std::min(rest.find('/'), rest.find('?'));
    const std::string_view authority = rest.substr(0, authority_end);
    // RFC 9110 §4.2.1: an http URI with an empty host is invalid; §4.2.4: userinfo is to be
    // treated as an error.
    if (authority.empty() || !all_of_class(authority, kHost)) return status::bad_request;
    path =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  }
  // RFC 3986 §3.4: the query starts at the first '?'.
  if (const size_t q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path.empty()) path = "/"sv;  // absolute-form with an empty path (RFC 9112 §3.2.1)

  req.target = target;
  req.path = path;
  req.query = query;
  req.version_minor = version[7] - '0';
  return status::ok;
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). No whitespace is allowed
// before the colon (§5.1, a smuggling defense) and a line that starts with whitespace is
// obs-fold or junk after the start-line (§5.2, §2.2): both are rejected.
bool parse_field_line(std::string_view line, header_field& out) noexcept {
  const void* colon = std::memchr(line.data(), ':', line.size());
  if (colon == nullptr) return false;
  const auto i = static_cast<size_t>(static_cast<const char*>(colon) - line.data());
  if (i == 0 || !all_of_class_branchless(line.substr(0, i), kTchar)) return false;
  const std::string_view value = trim_ows(line.substr(i + 1));
  // NUL, CR, LF and other controls in a value are invalid (RFC 9110 §5.5).
  if (!valid_field_value(value)) return false;
  out.name = line.substr(0, i);
  out.value = value;
  return true;
}

// True if the line at `start` (bytes before `limit` available) cannot be a field line,
// request line or the empty line: those start with a tchar, or are exactly CRLF.
bool bad_line_start(const char* p, size_t start, size_t limit) noexcept {
  if (start >= limit) return false;
  if (p[start] == '\r') return start + 1 < limit && p[start + 1] != '\n';
  return !has(p[start], kTchar);
}

// Content-Length = 1*DIGIT; a list of identical values is accepted (RFC 9112 §6.3 item 5).
// Values beyond 64 bits saturate: they are over any body limit anyway.
bool parse_content_length(std::string_view value, bool& seen, uint64_t& length) noexcept {
  bool ok = true;
  for_each_element(value, [&](std::string_view e) {
    if (e.empty()) {
      ok = false;
      return;
    }
    uint64_t v = 0;
    for (const char c : e) {
      if (!is_digit(c)) {
        ok = false;
        return;
      }
      const auto d = static_cast<uint64_t>(c - '0');
      v = v > (std::numeric_limits<uint64_t>::max() - d) / 10 ? std::numeric_limits<uint64_t>::max()
                                                              : v * 10 + d;
    }
    if (seen && v != length) ok = false;  // differing values: framing is ambiguous
    seen = true;
    length = v;
  });
  return ok;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
// chunk-ext-val = token / quoted-string (RFC 9112 §7.1.1). Extensions are ignored, but they
// are validated so that no CR, LF or control byte can hide in a chunk line.
bool valid_chunk_ext(std::string_view s) noexcept {
  size_t i = 0;
  const size_t n = s.size();
  auto skip_bws = [&] {
    while (i < n && is_ows(s[i])) ++i;
  };
  auto token = [&] {
    const size_t start = i;
    while (i < n && has(s[i], kTchar)) ++i;
    return i > start;
  };
  while (i < n) {
    skip_bws();
    if (i == n || s[i] != ';') return false;
    ++i;
    skip_bws();
    if (!token()) return false;
    const size_t after_name = i;
    skip_bws();
    if (i == n || s[i] != '=') {
      i = after_name;  // no value: any BWS must lead to the next ';'
      continue;
    }
    ++i;
    skip_bws();
    if (i < n && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {  // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
          if (i == n || !has(s[i], kField)) return false;
          ++i;
        } else if (!has(c, kQdtext)) {
          return false;
        }
      }
      if (!closed) return false;
    } else if (!token()) {
      return false;
    }
  }
  return true;
}

}  // namespace

void request_parser::reset() noexcept { *this = request_parser(limits_); }

parse_result request_parser::fail(status s) noexcept {
  phase_ = phase::done;
  result_ = {parse_status::error, 0, s};
  return result_;
}

parse_result request_parser::parse(std::span<char> data, request& req) {
  if (phase_ == phase::done) return result_;
  // The parser keeps offsets into `data`; a shrinking buffer means the caller dropped bytes
  // it still needs, and continuing would read out of bounds.
  if (data.size() < size_seen_) return fail(status::internal_server_error);
  size_seen_ = data.size();

  // `req` holds views only if the whole head was scanned during this call: the buffer may
  // have moved since an earlier call, and the caller may have cleared `req`.
  bool head_fresh = phase_ == phase::start_line;
  if (phase_ == phase::start_line || phase_ == phase::headers) {
    const step s = scan_head(data, req);
    if (s == step::failed) return result_;
    if (s == step::need_more) return {};
    if (framing_ == framing::chunked) {
      phase_ = phase::chunk_size;
      line_start_ = scan_pos_ = body_out_ = head_end_;
    } else {
      phase_ = phase::body;
    }
  } else {
    head_fresh = false;
  }

  if (phase_ == phase::body) {
    // RFC 9112 §6.3: without Content-Length or chunked, a request has no body.
    if (data.size() - head_end_ < facts_.content_length) return {};
    const auto length = static_cast<size_t>(facts_.content_length);  // <= max_body_bytes
    return finish(data, req, head_fresh, head_end_ + length, length);
  }

  const step s = decode_chunked(data);
  if (s == step::failed) return result_;
  if (s == step::need_more) return {};
  return finish(data, req, head_fresh, line_start_, body_out_ - head_end_);
}

// Scans the head a line at a time, resuming where the previous call stopped; each line is
// validated and recorded as soon as its CRLF arrives, so errors surface without waiting for
// the rest of the head and a head that arrives whole is read once.
request_parser::step request_parser::scan_head(std::span<const char> data, request& req) {
  const char* const p = data.data();
  const size_t limit = std::min(data.size(), limits_.max_header_bytes);
  auto failed = [this](status s) {
    fail(s);
    return step::failed;
  };
  while (true) {
    // Every line of a head starts with a token (method or field name) or is an empty line:
    // judging the first bytes rejects TLS handshakes, binary, obs-fold and bare CRs at once
    // instead of after buffering up to the limit.
    if (bad_line_start(p, line_start_, limit)) return failed(status::bad_request);
    const size_t lf = find_lf(p, scan_pos_, limit);
    if (lf == limit) {
      scan_pos_ = limit;
      break;
    }
    // RFC 9112 §2.2: CRLF only; see the header for why a bare LF is not accepted.
    if (lf == line_start_ || p[lf - 1] != '\r') return failed(status::bad_request);
    const std::string_view line(p + line_start_, lf - 1 - line_start_);
    const size_t next = lf + 1;
    line_start_ = scan_pos_ = next;
    if (phase_ == phase::start_line) {
      if (line.empty()) {
        if (++empty_lines_ > kMaxEmptyLinesBeforeRequest) return failed(status::bad_request);
        continue;
      }
      req.clear();  // keeps the headers vector's capacity
      if (const status s = parse_request_line(line, req); s != status::ok) return failed(s);
      head_start_ = static_cast<size_t>(line.data() - p);
      version_minor_ = req.version_minor;
      phase_ = phase::headers;
      continue;
    }
    if (line.empty()) {
      head_end_ = next;
      if (const status s = finish_head(req); s != status::ok) return failed(s);
      return step::done;
    }
    if (++lines_ > limits_.max_headers) return failed(status::request_header_fields_too_large);
    header_field field;
    if (!parse_field_line(line, field)) return failed(status::bad_request);
    if (const status s = note_field(field); s != status::ok) return failed(s);
    req.headers.push_back(field);
  }
  // No blank line within the limit: more bytes cannot make the head fit (RFC 6585 §5).
  if (data.size() > limits_.max_header_bytes) {
    return failed(status::request_header_fields_too_large);
  }
  return step::need_more;
}

// Records what one header field means for framing and persistence. Switching on the name's
// length first keeps most fields to one comparison.
status request_parser::note_field(const header_field& field) noexcept {
  field_facts& f = facts_;
  switch (field.name.size()) {
    case 4:
      if (iequals(field.name, "host"sv)) {
        ++f.hosts;
        if (!all_of_class(field.value, kHost)) return status::bad_request;
      }
      break;
    case 10:
      if (iequals(field.name, "connection"sv)) {
        for_each_element(field.value, [&f](std::string_view token) {
          if (iequals(token, "close"sv)) f.connection_close = true;
          if (iequals(token, "keep-alive"sv)) f.connection_keep_alive = true;
        });
      }
      break;
    case 14:
      if (iequals(field.name, "content-length"sv) &&
          !parse_content_length(field.value, f.has_content_length, f.content_length)) {
        return status::bad_request;
      }
      break;
    case 17:
      if (iequals(field.name, "transfer-encoding"sv)) {
        // RFC 9110 §5.3: repeated lines form one list, in order.
        f.has_transfer_encoding = true;
        for_each_element(field.value, [&f](std::string_view coding) {
          if (coding.empty()) return;  // RFC 9110 §5.6.1: empty elements are ignored
          f.chunked_last = iequals(coding, "chunked"sv);
          ++(f.chunked_last ? f.chunked_codings : f.other_codings);
        });
      }
      break;
    default:
      break;
  }
  return status::ok;
}

// The head is complete: decide framing and persistence from the facts gathered.
status request_parser::finish_head(request& req) noexcept {
  const field_facts& f = facts_;
  // RFC 9112 §3.2: a 1.1 request lacking Host, or any request with more than one, gets 400
  // (two Hosts let a proxy and this server route one request differently).
  if (f.hosts > 1 || (version_minor_ == 1 && f.hosts == 0)) return status::bad_request;

  if (f.has_transfer_encoding) {
    // RFC 9112 §6.1: TE in HTTP/1.0 means faulty framing. §6.3: TE with Content-Length is a
    // smuggling attempt until proven otherwise; chunked not last leaves the length unknown
    // (MUST 400); chunked twice is invalid (§7).
    if (version_minor_ == 0 || f.has_content_length || f.chunked_codings != 1 || !f.chunked_last) {
      return status::bad_request;
    }
    // §6.1: an understood final chunked after codings we cannot undo (gzip, ...) -> 501.
    if (f.other_codings != 0) return status::not_implemented;
    framing_ = framing::chunked;
  } else if (f.has_content_length) {
    // Refused from the header alone, before any of the body is buffered.
    if (f.content_length > limits_.max_body_bytes) return status::payload_too_large;
    framing_ = f.content_length == 0 ? framing::none : framing::length;
  }
  // RFC 9112 §9.3: 1.1 is persistent unless "close"; 1.0 only with "keep-alive".
  keep_alive_ = !f.connection_close && (version_minor_ == 1 || f.connection_keep_alive);
  req.keep_alive = keep_alive_;
  req.chunked = framing_ == framing::chunked;
  return status::ok;
}

// Rebuilds `req` from the head's bytes, already validated by scan_head(), for a request whose
// head was scanned across several calls (the buffer may have moved, `req` may be cleared).
void request_parser::refill(std::span<const char> data, request& req) const {
  const char* const p = data.data();
  req.clear();
  size_t lf = find_lf(p, head_start_, head_end_);
  (void)parse_request_line({p + head_start_, lf - 1 - head_start_}, req);
  const size_t last = head_end_ - 2;  // the blank line's CR
  for (size_t pos = lf + 1; pos < last; pos = lf + 1) {
    lf = find_lf(p, pos, last);
    header_field field;
    (void)parse_field_line({p + pos, lf - 1 - pos}, field);
    req.headers.push_back(field);
  }
  req.keep_alive = keep_alive_;
  req.chunked = framing_ == framing::chunked;
}

// Decodes chunked framing (RFC 9112 §7.1) in place: chunk data is moved down to body_out_, so
// the body ends up contiguous right after the head. Resumable at every byte.
request_parser::step request_parser::decode_chunked(std::span<char> data) {
  char* const p = data.data();
  const size_t end = data.size();
  const size_t framing_allowance = saturating_add(limits_.max_body_bytes, kChunkFramingSlack);
  while (true) {
    switch (phase_) {
      case phase::chunk_size: {
        // chunk-size = 1*HEXDIG: judged on the first byte so junk fails fast.
        if (line_start_ < end && hex_value(p[line_start_]) < 0) {
          fail(status::bad_request);
          return step::failed;
        }
        const size_t lf = find_lf(p, scan_pos_, end);
        // Framing bytes consumed so far are exactly the gap between read and write positions.
        if (lf == end) {
          scan_pos_ = end;
          if (end - body_out_ > framing_allowance) {
            fail(status::payload_too_large);
            return step::failed;
          }
          return step::need_more;
        }
        if (lf + 1 - body_out_ > framing_allowance) {
          fail(status::payload_too_large);
          return step::failed;
        }
        if (lf == line_start_ || p[lf - 1] != '\r') {  // CRLF only, as in the head
          fail(status::bad_request);
          return step::failed;
        }
        const std::string_view line(p + line_start_, lf - 1 - line_start_);
        size_t digits = 0;
        uint64_t size = 0;
        while (digits < line.size() && hex_value(line[digits]) >= 0) {
          size = (size << 4) | static_cast<uint64_t>(hex_value(line[digits]));
          ++digits;
          if (digits > kMaxChunkSizeDigits) {
            fail(status::bad_request);
            return step::failed;
          }
        }
        if (!valid_chunk_ext(line.substr(digits))) {
          fail(status::bad_request);
          return step::failed;
        }
        // Refused on the size line, before the chunk's data is buffered.
        if (size > limits_.max_body_bytes - (body_out_ - head_end_)) {
          fail(status::payload_too_large);
          return step::failed;
        }
        line_start_ = scan_pos_ = lf + 1;
        if (size == 0) {  // last-chunk: the trailer section follows
          phase_ = phase::trailers;
          trailer_start_ = line_start_;
          lines_ = 0;
        } else {
          chunk_left_ = size;
          phase_ = phase::chunk_data;
        }
        break;
      }
      case phase::chunk_data: {
        const auto n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, end - line_start_));
        if (n != 0 && body_out_ != line_start_) std::memmove(p + body_out_, p + line_start_, n);
        body_out_ += n;
        line_start_ += n;
        chunk_left_ -= n;
        if (chunk_left_ != 0) return step::need_more;
        phase_ = phase::chunk_data_end;
        break;
      }
      case phase::chunk_data_end: {
        // chunk = chunk-size [chunk-ext] CRLF chunk-data CRLF: the CRLF is checked byte by
        // byte so a wrong byte fails as soon as it arrives.
        if (line_start_ == end) return step::need_more;
        if (p[line_start_] != '\r') {
          fail(status::bad_request);
          return step::failed;
        }
        if (line_start_ + 1 == end) return step::need_more;
        if (p[line_start_ + 1] != '\n') {
          fail(status::bad_request);
          return step::failed;
        }
        line_start_ = scan_pos_ = line_start_ + 2;
        phase_ = phase::chunk_size;
        break;
      }
      case phase::trailers: {
        // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2). Fields are
        // validated like headers and discarded: nothing here uses trailers.
        const size_t limit =
            std::min(end, saturating_add(trailer_start_, limits_.max_header_bytes));
        if (bad_line_start(p, line_start_, limit)) {
          fail(status::bad_request);
          return step::failed;
        }
        const size_t lf = find_lf(p, scan_pos_, limit);
        if (lf == limit) {
          scan_pos_ = limit;
          if (end - trailer_start_ > limits_.max_header_bytes) {
            fail(status::request_header_fields_too_large);
            return step::failed;
          }
          return step::need_more;
        }
        if (lf == line_start_ || p[lf - 1] != '\r') {
          fail(status::bad_request);
          return step::failed;
        }
        const std::string_view line(p + line_start_, lf - 1 - line_start_);
        line_start_ = scan_pos_ = lf + 1;
        if (line.empty()) return step::done;
        header_field ignored;
        if (++lines_ > limits_.max_headers) {
          fail(status::request_header_fields_too_large);
          return step::failed;
        }
        if (!parse_field_line(line, ignored)) {
          fail(status::bad_request);
          return step::failed;
        }
        break;
      }
      default:
        return step::failed;  // unreachable: only chunked phases come here
    }
  }
}

parse_result request_parser::finish(std::span<char> data, request& req, bool head_fresh,
                                    size_t consumed, size_t body_size) {
  if (!head_fresh) refill(data, req);
  req.body =
      body_size == 0 ? std::string_view{} : std::string_view(data.data() + head_end_, body_size);
  phase_ = phase::done;
  result_ = {parse_status::complete, consumed, status::ok};
  return result_;
}

}  // namespace relay::http
