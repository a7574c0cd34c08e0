#include "ws/permessage_deflate.hpp"

// zlib's next_in is const-correct with this; it changes no ABI.
#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstring>
#include <new>

#include "http/request.hpp"

namespace relay::ws {
namespace {

using namespace std::string_view_literals;
using http::iequals;

constexpr int kMinWindowBits = 8;
constexpr int kMaxWindowBits = 15;

// RFC 7692 §7.2.1: a sync flush ends with an empty stored block whose LEN/NLEN are these four
// octets; the sender strips them and the receiver appends them again (§7.2.2).
constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};

// zlib counts in uInt; bigger buffers are fed in pieces.
constexpr size_t kMaxZlibChunk = UINT_MAX;

// First output buffer for a message when nothing better is known. Compressed chat traffic
// inflates by 2-5x, so most messages need one zlib call.
constexpr size_t kMinFirstChunk = 256;

int clamp_window_bits(int bits) noexcept {
  return std::clamp(bits, kMinWindowBits, kMaxWindowBits);
}

// ---- Sec-WebSocket-Extensions parsing (RFC 6455 §9.1, RFC 9110 §5.6) ----

constexpr bool is_tchar(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         "!#$%&'*+-.^_`|~"sv.find(c) != std::string_view::npos;
}

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 9110 §5.6.4: qdtext and the octets a quoted-pair may escape.
constexpr bool is_qdtext(unsigned char c) noexcept {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}
constexpr bool is_quotable(unsigned char c) noexcept {
  return c == '\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
}

// A parameter value after quoted-string unescaping. Only the window-bits values are ever
// read, and those are at most two digits, so longer values keep just their length.
struct param_value {
  bool present = false;
  size_t size = 0;
  char text[2] = {};

  void push(char c) noexcept {
    if (size < sizeof(text)) text[size] = c;
    ++size;
  }
};

// RFC 7692 §7.1.2.1/§7.1.2.2: "a decimal integer value without leading zeroes between 8 to
// 15, inclusive"; after unescaping a quoted-string the same rule applies (§7.1). 0: invalid.
int parse_window_bits(const param_value& v) noexcept {
  if (v.size == 1 && v.text[0] >= '8' && v.text[0] <= '9') return v.text[0] - '0';
  if (v.size == 2 && v.text[0] == '1' && v.text[1] >= '0' && v.text[1] <= '5') {
    return 10 + (v.text[1] - '0');
  }
  return 0;
}

// One permessage-deflate offer, as read.
struct offer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  // 0: absent
  bool client_max_window_bits_present = false;
  int client_max_window_bits = 0;  // 0: present without a value
  bool declined = false;
};

// Applies one parameter to the offer; RFC 7692 §7: an unknown parameter, a duplicate, or an
// invalid value makes the server decline the offer.
void apply_param(offer& o, std::string_view name, const param_value& v) noexcept {
  if (iequals(name, "server_no_context_takeover"sv)) {
    if (o.server_no_context_takeover || v.present) o.declined = true;
    o.server_no_context_takeover = true;
  } else if (iequals(name, "client_no_context_takeover"sv)) {
    if (o.client_no_context_takeover || v.present) o.declined = true;
    o.client_no_context_takeover = true;
  } else if (iequals(name, "server_max_window_bits"sv)) {
    // §7.1.2.1: the value is required in an offer.
    const int bits = v.present ? parse_window_bits(v) : 0;
    if (o.server_max_window_bits != 0 || bits == 0) o.declined = true;
    o.server_max_window_bits = bits == 0 ? kMaxWindowBits : bits;
  } else if (iequals(name, "client_max_window_bits"sv)) {
    // §7.1.2.2: the value is optional in an offer.
    const int bits = v.present ? parse_window_bits(v) : 0;
    if (o.client_max_window_bits_present || (v.present && bits == 0)) o.declined = true;
    o.client_max_window_bits_present = true;
    o.client_max_window_bits = bits;
  } else {
    o.declined = true;
  }
}

// Turns an acceptable offer into the agreed parameters and the response header value.
deflate_params accept_offer(const offer& o, const deflate_config& config, std::string& response) {
  const int server_limit = clamp_window_bits(config.server_max_window_bits);
  const int client_limit = clamp_window_bits(config.max_client_window_bits);
  deflate_params p;
  response.assign("permessage-deflate"sv);

  // §7.1.1.1: accepting an offer with server_no_context_takeover means echoing it; the server
  // may also add it unasked.
  p.server_no_context_takeover = o.server_no_context_takeover || config.server_no_context_takeover;
  if (p.server_no_context_takeover) response.append("; server_no_context_takeover"sv);

  // §7.1.1.2: the client's parameter is a hint the server may echo, and the server may send it
  // unasked. Echoing it lets the inflater reset per message instead of keeping the window.
  p.client_no_context_takeover = o.client_no_context_takeover || config.client_no_context_takeover;
  if (p.client_no_context_takeover) response.append("; client_no_context_takeover"sv);

  // §7.1.2.1: an offered server_max_window_bits is accepted by answering with the same or a
  // smaller value; without one the server may still announce a smaller window.
  p.server_max_window_bits = o.server_max_window_bits != 0
                                 ? std::min(o.server_max_window_bits, server_limit)
                                 : server_limit;
  if (o.server_max_window_bits != 0 || p.server_max_window_bits < kMaxWindowBits) {
    response.append("; server_max_window_bits="sv);
    response.append(std::to_string(p.server_max_window_bits));
  }

  // §7.1.2.2: the server may only answer client_max_window_bits if the client offered it; an
  // offered value is a promise that the client stays at or below it either way.
  if (o.client_max_window_bits_present) {
    const int offered = o.client_max_window_bits != 0 ? o.client_max_window_bits : kMaxWindowBits;
    p.client_max_window_bits = std::min(offered, client_limit);
    response.append("; client_max_window_bits="sv);
    response.append(std::to_string(p.client_max_window_bits));
  } else {
    p.client_max_window_bits = kMaxWindowBits;
  }
  return p;
}

// Reads the extension list left to right. Grammar (RFC 6455 §9.1 with the list rules of
// RFC 9110 §5.6.1, which allow empty elements, and BWS around "="):
//   list  = [ ext ] *( OWS "," OWS [ ext ] )
//   ext   = token *( OWS ";" OWS param )
//   param = token [ BWS "=" BWS ( token / quoted-string ) ]
class extension_reader {
 public:
  explicit extension_reader(std::string_view s) noexcept : s_(s) {}

  // Returns the agreed params of the first acceptable offer, or nullopt if there is none or
  // the header is malformed anywhere (a header we cannot read is not one we answer).
  std::optional<deflate_params> negotiate(const deflate_config& config, std::string& response) {
    std::optional<deflate_params> agreed;
    while (true) {
      skip_ows();
      if (at_end()) break;
      if (peek() == ',') {
        ++pos_;  // an empty list element
        continue;
      }
      const std::string_view name = token();
      if (name.empty()) return std::nullopt;
      const bool is_deflate = iequals(name, "permessage-deflate"sv);
      offer o;
      skip_ows();
      while (!at_end() && peek() == ';') {
        ++pos_;
        skip_ows();
        const std::string_view param = token();
        if (param.empty()) return std::nullopt;
        skip_ows();
        param_value v;
        if (!at_end() && peek() == '=') {
          ++pos_;
          skip_ows();
          if (!value(v)) return std::nullopt;
          skip_ows();
        }
        if (is_deflate) apply_param(o, param, v);
      }
      if (!at_end()) {
        if (peek() != ',') return std::nullopt;
        ++pos_;
      }
      // Offers are in the client's order of preference (RFC 7692 §5): take the first we can.
      if (is_deflate && !o.declined && !agreed) agreed = accept_offer(o, config, response);
    }
    return agreed;
  }

 private:
  bool at_end() const noexcept { return pos_ >= s_.size(); }
  char peek() const noexcept { return s_[pos_]; }

  void skip_ows() noexcept {
    while (!at_end() && is_ows(peek())) ++pos_;
  }

  std::string_view token() noexcept {
    const size_t start = pos_;
    while (!at_end() && is_tchar(peek())) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // token / quoted-string; false on a syntax error.
  bool value(param_value& v) noexcept {
    v.present = true;
    if (!at_end() && peek() == '"') {
      ++pos_;
      while (!at_end()) {
        const auto c = static_cast<unsigned char>(s_[pos_++]);
        if (c == '"') return true;
        if (c == '\\') {
          if (at_end() || !is_quotable(static_cast<unsigned char>(peek()))) return false;
          v.push(s_[pos_++]);
        } else if (is_qdtext(c)) {
          v.push(static_cast<char>(c));
        } else {
          return false;
        }
      }
      return false;  // unterminated
    }
    const std::string_view t = token();
    for (const char c : t) v.push(c);
    return !t.empty();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Output grows by doubling up to `limit`; returns the new buffer size.
size_t next_output_size(size_t current, size_t first, size_t limit) noexcept {
  if (current == 0) return std::min(first, limit);
  return current >= limit / 2 ? limit : std::min(current * 2, limit);
}

}  // namespace

std::optional<deflate_params> negotiate_deflate(std::string_view extensions_header,
                                                const deflate_config& config,
                                                std::string& response) {
  response.clear();
  if (!config.enabled) return std::nullopt;
  std::optional<deflate_params> agreed =
      extension_reader(extensions_header).negotiate(config, response);
  if (!agreed) response.clear();
  return agreed;
}

// ---- inflater ----

struct inflater::impl {
  explicit impl(int window_bits) {
    // Negative window bits: a raw DEFLATE stream, no zlib header or checksum (RFC 7692 §7.2).
    if (inflateInit2(&strm, -window_bits) != Z_OK) throw std::bad_alloc();
  }
  ~impl() { inflateEnd(&strm); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  z_stream strm{};
  bool used = false;      // inflated since the last reset
  bool ended = false;     // the stream ended with a BFINAL block; restart before more input
  bool poisoned = false;  // the shared window is lost: every later message is corrupt
  std::unique_ptr<uint8_t[]> window_copy;  // only for BFINAL restarts
};

namespace {

// A DEFLATE stream is over after a block with BFINAL set, but RFC 7692 §7.2.3.4 lets a sender
// flush that way and keep going (the next octets, or the next message with context takeover,
// may still reference earlier data). zlib cannot continue past the end, so start a new raw
// stream primed with the old window. Costs two copies of the window, at most 2 x 32 KiB.
void restart_keeping_window(z_stream& strm, std::unique_ptr<uint8_t[]>& copy, int window_bits) {
  if (!copy) copy = std::make_unique_for_overwrite<uint8_t[]>(size_t{1} << window_bits);
  uInt size = 0;
  inflateGetDictionary(&strm, copy.get(), &size);
  inflateReset(&strm);
  if (size > 0) inflateSetDictionary(&strm, copy.get(), size);
}

}  // namespace

inflater::inflater(int window_bits, bool no_context_takeover) noexcept
    : window_bits_(static_cast<int8_t>(clamp_window_bits(window_bits))),
      no_context_takeover_(no_context_takeover) {}

inflater::~inflater() = default;

inflate_status inflater::inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                 size_t max_size) {
  out.clear();
  if (impl_ && impl_->poisoned) return inflate_status::corrupt;
  // A zero-length payload carries no block at all; reading it as an empty message leaves the
  // stream where the sender's is (some senders emit it for empty messages instead of 0x00).
  if (in.empty()) return inflate_status::ok;
  if (!impl_) impl_ = std::make_unique<impl>(window_bits_);
  impl& z = *impl_;
  z_stream& strm = z.strm;

  if (no_context_takeover_) {
    // RFC 7692 §7.2.2: without context takeover each message starts with an empty window.
    if (z.used) inflateReset(&strm);
    z.ended = false;
  } else if (z.ended) {
    restart_keeping_window(strm, z.window_copy, window_bits_);
    z.ended = false;
  }
  z.used = true;

  const auto fail = [&](inflate_status s) {
    out.clear();
    // The peer's window now differs from ours; only a fresh stream could recover.
    if (!no_context_takeover_) z.poisoned = true;
    return s;
  };

  // Output never grows beyond max_size + 1 octets: one more than allowed proves "too big"
  // without inflating further.
  const size_t limit = max_size == SIZE_MAX ? SIZE_MAX : max_size + 1;
  const size_t first_chunk =
      std::max(kMinFirstChunk, in.size() <= SIZE_MAX / 4 ? in.size() * 4 : in.size());

  // The payload (in pieces zlib can count), then the tail of §7.2.2.
  std::span<const uint8_t> rest = in;
  bool feeding_tail = false;
  const auto feed = [&]() noexcept {
    if (!rest.empty()) {
      const size_t n = std::min(rest.size(), kMaxZlibChunk);
      strm.next_in = rest.data();
      strm.avail_in = static_cast<uInt>(n);
      rest = rest.subspan(n);
      return true;
    }
    if (feeding_tail) return false;
    feeding_tail = true;
    strm.next_in = kTail;
    strm.avail_in = sizeof(kTail);
    return true;
  };
  feed();

  size_t produced = 0;
  strm.avail_out = 0;
  bool restarted = false;
  while (true) {
    if (strm.avail_out == 0) {
      // Here produced <= max_size < limit, so there is room to grow.
      if (produced == out.size()) {
        const size_t size = next_output_size(out.size(), first_chunk, limit);
        // Exactly what the schedule asks for: vector's own doubling could overshoot the
        // limit by 2x.
        if (size > out.capacity()) out.reserve(size);
        out.resize(size);
      }
      strm.next_out = out.data() + produced;
      strm.avail_out = static_cast<uInt>(std::min(out.size() - produced, kMaxZlibChunk));
    }
    const uInt room = strm.avail_out;
    const int rc = ::inflate(&strm, Z_SYNC_FLUSH);
    produced += room - strm.avail_out;
    if (produced > max_size) return fail(inflate_status::too_big);

    if (rc == Z_STREAM_END) {
      const bool payload_left = !feeding_tail && (strm.avail_in > 0 || !rest.empty());
      if (!payload_left) {
        // The message ended with a BFINAL block; the tail (or what is left of it) is not
        // DEFLATE data. The next message needs a new stream.
        z.ended = true;
        break;
      }
      // §7.2.3.4: BFINAL block, then more blocks of the same message (e.g. the 0x00 that
      // starts the empty stored block). One such restart per message is what a sender
      // flushing with BFINAL produces; more would only make us copy windows for nothing.
      if (restarted) return fail(inflate_status::corrupt);
      restarted = true;
      restart_keeping_window(strm, z.window_copy, window_bits_);
      continue;
    }
    if (rc == Z_MEM_ERROR) {
      fail(inflate_status::corrupt);
      throw std::bad_alloc();
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(inflate_status::corrupt);  // Z_DATA_ERROR

    if (strm.avail_out == 0) continue;  // output full: more may be pending
    // zlib stopped with output room left, so it needs input.
    if (strm.avail_in > 0) return fail(inflate_status::corrupt);  // no progress; cannot happen
    if (!feed()) {
      // §7.2.1: a message ends where the sender's sync flush ended, on a block boundary
      // (zlib sets bit 7 of data_type when waiting for a block header). Anything else is a
      // truncated message whose tail was decoded as block contents.
      if ((strm.data_type & 128) == 0) return fail(inflate_status::corrupt);
      break;
    }
  }
  out.resize(produced);
  return inflate_status::ok;
}

// ---- deflater ----

struct deflater::impl {
  impl(int window_bits, int level, int mem_level) {
    if (deflateInit2(&strm, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      throw std::bad_alloc();  // the arguments are clamped: only Z_MEM_ERROR remains
    }
  }
  ~impl() { deflateEnd(&strm); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  z_stream strm{};
  bool used = false;  // deflated since the last reset
};

deflater::deflater(int window_bits, bool no_context_takeover, int level, int mem_level) noexcept
    // zlib rejects a raw stream with 8 window bits and would silently use 9 for zlib streams;
    // 9 is safe for a peer limited to 8 because zlib never emits a distance beyond
    // 2^9 - 262 = 250 octets (MAX_DIST in deflate.h), inside the peer's 256-octet window.
    : window_bits_(static_cast<int8_t>(std::max(clamp_window_bits(window_bits), 9))),
      level_(static_cast<int8_t>(std::clamp(level, 0, 9))),
      mem_level_(static_cast<int8_t>(std::clamp(mem_level, 1, 9))),
      no_context_takeover_(no_context_takeover) {}

deflater::~deflater() = default;

void deflater::deflate(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  // §7.2.3.6: an empty message is the single octet 0x00 (an empty stored block once the
  // receiver appends the tail). Calling zlib here would not work: a second sync flush with no
  // input in between produces nothing (Z_BUF_ERROR). The stream stays on a block boundary, so
  // with or without context takeover the next message is unaffected.
  if (in.empty()) {
    out.push_back(0x00);
    return;
  }
  if (!impl_) impl_ = std::make_unique<impl>(window_bits_, level_, mem_level_);
  impl& z = *impl_;
  z_stream& strm = z.strm;
  // RFC 7692 §7.2.1: without context takeover every message starts with an empty window.
  if (no_context_takeover_ && z.used) deflateReset(&strm);
  z.used = true;

  // Sized for the whole message up front (deflateBound covers incompressible data; the sync
  // flush adds at most an empty stored block and a partial byte), so one zlib call is usual.
  size_t at = out.size();
  const uLong bound_in = in.size() > ULONG_MAX ? ULONG_MAX : static_cast<uLong>(in.size());
  out.resize(at + deflateBound(&strm, bound_in) + 8);
  strm.avail_out = 0;

  std::span<const uint8_t> rest = in;
  do {
    const size_t n = std::min(rest.size(), kMaxZlibChunk);
    strm.next_in = rest.data();
    strm.avail_in = static_cast<uInt>(n);
    rest = rest.subspan(n);
    const int flush = rest.empty() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    while (true) {
      if (strm.avail_out == 0) {
        if (at == out.size()) out.resize(out.size() + std::max<size_t>(out.size() / 2, 64));
        strm.next_out = out.data() + at;
        strm.avail_out = static_cast<uInt>(std::min(out.size() - at, kMaxZlibChunk));
      }
      const uInt room = strm.avail_out;
      // Only Z_OK or Z_BUF_ERROR (no progress, when called with no room) are possible on a
      // valid stream with valid arguments; both are handled by the room check.
      ::deflate(&strm, flush);
      at += room - strm.avail_out;
      // Room left over means the input is consumed and, for a sync flush, fully flushed.
      if (strm.avail_out != 0) break;
    }
  } while (!rest.empty());

  // The sync flush ended with the empty stored block; drop its LEN/NLEN (§7.2.1).
  assert(at >= sizeof(kTail) &&
         std::memcmp(out.data() + at - sizeof(kTail), kTail, sizeof(kTail)) == 0);
  out.resize(at - sizeof(kTail));
}

}  // namespace relay::ws
