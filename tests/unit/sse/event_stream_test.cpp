#include "proto/sse/event_stream.hpp"

#include <gtest/gtest.h>

namespace relay::sse {
namespace {

TEST(SseEvent, EachDataLineIsAFieldAndFieldsCannotBeSplit) {
  std::string out;
  append_event(out, "1,2", "message", "{\"a\":1}");
  EXPECT_EQ(out, "id: 1,2\nevent: message\ndata: {\"a\":1}\n\n");
  out.clear();
  append_event(out, "7\r\nevent: evil", "x\ny", "line one\nline two\r\n");
  EXPECT_EQ(out, "id: 7event: evil\nevent: xy\ndata: line one\ndata: line two\ndata: \n\n");
  out.clear();
  append_comment(out, "ping\nid: 9");
  EXPECT_EQ(out, ": pingid: 9\n\n");
}

TEST(SseResume, PositionsAreOffsetsOnePerRoom) {
  EXPECT_EQ(parse_positions("42", 4), (std::vector<uint64_t>{42}));
  EXPECT_EQ(parse_positions("1,0,7", 4), (std::vector<uint64_t>{1, 0, 7}));
  EXPECT_EQ(format_positions({1, 0, 7}), "1,0,7");
  EXPECT_FALSE(parse_positions("", 4));
  EXPECT_FALSE(parse_positions("1,,2", 4));
  EXPECT_FALSE(parse_positions("-1", 4));
  EXPECT_FALSE(parse_positions("1,2,3,4,5", 4));
  EXPECT_FALSE(parse_positions("99999999999999999999", 4));
  EXPECT_FALSE(parse_positions("1 ", 4));
}

TEST(SseResume, RoomsArePercentDecodedAndBounded) {
  EXPECT_EQ(parse_rooms("chat%3A1,news", 4, 200), (std::vector<std::string>{"chat:1", "news"}));
  EXPECT_FALSE(parse_rooms("", 4, 200));
  EXPECT_FALSE(parse_rooms("a,,b", 4, 200));
  EXPECT_FALSE(parse_rooms("a%zz", 4, 200));
  EXPECT_FALSE(parse_rooms("a%4", 4, 200));
  EXPECT_FALSE(parse_rooms("a,b,c,d,e", 4, 200));
  EXPECT_FALSE(parse_rooms("toolong", 4, 3));
}

}  // namespace
}  // namespace relay::sse
