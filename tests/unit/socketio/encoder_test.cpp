#include "proto/socketio/encoder.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace relay::socketio {
namespace {

using json::array;
using json::binary;
using json::object;
using json::value;
using enum packet_type;

std::vector<std::vector<uint8_t>> bytes_of(const encoded_packet& e) {
  std::vector<std::vector<uint8_t>> out;
  for (const auto& a : e.attachments) out.push_back(*a);
  return out;
}

struct text_case {
  packet p;
  const char* expected;  // socket.io-parser 4.2.7 Encoder output for the same packet
};

TEST(SocketioEncoder, TextPacketsAsSocketIoParser) {
  const text_case cases[] = {
      {{connect, "/", std::nullopt, std::nullopt}, "0"},
      {{connect, "/admin", std::nullopt, value(object{{"token", "x"}})},
       R"(0/admin,{"token":"x"})"},
      {{connect, "/", std::nullopt, value(object{{"sid", "oSO0OpakMV_3jnilAAAA"}})},
       R"(0{"sid":"oSO0OpakMV_3jnilAAAA"})"},
      {{disconnect, "/", std::nullopt, std::nullopt}, "1"},
      {{disconnect, "/admin", std::nullopt, std::nullopt}, "1/admin,"},
      {{event, "/", std::nullopt, value(array{"hello", 1})}, R"(2["hello",1])"},
      {{event, "/admin", std::nullopt, value(array{"a"})}, R"(2/admin,["a"])"},
      {{event, "/admin", 12, value(array{"a"})}, R"(2/admin,12["a"])"},
      {{event, "/", 0, value(array{"a"})}, R"(20["a"])"},
      {{event, "/", std::nullopt, value(array{42, "x"})}, R"(2[42,"x"])"},
      {{ack, "/", 12, value(array{"b"})}, R"(312["b"])"},
      {{ack, "/admin", 13, value(array{})}, "3/admin,13[]"},
      {{connect_error, "/", std::nullopt, value(object{{"message", "Not authorized"}})},
       R"(4{"message":"Not authorized"})"},
      {{connect_error, "/random", std::nullopt, value("Invalid namespace")},
       R"(4/random,"Invalid namespace")"},
      {{event, "/ns/with/slashes?x=1", 3, value(array{"a"})}, R"(2/ns/with/slashes?x=1,3["a"])"},
      {{event, "", std::nullopt, value(array{"a"})}, R"(2["a"])"},  // empty namespace means "/"
      {{event, "/", std::nullopt,
        value(array{"s", "q\"b\\s/\b\f\n\r\t" + std::string(1, '\0') + "\x1f\x7f é€😀\u2028", 1.5,
                    -0.0, 1e21, 1e-7, 0.1, 123456789012345680000.0, nullptr, true, false, object{},
                    array{}})},
       "2[\"s\",\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f é€😀\u2028\",1.5,0,1e+21,1e-7,0.1,"
       "123456789012345680000,null,true,false,{},[]]"},
  };
  for (const auto& c : cases) {
    const encoded_packet e = encode(c.p);
    EXPECT_EQ(e.text, c.expected);
    EXPECT_TRUE(e.attachments.empty()) << c.expected;
  }
}

TEST(SocketioEncoder, BinaryEventWithOneAttachment) {
  const encoded_packet e = encode({event, "/", std::nullopt, value(array{"a", binary({1, 2, 3})})});
  EXPECT_EQ(e.text, R"(51-["a",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(bytes_of(e), (std::vector<std::vector<uint8_t>>{{1, 2, 3}}));
}

TEST(SocketioEncoder, BinaryEventWithNamespaceAndTwoAttachments) {
  const encoded_packet e =
      encode({event, "/admin", std::nullopt, value(array{"baz", binary({1, 2}), binary({3, 4})})});
  EXPECT_EQ(e.text,
            R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(bytes_of(e), (std::vector<std::vector<uint8_t>>{{1, 2}, {3, 4}}));
}

TEST(SocketioEncoder, NestedBinariesInDepthFirstOrder) {
  const value data =
      array{"x", object{{"a", array{binary({1}), object{{"b", binary({2})}}}}, {"c", binary({3})}},
            binary({4})};
  const encoded_packet e = encode({event, "/", 7, data});
  EXPECT_EQ(e.text,
            R"(54-7["x",{"a":[{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}],)"
            R"("c":{"_placeholder":true,"num":2}},{"_placeholder":true,"num":3}])");
  EXPECT_EQ(bytes_of(e), (std::vector<std::vector<uint8_t>>{{1}, {2}, {3}, {4}}));
}

// encode_event writes what encode() writes for the packet with [event, args...] as its data.
TEST(SocketioEncoder, EventFromPartsMatchesEncode) {
  const std::vector<array> cases{
      {},
      {"hi"},
      {1, 2.5, nullptr, true, object{{"k", array{"v"}}}},
      {binary({1, 2})},
      {"x", object{{"a", array{binary({1}), object{{"b", binary({2})}}}}, {"c", binary({3})}},
       binary({4})},
  };
  for (const char* nsp : {"/", "/admin"}) {
    for (const char* name : {"echo", "with \"quotes\"\n", "a-rather-long-event-name-here"}) {
      for (const array& args : cases) {
        array all{name};
        all.insert(all.end(), args.begin(), args.end());
        const encoded_packet want = encode({event, nsp, std::nullopt, value(all)});
        encoded_packet got;
        got.text = "stale";
        encode_event(nsp, std::nullopt, name, args, got);
        EXPECT_EQ(got.text, want.text);
        EXPECT_EQ(bytes_of(got), bytes_of(want)) << want.text;
      }
    }
  }
}

TEST(SocketioEncoder, BinaryAck) {
  EXPECT_EQ(encode({ack, "/", 15, value(array{"bar", binary({1, 2, 3, 4})})}).text,
            R"(61-15["bar",{"_placeholder":true,"num":0}])");
  const encoded_packet e = encode({ack, "/admin", kMaxAckId, value(array{binary({})})});
  EXPECT_EQ(e.text, R"(61-/admin,9007199254740991[{"_placeholder":true,"num":0}])");
  ASSERT_EQ(e.attachments.size(), 1u);
  EXPECT_TRUE(e.attachments[0]->empty());
}

TEST(SocketioEncoder, AttachmentsAreSharedNotCopied) {
  const value blob = binary(std::vector<uint8_t>(1000, 7));
  const encoded_packet e = encode({event, "/", std::nullopt, value(array{"a", blob, blob})});
  ASSERT_EQ(e.attachments.size(), 2u);
  EXPECT_EQ(e.attachments[0].get(), blob.as_binary().get());
  EXPECT_EQ(e.attachments[1].get(), blob.as_binary().get());
}

TEST(SocketioEncoder, TypeFollowsTheData) {
  // BINARY_* without blobs goes out as EVENT / ACK: "50-" would not decode.
  EXPECT_EQ(encode({binary_event, "/", std::nullopt, value(array{"a"})}).text, R"(2["a"])");
  EXPECT_EQ(encode({binary_ack, "/", 1, value(array{})}).text, "31[]");
  EXPECT_EQ(encode({binary_event, "/", std::nullopt, value(array{"a", binary({1})})}).text,
            R"(51-["a",{"_placeholder":true,"num":0}])");
}

TEST(SocketioEncoder, BlobsOutsideEventsAreNodeBuffers) {
  // socket.io-parser only extracts attachments from EVENT / ACK; JSON.stringify does the rest.
  const encoded_packet e =
      encode({connect, "/", std::nullopt, value(object{{"buf", binary({1, 2})}})});
  EXPECT_EQ(e.text, R"(0{"buf":{"type":"Buffer","data":[1,2]}})");
  EXPECT_TRUE(e.attachments.empty());
}

TEST(SocketioEncoder, ReusesOutput) {
  encoded_packet out;
  encode({event, "/", std::nullopt, value(array{"a", binary({1})})}, out);
  encode({event, "/", std::nullopt, value(array{"b"})}, out);
  EXPECT_EQ(out.text, R"(2["b"])");
  EXPECT_TRUE(out.attachments.empty());
}

}  // namespace
}  // namespace relay::socketio
