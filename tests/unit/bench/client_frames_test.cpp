#include "bench/client_frames.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ws/frame_parser.hpp"

namespace relay::bench {
namespace {

using ws::opcode;

// What the reader reported, in order.
struct event {
  bool control;
  opcode op;
  uint64_t length;
  std::string data;  // stamp bytes (messages) or payload (control frames)
  bool operator==(const event&) const = default;
};

struct recorder {
  std::vector<event> events;
  bool stop_on_close = true;
  std::vector<std::string> heads;  // every message's kept head and tail: "head|tail"
  bool on_message(const message_view& m) {
    const uint8_t* stamp = m.stamp();
    events.push_back(
        {false, m.op, m.length,
         stamp ? std::string(reinterpret_cast<const char*>(stamp), kStampSize) : std::string()});
    heads.push_back(std::string(reinterpret_cast<const char*>(m.head), m.head_size) + "|" +
                    (m.length >= 2 ? std::string(reinterpret_cast<const char*>(m.tail), 2) : ""));
    return true;
  }
  bool on_control(opcode op, const uint8_t* payload, size_t length) {
    events.push_back(
        {true, op, length, std::string(reinterpret_cast<const char*>(payload), length)});
    return !(stop_on_close && op == opcode::close);
  }
};

// An unmasked server frame.
std::vector<uint8_t> server_frame(opcode op, std::string_view payload,
                                  ws::final_frame fin = ws::final_frame::yes) {
  std::vector<uint8_t> out(ws::kMaxFrameHeader + payload.size());
  const size_t h = ws::write_frame_header(out.data(), op, payload.size(), fin);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<ptrdiff_t>(h));
  out.resize(h + payload.size());
  return out;
}

void append(std::vector<uint8_t>& to, const std::vector<uint8_t>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Feeds data in chunks of random sizes (1..max_chunk), as reads would deliver it.
frame_error feed_chunked(server_frame_reader& r, const std::vector<uint8_t>& data, recorder& rec,
                         std::mt19937& rng, size_t max_chunk) {
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t n = std::min(data.size() - pos, 1 + rng() % max_chunk);
    const frame_error e = r.feed(data.data() + pos, n, rec);
    if (e != frame_error::none) return e;
    pos += n;
  }
  return frame_error::none;
}

std::string stamped(size_t size, uint64_t ns) {
  std::string s(size, 'x');
  if (size >= kStampSize) encode_stamp(ns, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}

std::string stamp_of(uint64_t ns) {
  uint8_t s[kStampSize];
  encode_stamp(ns, s);
  return std::string(reinterpret_cast<char*>(s), kStampSize);
}

TEST(ServerFrameReader, ReportsMessagesOfEveryLengthEncoding) {
  std::vector<uint8_t> stream;
  std::vector<event> expected;
  const size_t sizes[] = {0, 1, 7, 8, 20, 125, 126, 1024, 65535, 65536, 70000};
  uint64_t t = 1000;
  for (const size_t size : sizes) {
    const opcode op = size % 2 ? opcode::binary : opcode::text;
    append(stream, server_frame(op, stamped(size, ++t)));
    expected.push_back({false, op, size, size >= kStampSize ? stamp_of(t) : std::string()});
  }
  // Whole, byte by byte, and in random chunks: the same events.
  for (const size_t max_chunk : {stream.size(), size_t{1}, size_t{3}, size_t{100}, size_t{5000}}) {
    std::mt19937 rng(static_cast<unsigned>(max_chunk));
    server_frame_reader r;
    recorder rec;
    ASSERT_EQ(feed_chunked(r, stream, rec, rng, max_chunk), frame_error::none);
    EXPECT_EQ(rec.events, expected) << "max chunk " << max_chunk;
    EXPECT_FALSE(r.message_in_progress());
  }
}

TEST(ServerFrameReader, ReassemblesFragmentsWithControlFramesInBetween) {
  // RFC 6455 §5.4: control frames may be injected between fragments.
  const std::string payload = stamped(40, 987654321);
  std::vector<uint8_t> stream;
  append(stream, server_frame(opcode::text, payload.substr(0, 3), ws::final_frame::no));
  append(stream, server_frame(opcode::ping, "hi"));
  append(stream, server_frame(opcode::continuation, payload.substr(3, 10), ws::final_frame::no));
  append(stream, server_frame(opcode::continuation, "", ws::final_frame::no));
  append(stream, server_frame(opcode::continuation, payload.substr(13)));
  append(stream, server_frame(opcode::binary, stamped(9, 5)));
  for (const size_t max_chunk : {stream.size(), size_t{1}, size_t{4}}) {
    std::mt19937 rng(1);
    server_frame_reader r;
    recorder rec;
    ASSERT_EQ(feed_chunked(r, stream, rec, rng, max_chunk), frame_error::none);
    const std::vector<event> expected = {
        {true, opcode::ping, 2, "hi"},
        {false, opcode::text, 40, stamp_of(987654321)},
        {false, opcode::binary, 9, stamp_of(5)},
    };
    EXPECT_EQ(rec.events, expected);
  }
}

TEST(ServerFrameReader, KeepsTheRequestedHeadAndTheLastTwoBytes) {
  // Socket.IO needs more than the stamp: the packet header precedes it, and `"]` ends it.
  std::string big(300, 'q');
  big.replace(0, 5, "start");
  big.replace(big.size() - 3, 3, "end");
  std::vector<uint8_t> stream;
  append(stream, server_frame(opcode::text, "a"));
  append(stream, server_frame(opcode::text, "42[\"m\",\"xy\"]"));
  // Fragmented, with a one-byte last fragment: the tail spans two frames.
  append(stream, server_frame(opcode::text, big.substr(0, 150), ws::final_frame::no));
  append(stream, server_frame(opcode::continuation, big.substr(150, 149), ws::final_frame::no));
  append(stream, server_frame(opcode::continuation, big.substr(299)));
  const std::vector<std::string> expected = {
      "a|",
      "42[\"m\",\"xy\"]|\"]",
      big.substr(0, kMaxKeptHead) + "|nd",
  };
  for (const size_t max_chunk : {stream.size(), size_t{1}, size_t{7}}) {
    std::mt19937 rng(3);
    server_frame_reader r(kMaxKeptHead);
    recorder rec;
    ASSERT_EQ(feed_chunked(r, stream, rec, rng, max_chunk), frame_error::none);
    EXPECT_EQ(rec.heads, expected) << "max chunk " << max_chunk;
  }
  // The default keeps the stamp only.
  server_frame_reader r;
  recorder rec;
  ASSERT_EQ(r.feed(stream.data(), stream.size(), rec), frame_error::none);
  ASSERT_EQ(rec.heads.size(), 3u);
  EXPECT_EQ(rec.heads[2], "startqqq|nd");
}

TEST(ServerFrameReader, EmptyFramesAtTheEndOfInputAreReported) {
  server_frame_reader r;
  recorder rec;
  const auto f = server_frame(opcode::pong, "");
  ASSERT_EQ(r.feed(f.data(), f.size(), rec), frame_error::none);
  const auto g = server_frame(opcode::text, "");
  ASSERT_EQ(r.feed(g.data(), g.size(), rec), frame_error::none);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[0], (event{true, opcode::pong, 0, ""}));
  EXPECT_EQ(rec.events[1], (event{false, opcode::text, 0, ""}));
}

TEST(ServerFrameReader, StopsAtCloseWhenTheHandlerSaysSo) {
  std::vector<uint8_t> stream;
  append(stream, server_frame(opcode::close, std::string("\x03\xe8", 2)));
  append(stream, server_frame(opcode::text, "after close"));
  server_frame_reader r;
  recorder rec;
  ASSERT_EQ(r.feed(stream.data(), stream.size(), rec), frame_error::none);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0], (event{true, opcode::close, 2, std::string("\x03\xe8", 2)}));
}

struct bad_case {
  const char* name;
  std::vector<uint8_t> bytes;
  frame_error expected;
};

TEST(ServerFrameReader, RejectsWhatAServerMustNotSend) {
  std::vector<uint8_t> masked = {0x81, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2};
  std::vector<uint8_t> long_ping = server_frame(opcode::ping, std::string(126, 'p'));
  std::vector<uint8_t> fragmented_ping = server_frame(opcode::ping, "x", ws::final_frame::no);
  std::vector<uint8_t> data_inside_fragmented =
      server_frame(opcode::text, "ab", ws::final_frame::no);
  append(data_inside_fragmented, server_frame(opcode::text, "cd"));
  const bad_case cases[] = {
      {"rsv1", {0xC1, 0x00}, frame_error::reserved_bits},
      {"rsv2", {0xA1, 0x00}, frame_error::reserved_bits},
      {"rsv3", {0x91, 0x00}, frame_error::reserved_bits},
      {"masked", masked, frame_error::masked_frame},
      {"opcode 3", {0x83, 0x00}, frame_error::reserved_opcode},
      {"opcode 0xB", {0x8B, 0x00}, frame_error::reserved_opcode},
      {"ping > 125", long_ping, frame_error::bad_control_frame},
      {"fragmented ping", fragmented_ping, frame_error::bad_control_frame},
      {"continuation first", {0x80, 0x00}, frame_error::bad_continuation},
      {"data inside fragmented", data_inside_fragmented, frame_error::bad_continuation},
      {"16-bit length < 126", {0x82, 126, 0x00, 0x7D}, frame_error::bad_length},
      {"64-bit length <= 0xFFFF",
       {0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
       frame_error::bad_length},
      {"64-bit length top bit", {0x82, 127, 0x80, 0, 0, 0, 0, 1, 0, 0}, frame_error::bad_length},
  };
  for (const bad_case& c : cases) {
    for (const size_t max_chunk : {c.bytes.size(), size_t{1}}) {
      std::mt19937 rng(1);
      server_frame_reader r;
      recorder rec;
      EXPECT_EQ(feed_chunked(r, c.bytes, rec, rng, max_chunk), c.expected) << c.name;
      // A failed reader stays failed.
      const uint8_t ok[] = {0x81, 0x00};
      EXPECT_EQ(r.feed(ok, sizeof ok, rec), c.expected) << c.name;
    }
  }
}

TEST(RawMessageReader, CutsTheStreamIntoMessagesOfTheSize) {
  constexpr uint32_t kSize = 20;
  std::vector<uint8_t> stream;
  for (uint64_t i = 0; i < 50; ++i) {
    const std::string m = stamped(kSize, 1000 + i);
    stream.insert(stream.end(), m.begin(), m.end());
  }
  for (const size_t max_chunk : {stream.size(), size_t{1}, size_t{7}, size_t{33}}) {
    std::mt19937 rng(9);
    raw_message_reader r(kSize);
    recorder rec;
    size_t pos = 0;
    while (pos < stream.size()) {
      const size_t n = std::min(stream.size() - pos, 1 + rng() % max_chunk);
      r.feed(stream.data() + pos, n, rec);
      pos += n;
    }
    ASSERT_EQ(rec.events.size(), 50u);
    for (uint64_t i = 0; i < 50; ++i)
      EXPECT_EQ(rec.events[i], (event{false, opcode::binary, kSize, stamp_of(1000 + i)}));
  }
}

TEST(RawMessageReader, MessagesShorterThanAStampHaveNone) {
  raw_message_reader r(3);
  recorder rec;
  const uint8_t data[] = {'a', 'b', 'c', 'd', 'e', 'f', 'g'};
  r.feed(data, sizeof data, rec);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[1], (event{false, opcode::binary, 3, ""}));
}

// The server's own parser (src/ws) must accept what the load generator sends.
struct server_side : ws::frame_handler {
  std::vector<std::pair<opcode, std::string>> got;
  bool on_message(opcode op, std::span<uint8_t> p, ws::compressed) override {
    got.emplace_back(op, std::string(p.begin(), p.end()));
    return true;
  }
  bool on_control(opcode op, std::span<uint8_t> p) override {
    got.emplace_back(op, std::string(p.begin(), p.end()));
    return true;
  }
};

TEST(ClientFrameWriter, FramesAreMaskedAndParseOnTheServerSide) {
  std::mt19937 rng(5);
  std::vector<uint8_t> wire;
  std::vector<std::pair<opcode, std::string>> expected;
  for (const size_t size : {0, 5, 8, 125, 126, 1000, 65536}) {
    std::string payload(size, '\0');
    for (char& ch : payload) ch = static_cast<char>('a' + rng() % 26);
    uint8_t mask[4];
    for (uint8_t& m : mask) m = static_cast<uint8_t>(rng());
    std::vector<uint8_t> frame(ws::kMaxFrameHeader + size);
    const size_t n = write_client_frame(
        frame.data(), opcode::binary,
        {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}, mask);
    ASSERT_EQ(n, ws::frame_header_size(size, true) + size);
    EXPECT_EQ(frame[1] & 0x80, 0x80) << "mask bit";
    frame.resize(n);
    wire.insert(wire.end(), frame.begin(), frame.end());
    expected.emplace_back(opcode::binary, payload);
  }
  ws::frame_parser parser(ws::parser_options{.side = ws::role::server});
  server_side h;
  ASSERT_EQ(parser.feed(wire, h), nullptr);
  EXPECT_EQ(h.got, expected);
}

TEST(ClientFrameWriter, StampedFramesCarryTheSendTime) {
  const std::string tmpl(64, 'z');
  const uint8_t mask[4] = {0xDE, 0xAD, 0xBE, 0xEF};
  std::vector<uint8_t> frame(ws::kMaxFrameHeader + tmpl.size());
  const size_t n = write_stamped_frame(frame.data(), opcode::text,
                                       {reinterpret_cast<const uint8_t*>(tmpl.data()), tmpl.size()},
                                       123456789012345ull, mask);
  frame.resize(n);
  ws::frame_parser parser(ws::parser_options{.side = ws::role::server});
  server_side h;
  ASSERT_EQ(parser.feed(frame, h), nullptr);  // text: the stamp keeps it valid UTF-8
  ASSERT_EQ(h.got.size(), 1u);
  const std::string& p = h.got[0].second;
  ASSERT_EQ(p.size(), 64u);
  uint64_t sent;
  ASSERT_TRUE(decode_stamp(reinterpret_cast<const uint8_t*>(p.data()), &sent));
  EXPECT_EQ(sent, 123456789012345ull & kStampMask);
  EXPECT_EQ(p.substr(kStampSize), tmpl.substr(kStampSize));
}

TEST(ClientFrameWriter, StampsAtAnOffsetInAnyMaskPhase) {
  // Socket.IO: the stamp is the start of the event's string argument, after `42["echo","`.
  const std::string tmpl = "42[\"echo\",\"" + std::string(40, 'p') + "\"]";
  for (const size_t at : {size_t{10}, size_t{11}, size_t{12}, size_t{13}}) {
    const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::vector<uint8_t> frame(ws::kMaxFrameHeader + tmpl.size());
    const size_t n = write_stamped_frame(
        frame.data(), opcode::text, {reinterpret_cast<const uint8_t*>(tmpl.data()), tmpl.size()},
        987654321ull, mask, at);
    frame.resize(n);
    ws::frame_parser parser(ws::parser_options{.side = ws::role::server});
    server_side h;
    ASSERT_EQ(parser.feed(frame, h), nullptr);
    ASSERT_EQ(h.got.size(), 1u);
    const std::string& p = h.got[0].second;
    ASSERT_EQ(p.size(), tmpl.size());
    uint64_t sent;
    ASSERT_TRUE(decode_stamp(reinterpret_cast<const uint8_t*>(p.data()) + at, &sent)) << at;
    EXPECT_EQ(sent, 987654321ull);
    EXPECT_EQ(p.substr(0, at), tmpl.substr(0, at));
    EXPECT_EQ(p.substr(at + kStampSize), tmpl.substr(at + kStampSize));
  }
  // No room for a stamp, or none asked for: the template goes out as it is.
  for (const size_t at : {tmpl.size() - 7, kNoStamp}) {
    const uint8_t mask[4] = {1, 2, 3, 4};
    std::vector<uint8_t> frame(ws::kMaxFrameHeader + tmpl.size());
    frame.resize(write_stamped_frame(frame.data(), opcode::text,
                                     {reinterpret_cast<const uint8_t*>(tmpl.data()), tmpl.size()},
                                     5, mask, at));
    ws::frame_parser parser(ws::parser_options{.side = ws::role::server});
    server_side h;
    ASSERT_EQ(parser.feed(frame, h), nullptr);
    ASSERT_EQ(h.got.size(), 1u);
    EXPECT_EQ(h.got[0].second, tmpl);
  }
}

}  // namespace
}  // namespace relay::bench
