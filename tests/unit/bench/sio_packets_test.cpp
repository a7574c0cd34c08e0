#include "bench/sio_packets.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "bench/client_frames.hpp"
#include "bench/payload_stamp.hpp"
#include "ws/frame_header.hpp"

namespace relay::bench {
namespace {

// What Node's socket.io 4.8 sends (captured), and what Relay sends.
constexpr std::string_view kNodeOpen =
    R"(0{"sid":"ffmrB5zBAtKxJ8vQAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,)"
    R"("maxPayload":1000000})";
constexpr std::string_view kConnectAck = R"(40{"sid":"4FluVV-5zJcruM4_AAAA"})";

sio_kind kind_of(std::string_view message) { return scan_sio_packet(message).kind; }

TEST(SioScan, RecognisesEveryPacketTheClientExpects) {
  EXPECT_EQ(kind_of(kNodeOpen), sio_kind::open);
  EXPECT_EQ(kind_of(R"(0{"sid":"x"})"), sio_kind::open);
  EXPECT_EQ(kind_of(kConnectAck), sio_kind::connect);
  EXPECT_EQ(kind_of("1"), sio_kind::close);
  EXPECT_EQ(kind_of("2"), sio_kind::ping);
  EXPECT_EQ(kind_of("2probe"), sio_kind::ping);
  EXPECT_EQ(kind_of("3"), sio_kind::pong);
  EXPECT_EQ(kind_of("6"), sio_kind::noop);
  EXPECT_EQ(kind_of("41"), sio_kind::disconnect);
  EXPECT_EQ(kind_of(R"(44{"message":"not authorized"})"), sio_kind::connect_error);
  EXPECT_EQ(kind_of(R"(42["m","x"])"), sio_kind::event);
}

TEST(SioScan, FindsTheEventNameAndItsStringArgument) {
  const std::string_view m = R"(42["echo","ABCDEFGHpadding"])";
  const sio_packet p = scan_sio_packet(m);
  ASSERT_EQ(p.kind, sio_kind::event);
  EXPECT_EQ(p.name, "echo");
  EXPECT_EQ(p.data_at, 11u);
  EXPECT_EQ(p.data_size, 15u);
  EXPECT_EQ(m.substr(p.data_at, p.data_size), "ABCDEFGHpadding");

  const sio_packet empty = scan_sio_packet(R"(42["m",""])");
  ASSERT_EQ(empty.kind, sio_kind::event);
  EXPECT_EQ(empty.name, "m");
  EXPECT_EQ(empty.data_at, 8u);
  EXPECT_EQ(empty.data_size, 0u);

  // Base64url and the generator's padding are plain JSON string characters.
  const sio_packet b64 = scan_sio_packet(R"(42["m","AZaz09-_0123456789abcdef"])");
  ASSERT_EQ(b64.kind, sio_kind::event);
  EXPECT_EQ(b64.data_size, 24u);
}

TEST(SioScan, ARecoveryOffsetAfterTheDataIsNotPartOfIt) {
  // With connection state recovery the servers append the event's offset as a last argument.
  const std::string_view m = R"(42["m","ABCDEFGH","1a2b"])";
  const sio_packet p = scan_sio_packet(m);
  ASSERT_EQ(p.kind, sio_kind::event);
  EXPECT_EQ(p.name, "m");
  EXPECT_EQ(m.substr(p.data_at, p.data_size), "ABCDEFGH");
}

TEST(SioScan, RejectsWhatThisClientNeverExpects) {
  const char* const cases[] = {
      "",
      "5",                                              // Engine.IO UPGRADE
      "4",                                              // MESSAGE without a Socket.IO packet
      "7",                                              // no such Engine.IO type
      "0",                                              // OPEN without its object
      "0{}",                                            // OPEN without a session id
      R"(0{"sid":"x")",                                 // unterminated
      R"(0["sid":"x"])",                                // not an object
      "11",                                             // CLOSE with data
      "61",                                             // NOOP with data
      "40",                                             // CONNECT answer without an object
      R"(40/admin,{"sid":"x"})",                        // another namespace
      R"(40{"pid":"x"})",                               // no sid
      "41x",                                            // DISCONNECT with data
      "43[\"x\"]",                                      // ACK: we never ask for one
      R"(451-["echo",{"_placeholder":true,"num":0}])",  // BINARY_EVENT
      R"(42/admin,["echo","x"])",                       // another namespace
      R"(421["echo","x"])",                             // with an ack id
      R"(42[])",                                        // no name
      R"(42["echo"])",                                  // no argument
      R"(42["echo",1])",                                // not a string
      R"(42["echo",{"a":"b"}])",                        // not a string
      R"(42["echo","a","b","c"])",                      // three arguments
      R"(42["echo","a",""])",                           // an empty offset
      R"(42["echo","x",2])",                            // two arguments
      R"(42["echo","a\"b"])",                           // an escape
      R"(42["echo","a\\b"])",                           // an escape
      R"(42["ec\"ho","x"])",                            // an escape in the name
      R"(42["echo","ab])",                              // unterminated string
      R"(42["echo","ab")",                              // unterminated array
      R"(42["echo","ab"] )",                            // trailing byte
      R"(42["echo" ,"ab"])",                            // not the compact form the servers send
      R"(42["echo",)",                                  // truncated
      "42[\"echo\",\"a\001b\"]",                        // a control character must be escaped
      "42[\"echo\",\"a\nb\"]",
  };
  for (const char* c : cases) EXPECT_EQ(kind_of(c), sio_kind::invalid) << c;
}

TEST(SioScan, LongMessagesAreCheckedOnTheirHeadLengthAndEnd) {
  std::string data(1000, 'z');
  encode_stamp(42, reinterpret_cast<uint8_t*>(data.data()));
  const std::string m = "42[\"echo\",\"" + data + "\"]";
  const sio_packet p = scan_sio_packet(m);  // the head is its first kSioHead bytes
  ASSERT_EQ(p.kind, sio_kind::event);
  EXPECT_EQ(p.name, "echo");
  EXPECT_EQ(p.data_size, 1000u);
  uint64_t ns = 0;
  ASSERT_TRUE(decode_stamp(reinterpret_cast<const uint8_t*>(m.data()) + p.data_at, &ns));
  EXPECT_EQ(ns, 42u);

  // A quote within the head is caught; the length must add up with the real end.
  std::string quoted = m;
  quoted[40] = '"';
  EXPECT_EQ(kind_of(quoted), sio_kind::invalid);
  const uint8_t end[2] = {'"', ']'};
  const auto* bytes = reinterpret_cast<const uint8_t*>(m.data());
  EXPECT_EQ(scan_sio_packet({bytes, kSioHead}, m.size(), end).data_size, 1000u);
  EXPECT_EQ(scan_sio_packet({bytes, kSioHead}, m.size() + 5, end).data_size, 1005u);
  const uint8_t wrong_end[2] = {'z', ']'};
  EXPECT_EQ(scan_sio_packet({bytes, kSioHead}, m.size(), wrong_end).kind, sio_kind::invalid);

  // A head that stops inside the name cannot be an event we recognise.
  EXPECT_EQ(scan_sio_packet({bytes, 6}, m.size(), end).kind, sio_kind::invalid);

  // A ping's data must fit the head: the pong echoes it.
  const std::string long_ping = "2" + std::string(kSioHead, 'p');
  EXPECT_EQ(kind_of(long_ping), sio_kind::invalid);
  EXPECT_EQ(kind_of(long_ping.substr(0, kSioHead)), sio_kind::ping);
}

TEST(SioRequestPath, AddsTheEngineIoQuery) {
  EXPECT_EQ(sio_request_path("/", sio_role::member), "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(sio_request_path("", sio_role::member), "/socket.io/?EIO=4&transport=websocket");
  EXPECT_EQ(sio_request_path("/", sio_role::publisher),
            "/socket.io/?EIO=4&transport=websocket&pub=1");
  EXPECT_EQ(sio_request_path("/rt/", sio_role::member), "/rt/?EIO=4&transport=websocket");
  EXPECT_EQ(sio_request_path("/socket.io/?token=abc", sio_role::publisher),
            "/socket.io/?token=abc&EIO=4&transport=websocket&pub=1");
}

TEST(SioEvent, TemplateScansBackToItsNameAndData) {
  const std::string data = "0123456789abcdef";
  const sio_event_template t =
      make_sio_event("echo", {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  const std::string text(t.bytes.begin(), t.bytes.end());
  EXPECT_EQ(text, R"(42["echo","0123456789abcdef"])");
  EXPECT_EQ(t.data_at, 11u);
  const sio_packet p = scan_sio_packet(text);
  ASSERT_EQ(p.kind, sio_kind::event);
  EXPECT_EQ(p.name, "echo");
  EXPECT_EQ(p.data_at, t.data_at);
  EXPECT_EQ(p.data_size, data.size());
  EXPECT_EQ(make_sio_event("pub", {}).data_at, 10u);
}

// The path the load worker takes: server frames in random chunks -> server_frame_reader
// keeping kSioHead bytes -> scan_sio_packet on what it reports.
struct scanner {
  std::vector<sio_packet> packets;
  std::vector<std::string> names;  // copied: a packet's name points into the reader
  std::vector<std::string> stamps;
  bool on_message(const message_view& m) {
    sio_packet p = scan_sio_packet({m.head, m.head_size}, m.length, m.tail);
    names.emplace_back(p.name);
    stamps.push_back(
        p.kind == sio_kind::event && p.data_size >= kStampSize
            ? std::string(reinterpret_cast<const char*>(m.head) + p.data_at, kStampSize)
            : std::string());
    p.name = {};
    packets.push_back(p);
    return true;
  }
  bool on_control(ws::opcode, const uint8_t*, size_t) { return true; }
};

std::vector<uint8_t> text_frame(std::string_view payload) {
  std::vector<uint8_t> out(ws::kMaxFrameHeader + payload.size());
  const size_t h = ws::write_frame_header(out.data(), ws::opcode::text, payload.size());
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<ptrdiff_t>(h));
  out.resize(h + payload.size());
  return out;
}

TEST(SioScan, WorksOnWhatTheFrameReaderKeeps) {
  std::string big(5000, 'k');
  encode_stamp(77, reinterpret_cast<uint8_t*>(big.data()));
  std::string small = "ABCDEFGHxyz";
  encode_stamp(78, reinterpret_cast<uint8_t*>(small.data()));
  const std::string messages[] = {
      std::string(kNodeOpen),         std::string(kConnectAck), "2",  "42[\"m\",\"" + small + "\"]",
      "42[\"echo\",\"" + big + "\"]", "42[\"echo\",\"a\\\"\"]", "41",
  };
  std::vector<uint8_t> stream;
  for (const std::string& m : messages) {
    const auto f = text_frame(m);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (const size_t max_chunk : {stream.size(), size_t{1}, size_t{13}, size_t{700}}) {
    std::mt19937 rng(static_cast<unsigned>(max_chunk));
    server_frame_reader reader(kSioHead);
    scanner s;
    size_t pos = 0;
    while (pos < stream.size()) {
      const size_t n = std::min(stream.size() - pos, 1 + rng() % max_chunk);
      ASSERT_EQ(reader.feed(stream.data() + pos, n, s), frame_error::none);
      pos += n;
    }
    ASSERT_EQ(s.packets.size(), 7u);
    EXPECT_EQ(s.packets[0].kind, sio_kind::open);
    EXPECT_EQ(s.packets[1].kind, sio_kind::connect);
    EXPECT_EQ(s.packets[2].kind, sio_kind::ping);
    EXPECT_EQ(s.packets[3].kind, sio_kind::event);
    EXPECT_EQ(s.names[3], "m");
    EXPECT_EQ(s.packets[3].data_size, small.size());
    EXPECT_EQ(s.stamps[3], small.substr(0, kStampSize));
    EXPECT_EQ(s.packets[4].kind, sio_kind::event);
    EXPECT_EQ(s.names[4], "echo");
    EXPECT_EQ(s.packets[4].data_size, big.size());
    EXPECT_EQ(s.stamps[4], big.substr(0, kStampSize));
    EXPECT_EQ(s.packets[5].kind, sio_kind::invalid);
    EXPECT_EQ(s.packets[6].kind, sio_kind::disconnect);
  }
}

}  // namespace
}  // namespace relay::bench
