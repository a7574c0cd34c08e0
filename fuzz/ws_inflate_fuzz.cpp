// Fuzzes RFC 7692 permessage-deflate (src/ws/permessage_deflate) and the RFC 6455 opening
// handshake (src/ws/handshake). Byte 0 picks the mode:
//   0  Sec-WebSocket-Extensions negotiation: byte 1-2 the server config, the rest the header.
//   1  inflate of arbitrary bytes: byte 1 window bits / context takeover, byte 2 the size
//      limit, the rest a sequence of length-prefixed messages through one inflater. Checked
//      against plain zlib wherever plain zlib's answer is well defined.
//   2  round trip: byte 1-2 the deflater settings, the rest length-prefixed messages that
//      must come back unchanged, fit the exact size limit and (at 8 window bits) never
//      reference beyond a 256-octet window.
//   3  accept_handshake over a request built from "name: value" lines.
// Any broken invariant traps.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "ws/handshake.hpp"
#include "ws/permessage_deflate.hpp"

namespace {

using relay::ws::deflate_config;
using relay::ws::deflate_params;
using relay::ws::deflater;
using relay::ws::inflate_status;
using relay::ws::inflater;
using bytes = std::vector<uint8_t>;

constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
// The reference inflater gives up beyond this (bombs are the code under test's problem).
constexpr size_t kReferenceCap = 1 << 20;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

// Splits the input into messages, each preceded by a length octet; 0xff takes the rest.
class message_reader {
 public:
  explicit message_reader(std::span<const uint8_t> in) : in_(in) {}
  std::optional<std::span<const uint8_t>> next() {
    if (in_.empty()) return std::nullopt;
    const size_t want = in_[0] == 0xff ? in_.size() : in_[0];
    in_ = in_.subspan(1);
    const size_t n = std::min(want, in_.size());
    const std::span<const uint8_t> m = in_.first(n);
    in_ = in_.subspan(n);
    return m;
  }

 private:
  std::span<const uint8_t> in_;
};

// ---- mode 0: negotiation ----

void fuzz_negotiation(uint8_t a, uint8_t b, std::string_view header) {
  deflate_config config;
  config.enabled = (b & 0x80) == 0;
  config.server_no_context_takeover = a & 1;
  config.client_no_context_takeover = a & 2;
  config.server_max_window_bits = 6 + ((a >> 2) & 15);  // 6..21: clamping is exercised
  config.max_client_window_bits = 6 + (b & 15);
  std::string response;
  const std::optional<deflate_params> p = relay::ws::negotiate_deflate(header, config, response);
  if (!p) {
    check(response.empty(), "declined with a response");
    return;
  }
  check(config.enabled, "negotiated while disabled");
  check(response.starts_with("permessage-deflate"), "response names the extension");
  check(p->server_max_window_bits >= 8 && p->server_max_window_bits <= 15, "server bits range");
  check(p->client_max_window_bits >= 8 && p->client_max_window_bits <= 15, "client bits range");
  check(p->server_max_window_bits <= std::clamp(config.server_max_window_bits, 8, 15),
        "server bits above config");
  check(!config.server_no_context_takeover || p->server_no_context_takeover, "forced snct lost");
  check(!config.client_no_context_takeover || p->client_no_context_takeover, "forced cnct lost");
  std::string lower(header);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  check(lower.find("permessage-deflate") != std::string::npos, "accepted without an offer");
  // The answer is itself an acceptable offer with the same outcome.
  std::string again;
  const std::optional<deflate_params> q = relay::ws::negotiate_deflate(response, config, again);
  check(q.has_value() && again == response, "response does not renegotiate to itself");
  check(q->server_no_context_takeover == p->server_no_context_takeover &&
            q->client_no_context_takeover == p->client_no_context_takeover &&
            q->server_max_window_bits == p->server_max_window_bits &&
            q->client_max_window_bits == p->client_max_window_bits,
        "renegotiated params differ");
}

// ---- mode 1: inflate ----

// Plain zlib fed exactly what RFC 7692 §7.2.2 says (payload + tail, inflate, with the window
// kept or reset). Its answer is "known" only in the simple case: no error, no end of stream,
// ending on a block boundary, under the cap. Once unknown with context takeover, it stays so.
class reference_inflater {
 public:
  reference_inflater(int bits, bool nct) : nct_(nct) { inflateInit2(&z_, -bits); }
  ~reference_inflater() { inflateEnd(&z_); }

  // nullopt: no well-defined answer.
  std::optional<bytes> inflate(std::span<const uint8_t> payload) {
    if (lost_) return std::nullopt;
    if (nct_) inflateReset(&z_);
    bytes in(payload.begin(), payload.end());
    in.insert(in.end(), kTail, kTail + 4);
    bytes out(kReferenceCap);
    z_.next_in = in.data();
    z_.avail_in = static_cast<uInt>(in.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
    const bool clean = (rc == Z_OK || rc == Z_BUF_ERROR) && z_.avail_in == 0 && z_.avail_out > 0 &&
                       (z_.data_type & 128) != 0;
    if (!clean) {
      lost_ = !nct_;
      return std::nullopt;
    }
    out.resize(out.size() - z_.avail_out);
    return out;
  }

  // After a failure of the code under test the two windows differ (or ours is gone).
  void forget() { lost_ = !nct_; }

 private:
  z_stream z_{};
  bool nct_;
  bool lost_ = false;
};

void fuzz_inflate(uint8_t a, uint8_t b, std::span<const uint8_t> rest) {
  const int bits = 8 + (a & 7);
  const bool nct = a & 8;
  const size_t max_size = b < 240 ? size_t{b} * 17 : size_t{1} << (b - 224);  // up to 2^31
  inflater in(bits, nct);
  reference_inflater ref(bits, nct);
  bool failed_before = false;
  bytes out;
  message_reader messages(rest);
  for (int i = 0; i < 64; ++i) {
    const auto m = messages.next();
    if (!m) break;
    const inflate_status st = in.inflate(*m, out, max_size);
    check(out.size() <= max_size, "output above the limit");
    if (st != inflate_status::ok) check(out.empty(), "output left after a failure");
    if (failed_before && !nct) check(st == inflate_status::corrupt, "poisoned stream revived");
    if (m->empty()) {
      check(st == inflate_status::ok || failed_before, "empty payload not an empty message");
      continue;
    }
    const std::optional<bytes> want = ref.inflate(*m);
    if (want && !failed_before) {
      if (want->size() > max_size) {
        check(st == inflate_status::too_big || (st == inflate_status::corrupt && bits < 15),
              "reference says too big");
      } else if (st == inflate_status::corrupt && bits < 15) {
        // The reference inflates a message in one call, and zlib then resolves distances
        // from that call's output even beyond the window; ours inflates in growing pieces and
        // rightly refuses a distance beyond the agreed window. At 15 bits every legal
        // distance fits the window, so there the answers must agree exactly.
        ref.forget();
      } else {
        check(st == inflate_status::ok, "reference says ok");
        check(out == *want, "output differs from zlib");
      }
    }
    if (st != inflate_status::ok) {
      failed_before = true;
      if (!nct) ref.forget();
    }
    if (nct) failed_before = false;
  }
}

// ---- mode 2: round trip ----

// Inflates one message with zlib, one output octet per call so that every distance is
// resolved from zlib's 2^bits window: proves the deflater respects the agreed window.
class strict_receiver {
 public:
  explicit strict_receiver(int bits) { inflateInit2(&z_, -bits); }
  ~strict_receiver() { inflateEnd(&z_); }
  bool receive(const bytes& payload, const bytes& expected) {
    bytes in = payload;
    in.insert(in.end(), kTail, kTail + 4);
    z_.next_in = in.data();
    z_.avail_in = static_cast<uInt>(in.size());
    size_t at = 0;
    while (true) {
      uint8_t octet;
      z_.next_out = &octet;
      z_.avail_out = 1;
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
      if (z_.avail_out == 0) {
        if (at >= expected.size() || expected[at] != octet) return false;
        ++at;
      } else if (z_.avail_in == 0) {
        return at == expected.size();
      }
    }
  }

 private:
  z_stream z_{};
};

void fuzz_round_trip(uint8_t a, uint8_t b, std::span<const uint8_t> rest) {
  const int bits = 8 + (a & 7);
  const bool nct = a & 8;
  const int level = (a >> 4) % 10;
  const int mem_level = 1 + b % 9;
  deflater d(bits, nct, level, mem_level);
  inflater in(bits, nct);
  inflater limited(bits, true);
  std::optional<strict_receiver> strict;
  if (bits == 8) strict.emplace(8);
  bytes wire;
  bytes out;
  message_reader messages(rest);
  for (int i = 0; i < 64; ++i) {
    const auto m = messages.next();
    if (!m) break;
    const bytes message(m->begin(), m->end());
    wire.assign({0xaa});  // deflate appends
    d.deflate(message, wire);
    check(wire.size() > 1 && wire[0] == 0xaa, "deflate did not append");
    wire.erase(wire.begin());
    check(in.inflate(wire, out, message.size()) == inflate_status::ok, "round trip failed");
    check(out == message, "round trip changed the message");
    if (strict) check(strict->receive(wire, message), "distance beyond the agreed window");
    if (nct && !message.empty()) {
      // Each message stands alone: it must also be exactly too big for one octet less.
      check(limited.inflate(wire, out, message.size() - 1) == inflate_status::too_big,
            "limit not enforced");
      check(limited.inflate(wire, out, message.size()) == inflate_status::ok, "standalone");
      check(out == message, "standalone round trip changed the message");
    }
  }
}

// ---- mode 3: handshake ----

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void fuzz_handshake(uint8_t a, uint8_t b, std::string_view text) {
  relay::http::request req;
  req.version_minor = a & 1;
  size_t line_no = 0;
  while (!text.empty() && line_no < 64) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line_no++ == 0) {
      req.method = line;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    req.headers.push_back({line.substr(0, colon), trim(line.substr(colon + 1))});
  }
  static const std::string kProtocols[] = {"chat", "superchat", "v2.chat"};
  relay::ws::handshake_options options;
  options.subprotocols = std::span<const std::string>(kProtocols, (b & 3));
  options.deflate.enabled = b & 4;
  options.deflate.server_no_context_takeover = b & 8;
  options.deflate.server_max_window_bits = 8 + ((b >> 4) & 7);

  relay::ws::handshake_error error{};
  const auto result = relay::ws::accept_handshake(req, options, &error);
  if (!result) {
    const auto code = static_cast<int>(error.status);
    check(code == 400 || code == 405 || code == 426, "unexpected error status");
    check(error.response.starts_with("HTTP/1.1 4"), "error response status line");
    check(!error.reason.empty(), "error without a reason");
    return;
  }
  check(req.method == "GET" && req.version_minor >= 1, "accepted a non-GET or HTTP/1.0");
  check(result->response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "101 line");
  check(result->response.ends_with("\r\n\r\n"), "response end");
  check(result->response.find("\r\n\r\n") == result->response.size() - 4, "early blank line");
  check(result->subprotocol.empty() ||
            std::find(options.subprotocols.begin(), options.subprotocols.end(),
                      result->subprotocol) != options.subprotocols.end(),
        "subprotocol not ours");
  check(!result->deflate || options.deflate.enabled, "deflate while disabled");
  check((result->response.find("Sec-WebSocket-Extensions: ") != std::string::npos) ==
            result->deflate.has_value(),
        "extensions header and params disagree");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const std::span<const uint8_t> rest(data + 3, size - 3);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 4) {
    case 0:
      fuzz_negotiation(data[1], data[2], text);
      break;
    case 1:
      fuzz_inflate(data[1], data[2], rest);
      break;
    case 2:
      fuzz_round_trip(data[1], data[2], rest);
      break;
    default:
      fuzz_handshake(data[1], data[2], text);
      break;
  }
  return 0;
}
