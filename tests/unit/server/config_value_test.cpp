#include "server/config_value.hpp"

#include <gtest/gtest.h>

namespace relay::server {
namespace {

constexpr value_rule kMillis{value_kind::duration, time_unit::milliseconds, 0, 100'000'000};
constexpr value_rule kSeconds{value_kind::duration, time_unit::seconds};
constexpr value_rule kBytes{value_kind::size};

int64_t number(const tl::expected<config_value, std::string>& v) {
  EXPECT_TRUE(v.has_value()) << v.error();
  return v ? std::get<int64_t>(*v) : -1;
}

TEST(ConfigValue, DurationsTakeUnitsAndBareNumbersAreTheKeysUnit) {
  EXPECT_EQ(number(parse_text(kMillis, "25000")), 25'000);
  EXPECT_EQ(number(parse_text(kMillis, "25s")), 25'000);
  EXPECT_EQ(number(parse_text(kMillis, "250ms")), 250);
  EXPECT_EQ(number(parse_text(kMillis, "2m")), 120'000);
  EXPECT_EQ(number(parse_text(kMillis, " 1h ")), 3'600'000);
  EXPECT_EQ(number(parse_text(kSeconds, "90")), 90);
  EXPECT_EQ(number(parse_text(kSeconds, "1m")), 60);
  EXPECT_EQ(number(parse_text(kSeconds, "2000ms")), 2);
  EXPECT_EQ(parse_text(kSeconds, "1500ms").error(), "a whole number of seconds");
  EXPECT_FALSE(parse_text(kMillis, "5 parsecs"));
  EXPECT_FALSE(parse_text(kMillis, "s"));
  EXPECT_FALSE(parse_text(kMillis, "2d"));  // above the rule's max
  EXPECT_FALSE(parse_text(kMillis, "-1s"));
  EXPECT_FALSE(parse_text(kMillis, "99999999999999999999d"));
}

TEST(ConfigValue, SizesTakeBinaryAndDecimalUnits) {
  EXPECT_EQ(number(parse_text(kBytes, "1024")), 1024);
  EXPECT_EQ(number(parse_text(kBytes, "64KiB")), 65'536);
  EXPECT_EQ(number(parse_text(kBytes, "1mib")), 1'048'576);
  EXPECT_EQ(number(parse_text(kBytes, "2MB")), 2'000'000);
  EXPECT_EQ(number(parse_text(kBytes, "1GiB")), 1'073'741'824);
  EXPECT_FALSE(parse_text(kBytes, "1TiB"));
  EXPECT_FALSE(parse_text(kBytes, "lots"));
  EXPECT_FALSE(parse_text(kBytes, "9223372036854775807GiB"));
}

TEST(ConfigValue, IntegersBooleansAndLists) {
  constexpr value_rule port{value_kind::integer, {}, 0, 65535};
  EXPECT_EQ(number(parse_text(port, "8080")), 8080);
  EXPECT_FALSE(parse_text(port, "65536"));
  EXPECT_FALSE(parse_text(port, "80x"));
  EXPECT_EQ(parse_text(port, "x").error(), "an integer from 0 to 65535");
  constexpr value_rule flag{value_kind::boolean};
  EXPECT_EQ(std::get<bool>(*parse_text(flag, "on")), true);
  EXPECT_EQ(std::get<bool>(*parse_text(flag, "FALSE")), false);
  EXPECT_FALSE(parse_text(flag, "maybe"));
  constexpr value_rule list{value_kind::string_list};
  EXPECT_EQ(std::get<std::vector<std::string>>(*parse_text(list, " a, b ,,c")),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ConfigValue, TomlTextRoundTripsThroughTheLargestExactUnit) {
  EXPECT_EQ(to_toml_text(kMillis, int64_t{25'000}), "\"25s\"");
  EXPECT_EQ(to_toml_text(kMillis, int64_t{120'000}), "\"2m\"");
  EXPECT_EQ(to_toml_text(kMillis, int64_t{1'500}), "\"1500ms\"");
  EXPECT_EQ(to_toml_text(kMillis, int64_t{0}), "0");
  EXPECT_EQ(to_toml_text(kSeconds, int64_t{60}), "\"1m\"");
  EXPECT_EQ(to_toml_text(kBytes, int64_t{16 * 1024 * 1024}), "\"16MiB\"");
  EXPECT_EQ(to_toml_text(kBytes, int64_t{1'000'000}), "1000000");
  EXPECT_EQ(to_toml_text({}, std::string("a\"b\\c\n")), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(to_toml_text({value_kind::string_list}, std::vector<std::string>{"x", "y"}),
            "[\"x\", \"y\"]");
}

}  // namespace
}  // namespace relay::server
