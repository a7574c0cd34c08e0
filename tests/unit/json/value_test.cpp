#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "relay/json.hpp"

namespace relay::json {
namespace {

TEST(JsonValue, ConstructorsPickTheType) {
  EXPECT_TRUE(value().is_null());
  EXPECT_TRUE(value(nullptr).is_null());
  EXPECT_TRUE(value(true).is_bool());
  EXPECT_EQ(value(1).type(), value_type::integer);
  EXPECT_EQ(value(int8_t{-3}).as_int(), -3);
  EXPECT_EQ(value(uint32_t{4000000000}).as_int(), 4000000000);
  EXPECT_EQ(value(std::numeric_limits<int64_t>::min()).as_int(),
            std::numeric_limits<int64_t>::min());
  // Above INT64_MAX there is no integer type left: a double, as JavaScript would hold it.
  EXPECT_TRUE(value(std::numeric_limits<uint64_t>::max()).is_double());
  EXPECT_EQ(value(uint64_t{1} << 63).as_double(), 9223372036854775808.0);
  EXPECT_TRUE(value(1.5).is_double());
  EXPECT_TRUE(value(1.5f).is_double());
  EXPECT_EQ(value("x").as_string(), "x");
  EXPECT_EQ(value(std::string_view("sv")).as_string(), "sv");
  EXPECT_EQ(value(std::string("s")).as_string(), "s");
  EXPECT_TRUE(value(array{}).is_array());
  EXPECT_TRUE(value(object{}).is_object());
  EXPECT_TRUE(binary({1, 2}).is_binary());
  // A null blob pointer still makes a blob (empty), never a null pointer inside.
  const value empty_blob = value(binary_ptr());
  ASSERT_TRUE(empty_blob.is_binary());
  ASSERT_NE(empty_blob.as_binary(), nullptr);
  EXPECT_TRUE(empty_blob.as_binary()->empty());
}

TEST(JsonValue, BraceInitializedArraysAndObjects) {
  const value a = array{1, "two", nullptr, array{true}};
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1].as_string(), "two");
  EXPECT_TRUE(a[2].is_null());
  EXPECT_TRUE(a[3][0].as_bool());

  const value o = object{{"a", 1}, {"b", true}, {"c", object{{"d", "e"}}}};
  ASSERT_TRUE(o.is_object());
  EXPECT_EQ(o.size(), 3u);
  EXPECT_EQ(o.as_object()[0].first, "a");
  EXPECT_EQ(o.find("c")->find("d")->as_string(), "e");
}

TEST(JsonValue, NestingOneElementArrays) {
  // value() around the inner array nests on every compiler (see json.hpp).
  EXPECT_EQ(to_string(value(array{value(array{1})})), "[[1]]");
  EXPECT_EQ(to_string(value(array{value(array{value(array{})})})), "[[[]]]");
}

TEST(JsonValue, ObjectsKeepInsertionOrder) {
  value o;
  o["zeta"] = 1;
  o["alpha"] = 2;
  o["10"] = 3;  // JavaScript would move integer-like keys first; we keep insertion order
  o["mid"] = 4;
  o["alpha"] = 5;  // existing key: updated in place
  EXPECT_EQ(to_string(o), R"({"zeta":1,"alpha":5,"10":3,"mid":4})");
}

TEST(JsonValue, FindAndSubscript) {
  value o = object{{"a", 1}};
  EXPECT_EQ(o.find("a")->as_int(), 1);
  EXPECT_EQ(o.find("b"), nullptr);
  EXPECT_EQ(value(1).find("a"), nullptr);  // not an object: nothing found
  EXPECT_EQ(value(array{1}).find("0"), nullptr);
  value& b = o["b"];  // missing: appended as null
  EXPECT_TRUE(b.is_null());
  EXPECT_EQ(o.size(), 2u);
  *o.find("a") = "changed";
  EXPECT_EQ(to_string(o), R"({"a":"changed","b":null})");
  value n;  // null becomes an object / an array on first use
  n["k"]["nested"] = true;
  EXPECT_EQ(to_string(n), R"({"k":{"nested":true}})");
  value list;
  list.push_back(1);
  list.push_back("x");
  EXPECT_EQ(to_string(list), R"([1,"x"])");
}

TEST(JsonValue, MutableAccessors) {
  value s = "ab";
  s.as_string() += "c";
  EXPECT_EQ(s.as_string(), "abc");
  value a = array{1};
  a.as_array().emplace_back(2);
  a[0] = 0;
  EXPECT_EQ(to_string(a), "[0,2]");
  value o = object{};
  o.as_object().emplace_back("k", 1);
  EXPECT_EQ(to_string(o), R"({"k":1})");
}

TEST(JsonValue, Size) {
  EXPECT_EQ(value().size(), 0u);
  EXPECT_EQ(value(5).size(), 0u);
  EXPECT_EQ(value("abc").size(), 3u);
  EXPECT_EQ(value(array{1, 2}).size(), 2u);
  EXPECT_EQ(value(object{{"a", 1}}).size(), 1u);
  EXPECT_EQ(binary({1, 2, 3, 4}).size(), 4u);
}

TEST(JsonValue, EqualityComparesNumbersByValue) {
  EXPECT_EQ(value(1), value(1.0));
  EXPECT_EQ(value(1.0), value(1));
  EXPECT_EQ(value(0), value(-0.0));
  EXPECT_NE(value(1), value(1.5));
  // Exact: 2^53 + 1 is not the double 2^53, although converting it to double would say so.
  EXPECT_NE(value(int64_t{9007199254740993}), value(9007199254740992.0));
  EXPECT_EQ(value(int64_t{9007199254740992}), value(9007199254740992.0));
  EXPECT_NE(value(std::numeric_limits<int64_t>::max()), value(9223372036854775808.0));
  EXPECT_EQ(value(std::numeric_limits<int64_t>::min()), value(-9223372036854775808.0));
  EXPECT_NE(value(0), value(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_NE(value(1), value(true));
  EXPECT_NE(value(0), value());
  EXPECT_NE(value("1"), value(1));
}

TEST(JsonValue, EqualityOfContainers) {
  EXPECT_EQ(value(array{1, "a"}), value(array{1.0, "a"}));
  EXPECT_NE(value(array{1, "a"}), value(array{"a", 1}));
  EXPECT_EQ(value(object{{"a", 1}, {"b", 2}}), value(object{{"a", 1}, {"b", 2}}));
  // Key order is part of the value (it is part of its JSON text).
  EXPECT_NE(value(object{{"a", 1}, {"b", 2}}), value(object{{"b", 2}, {"a", 1}}));
  EXPECT_NE(value(object{{"a", 1}}), value(object{{"a", 1}, {"b", 2}}));
  // Blobs compare by content.
  EXPECT_EQ(binary({1, 2}), binary({1, 2}));
  EXPECT_NE(binary({1, 2}), binary({1, 3}));
  EXPECT_NE(binary({}), value(array{}));
}

TEST(JsonValue, CopiesAreDeepButBlobsShared) {
  const value blob = binary({9});
  value a = array{object{{"k", array{1}}}, blob};
  value b = a;
  b[0]["k"].push_back(2);
  EXPECT_EQ(to_string(a[0]), R"({"k":[1]})");
  EXPECT_EQ(to_string(b[0]), R"({"k":[1,2]})");
  EXPECT_EQ(a[1].as_binary().get(), b[1].as_binary().get());
}

TEST(JsonValue, ContainsBinaryAtAnyDepth) {
  EXPECT_FALSE(value().contains_binary());
  EXPECT_FALSE(value(array{1, "x", object{{"a", array{}}}}).contains_binary());
  EXPECT_TRUE(binary({}).contains_binary());
  EXPECT_TRUE(value(array{1, binary({1})}).contains_binary());
  EXPECT_TRUE(value(object{{"a", array{object{{"b", array{value(array{binary({2})})}}}}}})
                  .contains_binary());
}

}  // namespace
}  // namespace relay::json
