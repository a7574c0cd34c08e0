#include "proto/engineio/query.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relay::engineio {
namespace {

TEST(Query, PollingHandshake) {
  const handshake_query q = parse_query("EIO=4&transport=polling&t=OyK3b2c");
  EXPECT_TRUE(q.valid) << q.reason;
  EXPECT_EQ(q.eio, 4u);
  EXPECT_EQ(q.transport, transport_kind::polling);
  EXPECT_FALSE(q.has_sid);
  EXPECT_EQ(q.sid(), "");
  EXPECT_FALSE(q.b64);
}

TEST(Query, WebSocketWithSidAnyOrderLeadingQuestionMark) {
  const handshake_query q = parse_query("?sid=lv_VI97HAXpY6yYWAAAC&transport=websocket&EIO=4");
  EXPECT_TRUE(q.valid) << q.reason;
  EXPECT_EQ(q.transport, transport_kind::websocket);
  EXPECT_TRUE(q.has_sid);
  EXPECT_EQ(q.sid(), "lv_VI97HAXpY6yYWAAAC");
}

TEST(Query, PercentAndPlusDecoding) {
  const handshake_query q =
      parse_query("%45IO=%34&trans%70ort=%77ebsocket&sid=a%2Fb%2bc+d%3D%3d%&b64=1");
  EXPECT_TRUE(q.valid) << q.reason;
  EXPECT_EQ(q.transport, transport_kind::websocket);
  EXPECT_EQ(q.sid(), "a/b+c d==%");
  EXPECT_TRUE(q.b64);
  // A '%' without two hex digits after it stays as it is (URLSearchParams).
  EXPECT_EQ(parse_query("EIO=4&transport=polling&sid=%zz%4").sid(), "%zz%4");
  EXPECT_EQ(parse_query("EIO=4&transport=polling&sid=%00x").sid(), std::string_view("\0x", 2));
}

TEST(Query, UnknownKeysAndEmptyPairsAreIgnored) {
  const handshake_query q = parse_query("&&token=abc&EIO=4&&transport=polling&t=1&t=2&x&=y&");
  EXPECT_TRUE(q.valid) << q.reason;
  // Names are case-sensitive: "eio" is not "EIO".
  EXPECT_FALSE(parse_query("eio=4&transport=polling").valid);
}

TEST(Query, B64NeedsAValue) {
  EXPECT_TRUE(parse_query("EIO=4&transport=polling&b64=0").b64);  // any non-empty string
  EXPECT_FALSE(parse_query("EIO=4&transport=polling&b64=").b64);
  EXPECT_FALSE(parse_query("EIO=4&transport=polling&b64").b64);
}

struct bad_case {
  std::string_view query;
  handshake_error error;
  std::string_view reason;
};

TEST(Query, Invalid) {
  const bad_case cases[] = {
      {"", handshake_error::unknown_transport, "no transport"},
      {"EIO=4", handshake_error::unknown_transport, "no transport"},
      {"EIO=4&transport=flashsocket", handshake_error::unknown_transport, "unknown transport"},
      {"EIO=4&transport=Polling", handshake_error::unknown_transport, "unknown transport"},
      {"EIO=4&transport=webtransport", handshake_error::unknown_transport, "unknown transport"},
      {"EIO=4&transport", handshake_error::unknown_transport, "unknown transport"},
      {"transport=polling", handshake_error::unsupported_protocol_version, "no EIO"},
      {"EIO=3&transport=polling", handshake_error::unsupported_protocol_version, "EIO is not 4"},
      {"EIO=04&transport=polling", handshake_error::unsupported_protocol_version, "EIO is not 4"},
      {"EIO=&transport=polling", handshake_error::unsupported_protocol_version, "EIO is not 4"},
      {"EIO=4&EIO=4&transport=polling", handshake_error::bad_request, "duplicate EIO"},
      {"EIO=4&transport=polling&transport=polling", handshake_error::bad_request,
       "duplicate transport"},
      {"EIO=4&transport=polling&sid=a&sid=a", handshake_error::bad_request, "duplicate sid"},
      {"EIO=4&transport=polling&b64=1&b64=1", handshake_error::bad_request, "duplicate b64"},
      {"EIO=4&transport=polling&%73id=a&sid=b", handshake_error::bad_request, "duplicate sid"},
      {"EIO=4&transport=polling&sid=", handshake_error::bad_request, "empty sid"},
      {"EIO=4&transport=polling&sid", handshake_error::bad_request, "empty sid"},
  };
  for (const auto& c : cases) {
    const handshake_query q = parse_query(c.query);
    EXPECT_FALSE(q.valid) << c.query;
    EXPECT_EQ(q.error, c.error) << c.query;
    EXPECT_EQ(q.reason, c.reason) << c.query;
  }
}

TEST(Query, EioValueIsReported) {
  EXPECT_EQ(parse_query("EIO=3&transport=polling").eio, 3u);
  EXPECT_EQ(parse_query("EIO=x&transport=polling").eio, 0u);
  EXPECT_EQ(parse_query("transport=polling").eio, 0u);
}

TEST(Query, SidLengthLimit) {
  const std::string longest(kMaxQuerySidSize, 'a');
  const handshake_query ok = parse_query("EIO=4&transport=polling&sid=" + longest);
  EXPECT_TRUE(ok.valid);
  EXPECT_EQ(ok.sid(), longest);
  const handshake_query q = parse_query("EIO=4&transport=polling&sid=" + longest + "a");
  EXPECT_FALSE(q.valid);
  EXPECT_EQ(q.error, handshake_error::unknown_sid);
  EXPECT_EQ(q.sid(), "");
  // Percent-encoding counts decoded bytes.
  std::string encoded;
  for (size_t i = 0; i < kMaxQuerySidSize; ++i) encoded += "%61";
  EXPECT_EQ(parse_query("EIO=4&transport=polling&sid=" + encoded).sid(), longest);
}

TEST(Query, CopiesKeepTheSid) {
  handshake_query q = parse_query("EIO=4&transport=polling&sid=abc");
  const handshake_query copy = q;
  q = parse_query("EIO=4&transport=polling&sid=xyz");
  EXPECT_EQ(copy.sid(), "abc");
  EXPECT_EQ(q.sid(), "xyz");
}

}  // namespace
}  // namespace relay::engineio
