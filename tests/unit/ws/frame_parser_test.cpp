#include "ws/frame_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame_header.hpp"

namespace relay::ws {
namespace {

using bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// Building frames

constexpr uint8_t kMask[4] = {0x37, 0xFA, 0x21, 0x3D};  // RFC 6455 §5.7's example key

struct frame_opts {
  bool fin = true;
  bool rsv1 = false;
  uint8_t extra_bits = 0;  // raw RSV2/RSV3 bits for byte 0
  bool masked = true;
  const uint8_t* mask = kMask;
  int length_bytes = 0;  // 0: minimal (write_frame_header); 2 or 8: forced extended length
};

// One frame with `payload` (given unmasked), using write_frame_header for the usual case and a
// hand-written header for forced (non-minimal) length encodings and reserved opcodes.
bytes frame(uint8_t op, const bytes& payload, frame_opts o = {}) {
  bytes out(kMaxFrameHeader);
  size_t n;
  if (o.length_bytes == 0 && (op <= 2 || (op >= 8 && op <= 10))) {
    n = write_frame_header(out.data(), static_cast<opcode>(op), payload.size(),
                           o.fin ? final_frame::yes : final_frame::no,
                           o.rsv1 ? compressed::yes : compressed::no, o.masked ? o.mask : nullptr);
    out[0] |= o.extra_bits;
  } else {
    out[0] = static_cast<uint8_t>((o.fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | o.extra_bits | op);
    const uint8_t mask_bit = o.masked ? 0x80 : 0;
    const uint64_t len = payload.size();
    if (o.length_bytes == 2) {
      out[1] = mask_bit | 126;
      out[2] = static_cast<uint8_t>(len >> 8);
      out[3] = static_cast<uint8_t>(len);
      n = 4;
    } else if (o.length_bytes == 8) {
      out[1] = mask_bit | 127;
      for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
      n = 10;
    } else {
      EXPECT_LT(len, 126u);
      out[1] = static_cast<uint8_t>(mask_bit | len);
      n = 2;
    }
    if (o.masked) {
      std::copy(o.mask, o.mask + 4, out.begin() + static_cast<ptrdiff_t>(n));
      n += 4;
    }
  }
  out.resize(n);
  const size_t at = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  if (o.masked) apply_mask(out.data() + at, payload.size(), o.mask);
  return out;
}

bytes frame(opcode op, const bytes& payload, frame_opts o = {}) {
  return frame(static_cast<uint8_t>(op), payload, o);
}

// A header alone, announcing `len` bytes that are never sent (for length/limit checks).
bytes header_only(opcode op, uint64_t len, bool masked = true) {
  bytes out(kMaxFrameHeader);
  out.resize(write_frame_header(out.data(), op, len, final_frame::yes, compressed::no,
                                masked ? kMask : nullptr));
  return out;
}

bytes str(std::string_view s) { return bytes(s.begin(), s.end()); }

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes random_bytes(std::mt19937& rng, size_t n) {
  bytes out(n);
  for (auto& x : out) x = static_cast<uint8_t>(rng());
  return out;
}

bytes close_payload(uint16_t code, std::string_view reason = {}) {
  bytes out = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  out.insert(out.end(), reason.begin(), reason.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Recording what the parser does

struct event {
  bool control = false;
  opcode op = opcode::binary;
  bytes payload;
  compressed c = compressed::no;
  bool operator==(const event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const event& e) {
  return os << (e.control ? "control" : "message") << " op=" << static_cast<int>(e.op)
            << " len=" << e.payload.size() << (e.c == compressed::yes ? " compressed" : "");
}

event msg(opcode op, bytes payload, compressed c = compressed::no) {
  return {false, op, std::move(payload), c};
}
event ctl(opcode op, bytes payload = {}) { return {true, op, std::move(payload), compressed::no}; }

struct outcome {
  std::vector<event> events;
  std::optional<close_code> error;
  std::string reason;
  bool closed = false;
  bool idle = true;
  bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
  os << "{events:";
  for (const auto& e : o.events) os << " [" << e << "]";
  if (o.error) os << " error " << static_cast<int>(*o.error) << " (" << o.reason << ")";
  return os << (o.closed ? " closed" : "") << (o.idle ? " idle" : " busy") << "}";
}

class recorder final : public frame_handler {
 public:
  std::vector<event> events;
  size_t stop_after = SIZE_MAX;  // return false from the n-th callback
  // Where each payload lay when delivered (to tell in-place delivery from a copy).
  std::vector<const uint8_t*> where;

  bool on_message(opcode op, std::span<uint8_t> payload, compressed c) override {
    events.push_back({false, op, bytes(payload.begin(), payload.end()), c});
    where.push_back(payload.data());
    return events.size() < stop_after;
  }
  bool on_control(opcode op, std::span<uint8_t> payload) override {
    events.push_back({true, op, bytes(payload.begin(), payload.end()), compressed::no});
    where.push_back(payload.data());
    return events.size() < stop_after;
  }
};

// Feeds `stream` in pieces whose sizes come from next_size(), each copied into its own
// exactly-sized allocation (so ASan sees any read past a piece), and checks that once the
// parser failed every later feed reports the same error.
outcome run(const bytes& stream, const std::function<size_t()>& next_size,
            parser_options options = {}, size_t stop_after = SIZE_MAX) {
  frame_parser parser(options);
  recorder rec;
  rec.stop_after = stop_after;
  outcome out;
  size_t at = 0;
  do {
    const size_t n = std::min(next_size(), stream.size() - at);
    bytes piece(stream.begin() + static_cast<ptrdiff_t>(at),
                stream.begin() + static_cast<ptrdiff_t>(at + n));
    at += n;
    const size_t events_before = rec.events.size();
    const parse_error* err = parser.feed(piece, rec);
    if (out.error) {
      EXPECT_NE(err, nullptr) << "a failed parser must keep failing";
      if (err) {
        EXPECT_EQ(err->code, *out.error);
      }
      EXPECT_EQ(rec.events.size(), events_before) << "events after an error";
    } else if (err) {
      out.error = err->code;
      out.reason = std::string(err->reason);
      EXPECT_FALSE(err->reason.empty());
    }
  } while (at < stream.size());
  out.events = std::move(rec.events);
  out.closed = parser.closed();
  out.idle = parser.idle();
  return out;
}

outcome run_whole(const bytes& stream, parser_options options = {}, size_t stop_after = SIZE_MAX) {
  return run(
      stream, [&] { return stream.size(); }, options, stop_after);
}

// The whole stream at once, after checking that byte-by-byte feeding, every split in two (for
// short streams) and several random chunkings produce exactly the same events and error.
outcome run_all_ways(const bytes& stream, parser_options options = {},
                     size_t stop_after = SIZE_MAX) {
  const outcome whole = run_whole(stream, options, stop_after);
  if (stream.size() <= 80 * 1024) {  // covers the 65536 boundary; 1 MiB is chunked only
    EXPECT_EQ(run(
                  stream, [] { return size_t{1}; }, options, stop_after),
              whole)
        << "byte by byte";
  }
  if (stream.size() <= 300) {
    for (size_t split = 0; split <= stream.size(); ++split) {
      bool first = true;
      auto sizes = [&] {
        const size_t n = first ? split : stream.size();
        first = false;
        return n;
      };
      EXPECT_EQ(run(stream, sizes, options, stop_after), whole) << "split at " << split;
    }
  }
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    // Small pieces most of the time, occasionally large ones, as reads of a socket come.
    auto sizes = [&] {
      const uint32_t r = rng();
      return static_cast<size_t>((r & 7) == 0 ? r % 70000 : r % 20);
    };
    EXPECT_EQ(run(stream, sizes, options, stop_after), whole) << "random seed " << seed;
  }
  return whole;
}

parser_options client_side() {
  parser_options o;
  o.side = role::client;
  return o;
}

parser_options compressed_ok() {
  parser_options o;
  o.allow_compressed = true;
  return o;
}

parser_options limit(uint64_t max) {
  parser_options o;
  o.max_message_size = max;
  return o;
}

void expect_error(const bytes& stream, close_code code, parser_options options = {}) {
  const outcome o = run_all_ways(stream, options);
  ASSERT_TRUE(o.error.has_value()) << o;
  EXPECT_EQ(*o.error, code) << o.reason;
  EXPECT_TRUE(o.idle) << "a failed parser releases its state";
}

// ---------------------------------------------------------------------------------------------
// Lengths and masking

TEST(FrameParser, EveryLengthBoundaryWithMinimalEncoding) {
  std::mt19937 rng(1);
  for (size_t len : {0, 1, 2, 3, 4, 5, 7, 8, 9, 125, 126, 127, 128, 65535, 65536, 1 << 20}) {
    SCOPED_TRACE(len);
    const bytes payload = random_bytes(rng, len);
    for (role side : {role::server, role::client}) {
      parser_options o;
      o.side = side;
      frame_opts f;
      f.masked = side == role::server;
      const bytes wire = frame(opcode::binary, payload, f);
      EXPECT_EQ(wire.size(), frame_header_size(len, f.masked) + len);
      const outcome out = run_all_ways(wire, o);
      EXPECT_FALSE(out.error) << out.reason;
      ASSERT_EQ(out.events.size(), 1u);
      EXPECT_EQ(out.events[0], msg(opcode::binary, payload));
      EXPECT_TRUE(out.idle);
    }
  }
}

TEST(FrameParser, NonMinimalLengthEncodingsAreProtocolErrors) {
  // §5.2: "the minimal number of bytes MUST be used to encode the length".
  for (size_t len : {0, 1, 125}) {
    SCOPED_TRACE(len);
    expect_error(frame(opcode::binary, bytes(len, 'x'), {.length_bytes = 2}),
                 close_code::protocol_error);
  }
  for (size_t len : {0, 1, 125, 126, 65535}) {
    SCOPED_TRACE(len);
    expect_error(frame(opcode::binary, bytes(len, 'x'), {.length_bytes = 8}),
                 close_code::protocol_error);
  }
  // The same lengths, encoded minimally one step up, are fine.
  EXPECT_FALSE(run_all_ways(frame(opcode::binary, bytes(126, 'x'), {.length_bytes = 2})).error);
  EXPECT_FALSE(run_all_ways(frame(opcode::binary, bytes(65536, 'x'), {.length_bytes = 8})).error);
}

TEST(FrameParser, NonMinimalLengthFailsBeforeThePayloadArrives) {
  bytes wire = frame(opcode::binary, bytes(100, 'x'), {.length_bytes = 8});
  wire.resize(14);  // the header only
  expect_error(wire, close_code::protocol_error);
}

TEST(FrameParser, SixtyFourBitLengthWithTopBitSetIsAProtocolError) {
  // 2^63: §5.2 "the most significant bit MUST be 0".
  bytes wire = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
  expect_error(wire, close_code::protocol_error);
  wire[2] = 0xFF;  // 2^64 - 1
  expect_error(wire, close_code::protocol_error);
}

TEST(FrameParser, HugeAnnouncedLengthFailsWithTooBigAtTheHeader) {
  // 2^63 - 1 is a well-formed length: only the size limit rejects it, from the header alone.
  expect_error(header_only(opcode::binary, 0x7FFFFFFFFFFFFFFFull), close_code::message_too_big);
  parser_options unlimited = limit(UINT64_MAX);
  const outcome o = run_all_ways(header_only(opcode::binary, 0x7FFFFFFFFFFFFFFFull), unlimited);
  EXPECT_FALSE(o.error);
  EXPECT_FALSE(o.idle);  // waiting for a payload that will never come, holding no buffer
}

TEST(FrameParser, RandomMasksWithPhaseCarriedAcrossChunks) {
  std::mt19937 rng(2);
  for (int iter = 0; iter < 60; ++iter) {
    uint8_t mask[4];
    for (auto& m : mask) m = static_cast<uint8_t>(rng());
    const bytes payload = random_bytes(rng, rng() % 300);
    const outcome o = run_all_ways(frame(opcode::binary, payload, {.mask = mask}));
    ASSERT_EQ(o.events.size(), 1u);
    ASSERT_EQ(o.events[0], msg(opcode::binary, payload)) << "iteration " << iter;
  }
}

TEST(FrameParser, ZeroMaskAndUnmaskedClientSide) {
  const uint8_t zero[4] = {0, 0, 0, 0};
  const bytes wire = frame(opcode::text, str("plain"), {.mask = zero});
  EXPECT_EQ(bytes(wire.end() - 5, wire.end()), str("plain"));
  EXPECT_EQ(run_all_ways(wire).events, std::vector<event>{msg(opcode::text, str("plain"))});
  EXPECT_EQ(run_all_ways(frame(opcode::text, str("hi"), {.masked = false}), client_side()).events,
            std::vector<event>{msg(opcode::text, str("hi"))});
}

TEST(FrameParser, UnmaskedFrameToServerIsAProtocolError) {
  // §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
  expect_error(frame(opcode::text, str("hi"), {.masked = false}), close_code::protocol_error);
  expect_error(frame(opcode::ping, {}, {.masked = false}), close_code::protocol_error);
  expect_error(bytes{0x82, 0x05}, close_code::protocol_error);  // known from 2 bytes
}

TEST(FrameParser, MaskedFrameToClientIsAProtocolError) {
  // §5.1: "A client MUST close a connection if it detects a masked frame."
  expect_error(frame(opcode::text, str("hi")), close_code::protocol_error, client_side());
  expect_error(frame(opcode::pong, {}), close_code::protocol_error, client_side());
}

TEST(FrameParser, UnmasksInPlaceAndDeliversWholeFramesWithoutCopying) {
  bytes wire = cat({frame(opcode::binary, str("abcdef")), frame(opcode::ping, str("p"))});
  frame_parser parser;
  recorder rec;
  ASSERT_EQ(parser.feed(wire, rec), nullptr);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.where[0], wire.data() + 6);  // 2-byte header + 4-byte key
  EXPECT_EQ(rec.where[1], wire.data() + 12 + 6);
  EXPECT_EQ(bytes(wire.begin() + 6, wire.begin() + 12), str("abcdef"));  // unmasked in place
  EXPECT_TRUE(parser.idle());
}

TEST(FrameParser, HeaderSplitFromAWholePayloadStillDeliversInPlace) {
  const bytes wire = frame(opcode::binary, str("payload"));
  frame_parser parser;
  recorder rec;
  bytes head(wire.begin(), wire.begin() + 3);
  bytes rest(wire.begin() + 3, wire.end());
  ASSERT_EQ(parser.feed(head, rec), nullptr);
  EXPECT_FALSE(parser.idle());
  ASSERT_EQ(parser.feed(rest, rec), nullptr);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.where[0], rest.data() + 3);
  EXPECT_EQ(rec.events[0], msg(opcode::binary, str("payload")));
  EXPECT_TRUE(parser.idle());
}

TEST(FrameParser, SplitPayloadIsGatheredAndReleased) {
  std::mt19937 rng(3);
  const bytes payload = random_bytes(rng, 1 << 20);
  const bytes wire = frame(opcode::binary, payload);
  frame_parser parser;
  recorder rec;
  bytes first(wire.begin(), wire.begin() + 1000);
  bytes second(wire.begin() + 1000, wire.end());
  ASSERT_EQ(parser.feed(first, rec), nullptr);
  EXPECT_TRUE(rec.events.empty());
  EXPECT_FALSE(parser.idle());
  ASSERT_EQ(parser.feed(second, rec), nullptr);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].payload, payload);
  EXPECT_TRUE(rec.where[0] < first.data() || rec.where[0] >= first.data() + first.size());
  EXPECT_TRUE(rec.where[0] < second.data() || rec.where[0] >= second.data() + second.size());
  EXPECT_TRUE(parser.idle()) << "the 1 MiB buffer must not stay with an idle connection";
}

// ---------------------------------------------------------------------------------------------
// Several frames, fragmentation and control frames

TEST(FrameParser, ManyMessagesInOneInput) {
  std::mt19937 rng(4);
  bytes wire;
  std::vector<event> expect;
  for (int i = 0; i < 50; ++i) {
    const bytes payload = random_bytes(rng, rng() % 200);
    wire = cat({wire, frame(opcode::binary, payload)});
    expect.push_back(msg(opcode::binary, payload));
    const bytes text = bytes(rng() % 140, 'a' + i % 26);
    wire = cat({wire, frame(opcode::text, text)});
    expect.push_back(msg(opcode::text, text));
  }
  const outcome o = run_all_ways(wire);
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.events, expect);
}

TEST(FrameParser, FragmentedMessagesWithInterleavedControlFrames) {
  // §5.4: "Control frames MAY be injected in the middle of a fragmented message."
  for (opcode op : {opcode::text, opcode::binary}) {
    bytes wire;
    bytes whole;
    std::vector<event> expect;
    const int kFragments = 12;
    for (int i = 0; i < kFragments; ++i) {
      const bytes part = str("part" + std::to_string(i) + ";");
      whole.insert(whole.end(), part.begin(), part.end());
      wire = cat(
          {wire, frame(i == 0 ? op : opcode::continuation, part, {.fin = i == kFragments - 1})});
      if (i % 3 == 1) {
        const bytes ping = str("ping" + std::to_string(i));
        wire = cat({wire, frame(opcode::ping, ping)});
        expect.push_back(ctl(opcode::ping, ping));
      }
      if (i == 4) {
        wire = cat({wire, frame(opcode::pong, {})});
        expect.push_back(ctl(opcode::pong));
      }
    }
    expect.push_back(msg(op, whole));
    const outcome o = run_all_ways(wire);
    EXPECT_FALSE(o.error) << o.reason;
    EXPECT_EQ(o.events, expect);
    EXPECT_TRUE(o.idle);
  }
}

TEST(FrameParser, EmptyFragments) {
  const bytes wire =
      cat({frame(opcode::text, {}, {.fin = false}),
           frame(opcode::continuation, str("x"), {.fin = false}),
           frame(opcode::continuation, {}, {.fin = false}), frame(opcode::continuation, {})});
  EXPECT_EQ(run_all_ways(wire).events, std::vector<event>{msg(opcode::text, str("x"))});
  const bytes empty =
      cat({frame(opcode::binary, {}, {.fin = false}), frame(opcode::continuation, {})});
  EXPECT_EQ(run_all_ways(empty).events, std::vector<event>{msg(opcode::binary, {})});
  EXPECT_EQ(run_all_ways(frame(opcode::text, {})).events,
            std::vector<event>{msg(opcode::text, {})});
}

TEST(FrameParser, ControlFramePayloadsUpTo125Bytes) {
  std::mt19937 rng(5);
  for (size_t len : {0, 1, 124, 125}) {
    const bytes payload = random_bytes(rng, len);
    EXPECT_EQ(run_all_ways(frame(opcode::ping, payload)).events,
              std::vector<event>{ctl(opcode::ping, payload)});
    EXPECT_EQ(run_all_ways(frame(opcode::pong, payload)).events,
              std::vector<event>{ctl(opcode::pong, payload)});
  }
}

TEST(FrameParser, ControlFrameLongerThan125IsAProtocolError) {
  // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
  expect_error(frame(opcode::ping, bytes(126, 'x')), close_code::protocol_error);
  expect_error(frame(opcode::pong, bytes(65536, 'x')), close_code::protocol_error);
  expect_error(frame(opcode::close, cat({close_payload(1000), bytes(124, 'x')})),
               close_code::protocol_error);
  expect_error(bytes{0x89, 0xFE}, close_code::protocol_error);  // known from 2 bytes
}

TEST(FrameParser, FragmentedControlFrameIsAProtocolError) {
  // §5.5: control frames "MUST NOT be fragmented".
  expect_error(frame(opcode::ping, str("a"), {.fin = false}), close_code::protocol_error);
  expect_error(frame(opcode::close, close_payload(1000), {.fin = false}),
               close_code::protocol_error);
  expect_error(
      cat({frame(opcode::text, str("a"), {.fin = false}), frame(opcode::pong, {}, {.fin = false})}),
      close_code::protocol_error);
}

TEST(FrameParser, ContinuationWithoutAMessageIsAProtocolError) {
  expect_error(frame(opcode::continuation, str("x")), close_code::protocol_error);
  expect_error(frame(opcode::continuation, str("x"), {.fin = false}), close_code::protocol_error);
  // After a complete message, there is nothing to continue.
  const outcome o =
      run_all_ways(cat({frame(opcode::text, str("done")), frame(opcode::continuation, str("x"))}));
  EXPECT_EQ(o.events, std::vector<event>{msg(opcode::text, str("done"))});
  EXPECT_EQ(o.error, close_code::protocol_error);
}

TEST(FrameParser, NewDataFrameInsideAFragmentedMessageIsAProtocolError) {
  // §5.4: fragments of one message must not be interleaved with another message.
  for (opcode first : {opcode::text, opcode::binary}) {
    for (opcode second : {opcode::text, opcode::binary}) {
      const outcome o = run_all_ways(cat({frame(first, str("a"), {.fin = false}),
                                          frame(opcode::ping, {}), frame(second, str("b"))}));
      EXPECT_EQ(o.events, std::vector<event>{ctl(opcode::ping)});
      EXPECT_EQ(o.error, close_code::protocol_error);
    }
  }
}

TEST(FrameParser, ReservedOpcodesAreProtocolErrors) {
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    SCOPED_TRACE(op);
    expect_error(frame(op, str("x")), close_code::protocol_error);
    expect_error(frame(op, {}, {.masked = false}), close_code::protocol_error, client_side());
    // Inside a fragmented message too.
    expect_error(cat({frame(opcode::binary, str("a"), {.fin = false}), frame(op, {})}),
                 close_code::protocol_error);
  }
}

TEST(FrameParser, ReservedBitsAreProtocolErrors) {
  // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; only RSV1 ever is.
  for (parser_options o : {parser_options{}, compressed_ok()}) {
    expect_error(frame(opcode::text, str("x"), {.extra_bits = 0x20}), close_code::protocol_error,
                 o);
    expect_error(frame(opcode::text, str("x"), {.extra_bits = 0x10}), close_code::protocol_error,
                 o);
    expect_error(frame(opcode::ping, {}, {.extra_bits = 0x30}), close_code::protocol_error, o);
  }
  expect_error(frame(opcode::text, str("x"), {.rsv1 = true}), close_code::protocol_error);
  expect_error(frame(opcode::binary, str("x"), {.rsv1 = true}), close_code::protocol_error);
}

TEST(FrameParser, Rsv1MarksACompressedMessageWhenNegotiated) {
  // RFC 7692 §6: RSV1 on the first frame; the payload is passed on as is, and text is not
  // UTF-8 checked before inflating.
  const bytes deflated = {0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00};  // "Hello", no tail
  EXPECT_EQ(run_all_ways(frame(opcode::text, deflated, {.rsv1 = true}), compressed_ok()).events,
            std::vector<event>{msg(opcode::text, deflated, compressed::yes)});
  const outcome frag =
      run_all_ways(cat({frame(opcode::binary, {0xFF}, {.fin = false, .rsv1 = true}),
                        frame(opcode::ping, {}), frame(opcode::continuation, {0xFE})}),
                   compressed_ok());
  EXPECT_EQ(frag.events, (std::vector<event>{ctl(opcode::ping),
                                             msg(opcode::binary, {0xFF, 0xFE}, compressed::yes)}));
  // Without RSV1 a negotiated connection still gets uncompressed (and UTF-8 checked) text.
  EXPECT_EQ(run_all_ways(frame(opcode::text, str("x")), compressed_ok()).events,
            std::vector<event>{msg(opcode::text, str("x"))});
  expect_error(frame(opcode::text, {0xFF}), close_code::invalid_payload, compressed_ok());
}

TEST(FrameParser, Rsv1OnContinuationOrControlFrameIsAProtocolError) {
  expect_error(cat({frame(opcode::text, str("a"), {.fin = false, .rsv1 = true}),
                    frame(opcode::continuation, str("b"), {.rsv1 = true})}),
               close_code::protocol_error, compressed_ok());
  expect_error(cat({frame(opcode::text, str("a"), {.fin = false}),
                    frame(opcode::continuation, str("b"), {.rsv1 = true})}),
               close_code::protocol_error, compressed_ok());
  expect_error(frame(opcode::ping, {}, {.rsv1 = true}), close_code::protocol_error,
               compressed_ok());
  expect_error(frame(opcode::close, {}, {.rsv1 = true}), close_code::protocol_error,
               compressed_ok());
}

TEST(FrameParser, SetAllowCompressedTakesEffectForLaterFrames) {
  frame_parser parser;
  recorder rec;
  bytes first = frame(opcode::binary, str("a"), {.rsv1 = true});
  parser.set_allow_compressed(true);
  ASSERT_EQ(parser.feed(first, rec), nullptr);
  parser.set_allow_compressed(false);
  bytes second = frame(opcode::binary, str("a"), {.rsv1 = true});
  const parse_error* err = parser.feed(second, rec);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->code, close_code::protocol_error);
  EXPECT_EQ(rec.events, std::vector<event>{msg(opcode::binary, str("a"), compressed::yes)});
}

TEST(FrameParser, ChecksRunInAFixedOrder) {
  // Several faults in one header: the same one is reported however the bytes arrive.
  auto code_reason = [](const bytes& wire, parser_options o = {}) {
    const outcome out = run_all_ways(wire, o);
    return std::make_pair(out.error, out.reason);
  };
  const auto rsv = code_reason(frame(0x3, {}, {.extra_bits = 0x20, .masked = false}));
  EXPECT_EQ(rsv.first, close_code::protocol_error);
  EXPECT_EQ(rsv.second, "reserved bits set");
  const auto op = code_reason(frame(0xB, {}, {.masked = false}));
  EXPECT_EQ(op.second, "reserved opcode");
  // Non-minimal length beats the size limit; the size limit beats invalid payload.
  EXPECT_EQ(
      code_reason(frame(opcode::binary, bytes(10, 'x'), {.length_bytes = 8}), limit(5)).second,
      "non-minimal length");
  EXPECT_EQ(code_reason(frame(opcode::text, {0xFF, 0xFF}), limit(1)).first,
            close_code::message_too_big);
}

// ---------------------------------------------------------------------------------------------
// UTF-8 (§8.1, Autobahn section 6)

TEST(FrameParser, TextMessagesMustBeValidUtf8) {
  expect_error(frame(opcode::text, {0xC0, 0x80}), close_code::invalid_payload);
  expect_error(frame(opcode::text, {0xED, 0xA0, 0x80}), close_code::invalid_payload);
  expect_error(frame(opcode::text, {0xF4, 0x90, 0x80, 0x80}), close_code::invalid_payload);
  expect_error(frame(opcode::text, {'a', 0xE2, 0x82}), close_code::invalid_payload);  // cut off
  // Binary messages carry anything.
  EXPECT_FALSE(run_all_ways(frame(opcode::binary, {0xC0, 0x80, 0xFF})).error);
}

TEST(FrameParser, CodePointsMaySpanFragmentsButNotTheMessageEnd) {
  // Autobahn 6.2.4-style: "κόσμε" fragmented at every byte position.
  const bytes kosme = str("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  for (size_t at = 0; at <= kosme.size(); ++at) {
    const bytes a(kosme.begin(), kosme.begin() + static_cast<ptrdiff_t>(at));
    const bytes b(kosme.begin() + static_cast<ptrdiff_t>(at), kosme.end());
    const outcome o = run_all_ways(cat({frame(opcode::text, a, {.fin = false}),
                                        frame(opcode::ping, {}), frame(opcode::continuation, b)}));
    EXPECT_FALSE(o.error) << at;
    EXPECT_EQ(o.events, (std::vector<event>{ctl(opcode::ping), msg(opcode::text, kosme)}));
  }
  // A message that ends inside a code point fails even if each fragment alone is a prefix.
  expect_error(
      cat({frame(opcode::text, str("ab"), {.fin = false}), frame(opcode::continuation, {0xCE})}),
      close_code::invalid_payload);
}

TEST(FrameParser, InvalidUtf8AcrossFragmentsFailsAtTheFragmentThatProvesIt) {
  // Autobahn 6.4.1: three fragments, the second holds U+110000 (F4 90 80 80).
  const bytes frag1 =
      frame(opcode::text, str("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), {.fin = false});
  const bytes frag2 = frame(opcode::continuation, {0xF4, 0x90, 0x80, 0x80}, {.fin = false});
  const bytes frag3 = frame(opcode::continuation, str("edited"));
  frame_parser parser;
  recorder rec;
  bytes a = frag1;
  bytes b = frag2;
  EXPECT_EQ(parser.feed(a, rec), nullptr);
  const parse_error* err = parser.feed(b, rec);
  ASSERT_NE(err, nullptr) << "must fail before the third fragment arrives";
  EXPECT_EQ(err->code, close_code::invalid_payload);
  EXPECT_TRUE(rec.events.empty());
  expect_error(cat({frag1, frag2, frag3}), close_code::invalid_payload);
}

TEST(FrameParser, InvalidUtf8FailsBeforeTheRestOfTheFrameArrives) {
  // Autobahn 6.4.3/6.4.4: one text frame whose invalid byte comes early; the error must be
  // raised from the first part alone.
  bytes payload = str("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  const size_t bad_at = payload.size();
  payload.insert(payload.end(), {0xF4, 0x90, 0x80, 0x80});
  payload.resize(payload.size() + 5000, 'e');
  const bytes wire = frame(opcode::text, payload);
  const size_t header = frame_header_size(payload.size(), true);
  for (size_t cut = header + bad_at + 2; cut < header + bad_at + 40; ++cut) {
    frame_parser parser;
    recorder rec;
    bytes first(wire.begin(), wire.begin() + static_cast<ptrdiff_t>(cut));
    const parse_error* err = parser.feed(first, rec);
    ASSERT_NE(err, nullptr) << "cut at " << cut;
    EXPECT_EQ(err->code, close_code::invalid_payload);
    EXPECT_TRUE(parser.idle());
  }
  // ...and not one byte earlier: F4 alone is still a valid prefix.
  frame_parser parser;
  recorder rec;
  bytes first(wire.begin(), wire.begin() + static_cast<ptrdiff_t>(header + bad_at + 1));
  EXPECT_EQ(parser.feed(first, rec), nullptr);
}

TEST(FrameParser, CompressedTextIsNotUtf8CheckedWhileGathered) {
  bytes wire = frame(opcode::text, {0xFF, 0xFE, 0xFD}, {.rsv1 = true});
  const outcome o = run_all_ways(wire, compressed_ok());
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.events, std::vector<event>{msg(opcode::text, {0xFF, 0xFE, 0xFD}, compressed::yes)});
}

// ---------------------------------------------------------------------------------------------
// Close frames (§5.5.1, §7.4)

TEST(FrameParser, CloseFrameStopsTheParser) {
  const outcome o = run_all_ways(cat({frame(opcode::text, str("bye")), frame(opcode::close, {}),
                                      frame(opcode::text, str("ignored")), bytes{0xFF, 0xFF}}));
  EXPECT_FALSE(o.error) << "garbage after close is not parsed";
  EXPECT_EQ(o.events, (std::vector<event>{msg(opcode::text, str("bye")), ctl(opcode::close)}));
  EXPECT_TRUE(o.closed);
  EXPECT_TRUE(o.idle);
}

TEST(FrameParser, ValidClosePayloads) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    const bytes payload = close_payload(code, "r\xc3\xa9son");
    const outcome o = run_all_ways(frame(opcode::close, payload));
    EXPECT_FALSE(o.error) << code;
    EXPECT_EQ(o.events, std::vector<event>{ctl(opcode::close, payload)});
  }
  const bytes longest = close_payload(1000, std::string(123, 'r'));
  EXPECT_EQ(run_all_ways(frame(opcode::close, longest)).events,
            std::vector<event>{ctl(opcode::close, longest)});
  EXPECT_EQ(run_all_ways(frame(opcode::close, close_payload(1000))).events,
            std::vector<event>{ctl(opcode::close, close_payload(1000))});
}

TEST(FrameParser, InvalidClosePayloads) {
  expect_error(frame(opcode::close, {0x03}), close_code::protocol_error);  // 1 byte
  for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    expect_error(frame(opcode::close, close_payload(code)), close_code::protocol_error);
  }
  expect_error(frame(opcode::close, cat({close_payload(1000), bytes{0xC0, 0x80}})),
               close_code::invalid_payload);
  expect_error(frame(opcode::close, cat({close_payload(1000), bytes{'o', 0xE2, 0x82}})),
               close_code::invalid_payload);
}

TEST(FrameParser, CloseInsideAFragmentedMessage) {
  const outcome o = run_all_ways(
      cat({frame(opcode::text, str("unfinished"), {.fin = false}),
           frame(opcode::close, close_payload(1001)), frame(opcode::continuation, str("never"))}));
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.events, std::vector<event>{ctl(opcode::close, close_payload(1001))});
  EXPECT_TRUE(o.closed);
  EXPECT_TRUE(o.idle) << "the unfinished message is dropped";
}

TEST(FrameParser, CloseFromTheServerOnTheClientSide) {
  const outcome o = run_all_ways(
      frame(opcode::close, close_payload(1000, "done"), {.masked = false}), client_side());
  EXPECT_EQ(o.events, std::vector<event>{ctl(opcode::close, close_payload(1000, "done"))});
  EXPECT_TRUE(o.closed);
}

// ---------------------------------------------------------------------------------------------
// Message size limit

TEST(FrameParser, SingleFrameOverTheLimitFailsAtItsHeader) {
  EXPECT_FALSE(run_all_ways(frame(opcode::binary, bytes(1000, 'x')), limit(1000)).error);
  expect_error(frame(opcode::binary, bytes(1001, 'x')), close_code::message_too_big, limit(1000));
  expect_error(header_only(opcode::binary, 1001), close_code::message_too_big, limit(1000));
  expect_error(header_only(opcode::text, 16 * 1024 * 1024 + 1), close_code::message_too_big);
  // Zero allows only empty messages.
  EXPECT_FALSE(run_all_ways(frame(opcode::text, {}), limit(0)).error);
  expect_error(frame(opcode::text, str("x")), close_code::message_too_big, limit(0));
}

TEST(FrameParser, FragmentsCountTowardsTheLimitTogether) {
  const bytes a = frame(opcode::binary, bytes(400, 'a'), {.fin = false});
  const bytes b = frame(opcode::continuation, bytes(400, 'b'), {.fin = false});
  const bytes c = frame(opcode::continuation, bytes(200, 'c'));
  EXPECT_FALSE(run_all_ways(cat({a, b, c}), limit(1000)).error);
  const bytes c_big = frame(opcode::continuation, bytes(201, 'c'));
  expect_error(cat({a, b, c_big}), close_code::message_too_big, limit(1000));
  // The error comes from the header of the fragment that crosses the limit.
  expect_error(cat({a, b, header_only(opcode::continuation, 201)}), close_code::message_too_big,
               limit(1000));
  // Control frames in between are not part of the message, and the count restarts per message.
  const outcome o = run_all_ways(
      cat({a, frame(opcode::ping, bytes(125, 'p')), b, c, frame(opcode::binary, bytes(1000, 'd'))}),
      limit(1000));
  EXPECT_FALSE(o.error);
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_EQ(o.events[1].payload.size(), 1000u);
  EXPECT_EQ(o.events[2].payload, bytes(1000, 'd'));
}

TEST(FrameParser, ControlFramesAreNotLimitedByMaxMessageSize) {
  EXPECT_EQ(run_all_ways(frame(opcode::ping, str("hello")), limit(1)).events,
            std::vector<event>{ctl(opcode::ping, str("hello"))});
}

// ---------------------------------------------------------------------------------------------
// Handler and lifecycle

TEST(FrameParser, HandlerReturningFalseStopsParsingForGood) {
  const bytes wire = cat({frame(opcode::text, str("one")), frame(opcode::ping, str("p")),
                          frame(opcode::text, str("two"), {.fin = false}),
                          frame(opcode::continuation, str("!")), frame(opcode::binary, str("3"))});
  for (size_t stop = 1; stop <= 3; ++stop) {
    SCOPED_TRACE(stop);
    const outcome o = run_all_ways(wire, {}, stop);
    EXPECT_FALSE(o.error);
    EXPECT_EQ(o.events.size(), stop);
    EXPECT_TRUE(o.idle);
    EXPECT_FALSE(o.closed);
  }
  // Even garbage after the stop point is not looked at.
  const outcome o = run_all_ways(cat({frame(opcode::text, str("x")), bytes{0xFF, 0xFF}}), {}, 1);
  EXPECT_FALSE(o.error);
}

TEST(FrameParser, FailedParserKeepsReportingTheSameError) {
  frame_parser parser;
  recorder rec;
  bytes bad = frame(opcode::text, {0xFF});
  const parse_error* first = parser.feed(bad, rec);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->code, close_code::invalid_payload);
  EXPECT_EQ(first->reason, "invalid UTF-8");
  bytes good = frame(opcode::text, str("fine"));
  const parse_error* again = parser.feed(good, rec);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->code, close_code::invalid_payload);
  EXPECT_TRUE(rec.events.empty());
  EXPECT_FALSE(parser.closed());
  EXPECT_TRUE(parser.idle());
}

TEST(FrameParser, IdleTracksPartialFramesAndMessages) {
  frame_parser parser;
  recorder rec;
  EXPECT_TRUE(parser.idle());
  bytes empty;
  EXPECT_EQ(parser.feed(empty, rec), nullptr);
  EXPECT_TRUE(parser.idle());

  const bytes wire =
      cat({frame(opcode::text, str("ab"), {.fin = false}), frame(opcode::continuation, str("cd"))});
  bytes one_byte(wire.begin(), wire.begin() + 1);
  EXPECT_EQ(parser.feed(one_byte, rec), nullptr);
  EXPECT_FALSE(parser.idle()) << "partial header";
  bytes first_frame(wire.begin() + 1, wire.begin() + 8);
  EXPECT_EQ(parser.feed(first_frame, rec), nullptr);
  EXPECT_FALSE(parser.idle()) << "fragmented message in progress";
  bytes rest(wire.begin() + 8, wire.end());
  EXPECT_EQ(parser.feed(rest, rec), nullptr);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(rec.events, std::vector<event>{msg(opcode::text, str("abcd"))});
}

TEST(FrameParser, EmptyInputChangesNothing) {
  frame_parser parser;
  recorder rec;
  bytes part = {0x81};
  EXPECT_EQ(parser.feed(part, rec), nullptr);
  EXPECT_EQ(parser.feed({}, rec), nullptr);
  bytes rest = {0x80, 1, 2, 3, 4};
  EXPECT_EQ(parser.feed(rest, rec), nullptr);
  EXPECT_EQ(rec.events, std::vector<event>{msg(opcode::text, {})});
}

// ---------------------------------------------------------------------------------------------
// Randomized conversations: a generator that knows the expected events.

TEST(FrameParser, RandomValidConversations) {
  std::mt19937 rng(6455);
  for (int iter = 0; iter < 100; ++iter) {
    bytes wire;
    std::vector<event> expect;
    const bool server = iter % 2 == 0;
    parser_options o;
    o.side = server ? role::server : role::client;
    o.allow_compressed = iter % 3 == 0;
    const int messages = 1 + static_cast<int>(rng() % 8);
    for (int m = 0; m < messages; ++m) {
      const opcode op = rng() % 2 ? opcode::text : opcode::binary;
      const bool deflate = o.allow_compressed && rng() % 2;
      const int fragments = 1 + static_cast<int>(rng() % 5);
      bytes whole;
      for (int f = 0; f < fragments; ++f) {
        bytes part;
        const size_t len = rng() % 8 == 0 ? rng() % 20000 : rng() % 130;
        for (size_t i = 0; i < len; ++i) {
          part.push_back(op == opcode::text && !deflate ? static_cast<uint8_t>(' ' + rng() % 90)
                                                        : static_cast<uint8_t>(rng()));
        }
        whole.insert(whole.end(), part.begin(), part.end());
        uint8_t mask[4];
        for (auto& k : mask) k = static_cast<uint8_t>(rng());
        frame_opts fo{.fin = f == fragments - 1, .rsv1 = deflate && f == 0, .masked = server};
        fo.mask = mask;
        wire = cat({wire, frame(f == 0 ? op : opcode::continuation, part, fo)});
        if (f == fragments - 1) {
          expect.push_back(msg(op, whole, deflate ? compressed::yes : compressed::no));
        }
        if (rng() % 3 == 0) {
          const opcode control = rng() % 2 ? opcode::ping : opcode::pong;
          const bytes ping = random_bytes(rng, rng() % 126);
          wire = cat({wire, frame(control, ping, {.masked = server})});
          expect.push_back(ctl(control, ping));
        }
      }
    }
    const outcome out = run_all_ways(wire, o);
    ASSERT_FALSE(out.error) << out.reason << " iteration " << iter;
    ASSERT_EQ(out.events, expect) << "iteration " << iter;
    ASSERT_TRUE(out.idle);
  }
}

}  // namespace
}  // namespace relay::ws
