// Fuzzes the RFC 6455 frame parser (src/ws/frame_parser). Byte 0 picks the options (role,
// permessage-deflate, max_message_size, when the handler asks to stop), byte 1 seeds the
// chunking; the rest is the byte stream from the peer. The stream is parsed
//   1. from one buffer,
//   2. in chunk sizes derived from the input (as uWS fuzzing/helpers.h makeChunked does), each
//      chunk in its own exactly-sized allocation so ASan sees any read past it,
//   3. byte by byte (short inputs),
// and by a plain whole-buffer reference model written independently from the RFC below. All
// must produce the same events and the same error, and every event must satisfy the parser's
// contract (sizes, UTF-8, close payloads, nothing after close/stop/error); anything else traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ws/close_code.hpp"
#include "ws/frame_parser.hpp"
#include "ws/opcode.hpp"
#include "ws/utf8.hpp"

namespace {

using relay::ws::close_code;
using relay::ws::compressed;
using relay::ws::frame_handler;
using relay::ws::frame_parser;
using relay::ws::is_valid_close_code;
using relay::ws::is_valid_utf8;
using relay::ws::opcode;
using relay::ws::parse_error;
using relay::ws::parser_options;
using relay::ws::role;
using relay::ws::utf8_validator;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

constexpr uint64_t kLimits[8] = {16 * 1024 * 1024, 0, 1, 125, 126, 300, 65535, 65536};
constexpr size_t kStops[8] = {SIZE_MAX, 1, 2, 3, 5, 8, SIZE_MAX, SIZE_MAX};

struct event {
  bool control;
  uint8_t op;
  compressed c;
  std::vector<uint8_t> payload;
  bool operator==(const event&) const = default;
};

struct outcome {
  std::vector<event> events;
  std::optional<close_code> error;
  std::string reason;
  bool closed = false;  // a close frame was delivered
  bool operator==(const outcome&) const = default;
};

// Records events and checks each against the contract as it arrives.
class recorder final : public frame_handler {
 public:
  recorder(const parser_options& options, size_t stop_after)
      : options_(options), stop_after_(stop_after) {}

  bool on_message(opcode op, std::span<uint8_t> payload, compressed c) override {
    check(!done_, "message after close/stop");
    check(op == opcode::text || op == opcode::binary, "message opcode");
    check(payload.size() <= options_.max_message_size, "message within max_message_size");
    check(c == compressed::no || options_.allow_compressed, "compressed only when negotiated");
    if (op == opcode::text && c == compressed::no) {
      check(is_valid_utf8(payload.data(), payload.size()), "text is UTF-8");
    }
    return record({false, static_cast<uint8_t>(op), c, {payload.begin(), payload.end()}});
  }

  bool on_control(opcode op, std::span<uint8_t> payload) override {
    check(!done_, "control after close/stop");
    check(op == opcode::ping || op == opcode::pong || op == opcode::close, "control opcode");
    check(payload.size() <= 125, "control payload <= 125");
    if (op == opcode::close) {
      check(payload.size() != 1, "close payload is not 1 byte");
      if (payload.size() >= 2) {
        check(is_valid_close_code(static_cast<uint16_t>(payload[0] << 8 | payload[1])),
              "close code valid");
        check(is_valid_utf8(payload.data() + 2, payload.size() - 2), "close reason UTF-8");
      }
      closed_ = true;
    }
    const bool go_on =
        record({true, static_cast<uint8_t>(op), compressed::no, {payload.begin(), payload.end()}});
    if (op == opcode::close) done_ = true;  // the parser ignores the return value
    return go_on;
  }

  std::vector<event> events;
  bool closed_ = false;
  bool done_ = false;

 private:
  bool record(event e) {
    events.push_back(std::move(e));
    if (events.size() >= stop_after_) done_ = true;
    return !done_;
  }
  parser_options options_;
  size_t stop_after_;
};

// The chunking, from the input: a xorshift stream seeded by byte 1 and the length.
class chunker {
 public:
  chunker(uint8_t seed, size_t size)
      : state_(0x9E3779B97F4A7C15ull ^ (uint64_t{seed} << 32) ^ size) {
    if (state_ == 0) state_ = 1;
  }
  size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    const uint64_t r = state_;
    // Mostly tiny reads (split headers, masks, code points), sometimes larger ones.
    return (r & 3) == 0 ? 1 + (r >> 8) % 512 : 1 + (r >> 8) % 9;
  }

 private:
  uint64_t state_;
};

enum class chunking { whole, random, bytewise };

outcome run(const uint8_t* data, size_t size, const parser_options& options, size_t stop_after,
            chunking how, uint8_t seed) {
  frame_parser parser(options);
  recorder rec(options, stop_after);
  outcome out;
  chunker sizes(seed, size);
  size_t at = 0;
  bool first = true;
  while (at < size || first) {
    first = false;
    size_t n = size - at;
    if (how == chunking::random) n = std::min(n, sizes.next());
    if (how == chunking::bytewise) n = std::min<size_t>(n, 1);
    // A fresh allocation of exactly n bytes per read, as a socket buffer would be reused.
    std::unique_ptr<uint8_t[]> chunk(new uint8_t[n == 0 ? 1 : n]);
    if (n != 0) std::memcpy(chunk.get(), data + at, n);
    at += n;
    const size_t events_before = rec.events.size();
    const parse_error* err = parser.feed({chunk.get(), n}, rec);
    if (out.error) {
      check(err != nullptr && err->code == *out.error, "failed parser keeps its error");
      check(rec.events.size() == events_before, "no events after an error");
    } else if (err != nullptr) {
      check(err->code == close_code::protocol_error || err->code == close_code::invalid_payload ||
                err->code == close_code::message_too_big,
            "error is 1002, 1007 or 1009");
      check(!err->reason.empty(), "error has a reason");
      check(parser.idle(), "failed parser holds no state");
      out.error = err->code;
      out.reason = std::string(err->reason);
    }
  }
  check(parser.closed() == rec.closed_, "closed() matches a delivered close frame");
  if (rec.done_) check(parser.idle(), "stopped parser holds no state");
  out.events = std::move(rec.events);
  out.closed = parser.closed();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reference model: RFC 6455 §5 read literally over the whole buffer, frame by frame, with the
// parser's documented order of checks. It shares no code with the parser except the UTF-8
// validator (fuzzed through is_valid_utf8 in the recorder) and is_valid_close_code.
outcome reference(const uint8_t* data, size_t size, const parser_options& o, size_t stop_after) {
  outcome out;
  auto fail = [&](close_code c) {
    out.error = c;
    return out;
  };
  auto emit = [&](event e) {
    out.events.push_back(std::move(e));
    return out.events.size() >= stop_after;  // true: stop
  };
  bool in_message = false;
  uint8_t message_op = 0;
  bool message_rsv1 = false;
  uint64_t message_size = 0;
  std::vector<uint8_t> message;
  utf8_validator utf8;
  size_t at = 0;
  while (at < size) {
    if (size - at < 2) return out;  // a lone first byte is not checked
    const uint8_t b0 = data[at], b1 = data[at + 1];
    const bool fin = b0 & 0x80, rsv1 = b0 & 0x40, masked = b1 & 0x80;
    const uint8_t op = b0 & 0x0F;
    const uint8_t len7 = b1 & 0x7F;
    const bool control = op >= 8;
    if (b0 & 0x30) return fail(close_code::protocol_error);
    if (!(op <= 2 || (op >= 8 && op <= 10))) return fail(close_code::protocol_error);
    if (control) {
      if (!fin || len7 > 125 || rsv1) return fail(close_code::protocol_error);
    } else if (op == 0) {
      if (!in_message || rsv1) return fail(close_code::protocol_error);
    } else if (in_message || (rsv1 && !o.allow_compressed)) {
      return fail(close_code::protocol_error);
    }
    if (masked != (o.side == role::server)) return fail(close_code::protocol_error);
    const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const size_t head = 2 + ext + (masked ? 4 : 0);
    if (size - at < head) return out;
    uint64_t len = len7;
    if (ext != 0) {
      len = 0;
      for (size_t i = 0; i < ext; ++i) len = len << 8 | data[at + 2 + i];
    }
    if (len >> 63) return fail(close_code::protocol_error);
    if ((ext == 2 && len < 126) || (ext == 8 && len < 65536)) {
      return fail(close_code::protocol_error);
    }
    if (!control) {
      const uint64_t before = op == 0 ? message_size : 0;
      if (before + len > o.max_message_size || before + len < before) {
        return fail(close_code::message_too_big);
      }
    }
    const uint8_t* key = data + at + 2 + ext;
    at += head;
    const size_t have = static_cast<size_t>(std::min<uint64_t>(len, size - at));
    std::vector<uint8_t> payload(data + at, data + at + have);
    for (size_t i = 0; masked && i < have; ++i) payload[i] ^= key[i % 4];
    at += have;
    if (control) {
      if (have < len) return out;
      if (op == 0x8) {
        if (payload.size() == 1) return fail(close_code::protocol_error);
        if (payload.size() >= 2) {
          if (!is_valid_close_code(static_cast<uint16_t>(payload[0] << 8 | payload[1]))) {
            return fail(close_code::protocol_error);
          }
          if (!is_valid_utf8(payload.data() + 2, payload.size() - 2)) {
            return fail(close_code::invalid_payload);
          }
        }
        emit({true, op, compressed::no, payload});
        out.closed = true;
        return out;
      }
      if (emit({true, op, compressed::no, payload})) return out;
      continue;
    }
    if (op != 0) {
      in_message = true;
      message_op = op;
      message_rsv1 = rsv1;
      message_size = 0;
      message.clear();
      utf8.reset();
    }
    message_size += len;
    const bool check_text = message_op == 1 && !message_rsv1;
    if (check_text && !utf8.feed(payload.data(), payload.size())) {
      return fail(close_code::invalid_payload);
    }
    message.insert(message.end(), payload.begin(), payload.end());
    if (have < len) return out;
    if (fin) {
      if (check_text && !utf8.complete()) return fail(close_code::invalid_payload);
      in_message = false;
      if (emit({false, message_op, message_rsv1 ? compressed::yes : compressed::no, message})) {
        return out;
      }
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  parser_options options;
  options.side = (data[0] & 1) ? role::client : role::server;
  options.allow_compressed = (data[0] & 2) != 0;
  options.max_message_size = kLimits[(data[0] >> 2) & 7];
  const size_t stop_after = kStops[(data[0] >> 5) & 7];
  const uint8_t seed = data[1];
  data += 2;
  size -= 2;

  const outcome whole = run(data, size, options, stop_after, chunking::whole, seed);
  const outcome chunked = run(data, size, options, stop_after, chunking::random, seed);
  check(chunked == whole, "chunked parse == whole parse");
  if (size <= 4096) {
    check(run(data, size, options, stop_after, chunking::bytewise, seed) == whole,
          "byte-by-byte parse == whole parse");
  }
  outcome model = reference(data, size, options, stop_after);
  model.reason = whole.reason;  // the model does not name errors
  check(model == whole, "parser == reference model");
  return 0;
}
