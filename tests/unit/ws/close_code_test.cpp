#include "ws/close_code.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace relay::ws {
namespace {

struct code_case {
  uint16_t code;
  bool valid;
};

TEST(CloseCode, BoundariesOfEveryRange) {
  // RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1000-1003, 1007-1014, 3000-4999.
  const code_case cases[] = {
      {0, false},    {1, false},     {999, false},   {1000, true},  {1001, true},  {1002, true},
      {1003, true},  {1004, false},  {1005, false},  {1006, false}, {1007, true},  {1008, true},
      {1009, true},  {1010, true},   {1011, true},   {1012, true},  {1013, true},  {1014, true},
      {1015, false}, {1016, false},  {1100, false},  {2000, false}, {2999, false}, {3000, true},
      {3001, true},  {3999, true},   {4000, true},   {4500, true},  {4999, true},  {5000, false},
      {5001, false}, {32768, false}, {65535, false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_valid_close_code(c.code), c.valid) << c.code;
}

TEST(CloseCode, ExactlyTheRegisteredRangesAreValid) {
  // 4 + 8 + 2000 codes; anything else in 0..65535 is rejected.
  int valid = 0;
  for (uint32_t c = 0; c <= 0xFFFF; ++c) valid += is_valid_close_code(static_cast<uint16_t>(c));
  EXPECT_EQ(valid, 4 + 8 + 2000);
}

TEST(CloseCode, EnumValuesThatMaySeeTheWire) {
  for (close_code c :
       {close_code::normal, close_code::going_away, close_code::protocol_error,
        close_code::unsupported_data, close_code::invalid_payload, close_code::policy_violation,
        close_code::message_too_big, close_code::mandatory_extension, close_code::internal_error,
        close_code::service_restart, close_code::try_again_later, close_code::bad_gateway}) {
    EXPECT_TRUE(is_valid_close_code(static_cast<uint16_t>(c))) << static_cast<int>(c);
  }
  // §7.4.1: designated for applications expecting a status code, never sent in a frame.
  EXPECT_FALSE(is_valid_close_code(static_cast<uint16_t>(close_code::no_status)));
  EXPECT_FALSE(is_valid_close_code(static_cast<uint16_t>(close_code::abnormal)));
}

}  // namespace
}  // namespace relay::ws
