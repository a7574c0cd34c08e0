#include "proto/socketio/decoder.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/socketio/encoder.hpp"

namespace relay::socketio {
namespace {

using json::array;
using json::binary;
using json::object;
using json::value;
using enum packet_type;

json::binary_ptr blob(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

// Decodes one text message that must yield a packet at once.
packet decoded(std::string_view text, decoder_options options = {}) {
  decoder d(options);
  auto r = d.feed_text(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  if (!r || !r->has_value()) {
    ADD_FAILURE() << text << ": no packet";
    return {};
  }
  EXPECT_FALSE(d.awaiting_attachments());
  return **r;
}

decode_errc error_of(std::string_view text, decoder_options options = {}) {
  decoder d(options);
  auto r = d.feed_text(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? decode_errc{} : r.error().code;
}

TEST(SocketioDecoder, EveryTypeFromText) {
  EXPECT_EQ(decoded("0"), (packet{connect, "/", std::nullopt, std::nullopt}));
  EXPECT_EQ(decoded(R"(0{"token":"123"})"),
            (packet{connect, "/", std::nullopt, value(object{{"token", "123"}})}));
  EXPECT_EQ(decoded("1"), (packet{disconnect, "/", std::nullopt, std::nullopt}));
  EXPECT_EQ(decoded(R"(2["hello",1])"),
            (packet{event, "/", std::nullopt, value(array{"hello", 1})}));
  EXPECT_EQ(decoded(R"(2[42])"), (packet{event, "/", std::nullopt, value(array{42})}));
  EXPECT_EQ(decoded(R"(312["b"])"), (packet{ack, "/", 12, value(array{"b"})}));
  EXPECT_EQ(decoded("30[]"), (packet{ack, "/", 0, value(array{})}));
  EXPECT_EQ(
      decoded(R"(4{"message":"Not authorized"})"),
      (packet{connect_error, "/", std::nullopt, value(object{{"message", "Not authorized"}})}));
  EXPECT_EQ(decoded(R"(4"bad")"), (packet{connect_error, "/", std::nullopt, value("bad")}));
}

TEST(SocketioDecoder, NamespacesAndIds) {
  EXPECT_EQ(decoded("0/admin,"), (packet{connect, "/admin", std::nullopt, std::nullopt}));
  // The ',' may be missing when nothing follows (the v5 test suite sends "40/custom").
  EXPECT_EQ(decoded("0/custom"), (packet{connect, "/custom", std::nullopt, std::nullopt}));
  EXPECT_EQ(decoded("1/custom"), (packet{disconnect, "/custom", std::nullopt, std::nullopt}));
  EXPECT_EQ(decoded(R"(0/admin,{"token":"x"})"),
            (packet{connect, "/admin", std::nullopt, value(object{{"token", "x"}})}));
  EXPECT_EQ(decoded(R"(2/admin,["a"])"),
            (packet{event, "/admin", std::nullopt, value(array{"a"})}));
  EXPECT_EQ(decoded(R"(2/admin,12["a"])"), (packet{event, "/admin", 12, value(array{"a"})}));
  EXPECT_EQ(decoded(R"(3/admin,13[])"), (packet{ack, "/admin", 13, value(array{})}));
  EXPECT_EQ(decoded(R"(2/,["x"])"), (packet{event, "/", std::nullopt, value(array{"x"})}));
  EXPECT_EQ(decoded(R"(2/a/b?c=1,["x"])"),
            (packet{event, "/a/b?c=1", std::nullopt, value(array{"x"})}));
  EXPECT_EQ(decoded(R"(2007["x"])"), (packet{event, "/", 7, value(array{"x"})}));
  EXPECT_EQ(decoded(R"(29007199254740991["x"])"),
            (packet{event, "/", kMaxAckId, value(array{"x"})}));
  // Ids on other types are kept, as socket.io-parser keeps them.
  EXPECT_EQ(decoded(R"(0/admin,5{})"), (packet{connect, "/admin", 5, value(object{})}));
}

TEST(SocketioDecoder, BinaryEventWaitsForItsAttachments) {
  decoder d;
  auto r =
      d.feed_text(R"(52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(d.awaiting_attachments());
  r = d.feed_binary(blob({1, 2, 3}));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  r = d.feed_binary(blob({4, 5, 6}));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->has_value());
  EXPECT_FALSE(d.awaiting_attachments());
  // Typed EVENT, as socket.io-parser hands it out.
  EXPECT_EQ(**r, (packet{event, "/", std::nullopt,
                         value(array{"message", binary({1, 2, 3}), binary({4, 5, 6})})}));
}

TEST(SocketioDecoder, BinaryAckWithNamespaceAndId) {
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(61-/admin,789[{"_placeholder":true,"num":0}])").has_value());
  auto r = d.feed_binary(blob({}));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(**r, (packet{ack, "/admin", 789, value(array{binary({})})}));
}

TEST(SocketioDecoder, NestedPlaceholdersAnyOrder) {
  decoder d;
  // Attachments referenced out of order, one twice, at several depths.
  ASSERT_TRUE(
      d.feed_text(
           R"(53-["x",{"a":[{"_placeholder":true,"num":2},{"b":{"_placeholder":true,"num":0}}]},)"
           R"([[{"_placeholder":true,"num":1}]],{"_placeholder":true,"num":2}])")
          .has_value());
  ASSERT_TRUE(d.feed_binary(blob({0})).has_value());
  ASSERT_TRUE(d.feed_binary(blob({1})).has_value());
  auto r = d.feed_binary(blob({2}));
  ASSERT_TRUE(r && r->has_value());
  const value expected = array{"x", object{{"a", array{binary({2}), object{{"b", binary({0})}}}}},
                               array{value(array{binary({1})})}, binary({2})};
  EXPECT_EQ((*r)->data, expected);
  // The same attachment twice is one shared blob.
  const json::array& items = (*r)->data->as_array();
  EXPECT_EQ(items[1].find("a")->as_array()[0].as_binary(), items[3].as_binary());
}

TEST(SocketioDecoder, PlaceholderNumWrittenAsDouble) {
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0.0}])").has_value());
  auto r = d.feed_binary(blob({9}));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->data, value(array{"a", binary({9})}));
}

TEST(SocketioDecoder, PlaceholdersOnlyInBinaryPackets) {
  // In a plain EVENT a placeholder-shaped object is just an object.
  const packet p = decoded(R"(2["a",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(p.data, value(array{"a", object{{"_placeholder", true}, {"num", 0}}}));
  // Unused attachments are accepted (as socket.io-parser does) and dropped.
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(51-["a",{"_placeholder":false,"num":0}])").has_value());
  auto r = d.feed_binary(blob({1}));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->data, value(array{"a", object{{"_placeholder", false}, {"num", 0}}}));
}

TEST(SocketioDecoder, BadPlaceholders) {
  for (const char* text : {
           R"(51-["a",{"_placeholder":true,"num":1}])",
           R"(51-["a",{"_placeholder":true,"num":-1}])",
           R"(51-["a",{"_placeholder":true,"num":0.5}])",
           R"(51-["a",{"_placeholder":true,"num":"0"}])",
           R"(51-["a",{"_placeholder":true}])",
           R"(52-["a",[{"x":{"_placeholder":true,"num":2}}]])",
           R"(51-["a",{"_placeholder":true,"num":1e300}])",
       }) {
    EXPECT_EQ(error_of(text), decode_errc::bad_placeholder) << text;
  }
}

TEST(SocketioDecoder, AttachmentCount) {
  EXPECT_EQ(error_of(R"(5-["a"])"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of(R"(50-["a"])"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of(R"(51["a"])"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of(R"(5a-["a"])"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of("51"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of("5"), decode_errc::bad_attachments);
  EXPECT_EQ(error_of(R"(511-["a"])"), decode_errc::too_many_attachments);  // default max 10
  EXPECT_EQ(error_of(R"(599999999999999999999999-["a"])"), decode_errc::too_many_attachments);
  decoder_options two;
  two.max_attachments = 2;
  EXPECT_EQ(error_of(R"(53-["a"])", two), decode_errc::too_many_attachments);
  decoder d(two);
  EXPECT_TRUE(d.feed_text(R"(52-["a"])").has_value());
}

TEST(SocketioDecoder, UnknownType) {
  for (const char* text : {"7", "9[]", "x", "/admin,", " 2[\"a\"]", "-1"}) {
    EXPECT_EQ(error_of(text), decode_errc::unknown_type) << text;
  }
  EXPECT_EQ(error_of(""), decode_errc::empty_packet);
}

TEST(SocketioDecoder, BadNamespace) {
  EXPECT_EQ(error_of(R"(2admin,["a"])"), decode_errc::bad_namespace);
  EXPECT_EQ(error_of(R"(0admin,{})"), decode_errc::bad_namespace);
  // A namespace holds no ',': the second one starts the (invalid) payload.
  EXPECT_NE(error_of(R"(2/a,b,["x"])"), decode_errc{});
}

TEST(SocketioDecoder, AckIds) {
  EXPECT_EQ(error_of(R"(29007199254740992["x"])"), decode_errc::bad_ack_id);
  EXPECT_EQ(error_of(R"(299999999999999999999["x"])"), decode_errc::bad_ack_id);
  EXPECT_EQ(error_of(R"(200000000000000001["x"])"), decode_errc::bad_ack_id);  // 17 digits
  EXPECT_EQ(error_of("3[]"), decode_errc::missing_ack_id);
  EXPECT_EQ(error_of(R"(61-[{"_placeholder":true,"num":0}])"), decode_errc::missing_ack_id);
  // The v5 test suite: an id that is not digits is an invalid payload.
  EXPECT_NE(error_of(R"(2abc["message-with-ack",1,"2",{"3":[false]}])"), decode_errc{});
  EXPECT_NE(error_of(R"(2/admin,abc["a"])"), decode_errc{});
}

TEST(SocketioDecoder, InvalidPayloads) {
  for (const char* text : {
           "2",
           "2[]",
           "2{}",
           R"(2"a")",
           "2[null]",
           "2[[]]",
           "2[{}]",
           "2[true]",
           R"(2["connect"])",
           R"(2["disconnect",1])",
           R"(2["newListener"])",
           "3",
           "31",
           "31{}",
           R"(31"x")",
           "4",
           "4[]",
           "41",
           "0[]",
           R"(0"x")",
           "0null",
           "0[1]",
           "1{}",
           "1null",
           "1[]",
           R"(51-[{"_placeholder":true,"num":0}])",
           "51-",
           "2/admin,",
           R"(2/admin["a"])",
       }) {
    EXPECT_EQ(error_of(text), decode_errc::invalid_payload) << text;
  }
}

TEST(SocketioDecoder, InvalidJson) {
  for (const char* text : {R"(2["a")", R"(2["a"]x)", R"(2['a'])", "0{", R"(2["a",])", "4\"x",
                           "2[\"\xff\"]", R"(2["\ud800"])"}) {
    EXPECT_EQ(error_of(text), decode_errc::invalid_json) << text;
  }
  decoder d;
  auto r = d.feed_text(R"(2["a")");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().message.empty());  // the JSON parser's explanation
}

TEST(SocketioDecoder, Limits) {
  decoder_options shallow;
  shallow.max_depth = 3;
  EXPECT_TRUE(decoder(shallow).feed_text(R"(2["a",[[1]]])").has_value());
  EXPECT_EQ(error_of(R"(2["a",[[[1]]]])", shallow), decode_errc::too_deep);
  EXPECT_EQ(error_of("2[\"a\"," + std::string(40, '[') + std::string(40, ']') + "]"),
            decode_errc::too_deep);  // default 32
  decoder_options small;
  small.max_text_size = 8;
  EXPECT_TRUE(decoder(small).feed_text(R"(2["abc"])").has_value());
  EXPECT_EQ(error_of(R"(2["abcd"])", small), decode_errc::too_large);
}

TEST(SocketioDecoder, BinaryWhenNotExpected) {
  decoder d;
  auto r = d.feed_binary(blob({1}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, decode_errc::unexpected_binary);
  ASSERT_TRUE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0}])").has_value());
  ASSERT_TRUE(d.feed_binary(blob({1})).has_value());
  r = d.feed_binary(blob({2}));  // one too many
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, decode_errc::unexpected_binary);
}

TEST(SocketioDecoder, TextWhileAttachmentsPending) {
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(52-["a",{"_placeholder":true,"num":0}])").has_value());
  ASSERT_TRUE(d.feed_binary(blob({1})).has_value());
  auto r = d.feed_text(R"(2["b"])");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, decode_errc::unexpected_text);
  // The partial packet is dropped: the decoder starts afresh.
  EXPECT_FALSE(d.awaiting_attachments());
  r = d.feed_text(R"(2["c"])");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->data, value(array{"c"}));
}

TEST(SocketioDecoder, ResetDropsPartialPacket) {
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0}])").has_value());
  d.reset();
  EXPECT_FALSE(d.awaiting_attachments());
  EXPECT_FALSE(d.feed_binary(blob({1})).has_value());
}

TEST(SocketioDecoder, NullBinaryIsAnEmptyAttachment) {
  decoder d;
  ASSERT_TRUE(d.feed_text(R"(51-["a",{"_placeholder":true,"num":0}])").has_value());
  auto r = d.feed_binary(nullptr);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->data, value(array{"a", binary({})}));
}

TEST(SocketioDecoder, ErrorsAreErrorCodes) {
  const std::error_code ec = decode_errc::unexpected_text;
  EXPECT_EQ(ec.category().name(), std::string("socketio"));
  EXPECT_EQ(ec.message(), "got plaintext data when reconstructing a packet");
}

// Encoding then decoding gives the packet back (EVENT / ACK for binary ones).
TEST(SocketioDecoder, RoundTripsWithEncoder) {
  const packet packets[] = {
      {connect, "/", std::nullopt, std::nullopt},
      {connect, "/admin", std::nullopt, value(object{{"token", "x"}, {"n", 1.5}})},
      {disconnect, "/admin", std::nullopt, std::nullopt},
      {event, "/", std::nullopt, value(array{"hello", 1, nullptr, object{{"k", array{}}}})},
      {event, "/chat", 99, value(array{"msg", "é€😀\n\"", -1e-7})},
      {ack, "/", 0, value(array{})},
      {connect_error, "/x", std::nullopt, value("nope")},
      {event, "/bin", 5,
       value(array{"file", binary({1, 2}),
                   object{{"thumb", binary({})}, {"more", array{binary({3})}}}})},
      {ack, "/", kMaxAckId, value(array{binary({0, 255})})},
  };
  for (const packet& p : packets) {
    const encoded_packet e = encode(p);
    decoder d;
    auto r = d.feed_text(e.text);
    for (const auto& a : e.attachments) {
      ASSERT_TRUE(r.has_value()) << e.text;
      ASSERT_FALSE(r->has_value()) << e.text;
      r = d.feed_binary(a);
    }
    ASSERT_TRUE(r.has_value()) << e.text << ": " << r.error().message;
    ASSERT_TRUE(r->has_value()) << e.text;
    EXPECT_EQ(**r, p) << e.text;
  }
}

}  // namespace
}  // namespace relay::socketio
