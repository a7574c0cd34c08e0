#include "proto/engineio/sid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "proto/engineio/base64.hpp"
#include "proto/engineio/random_pool.hpp"

namespace relay::engineio {
namespace {

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

TEST(Sid, FormatIsTwentyBase64UrlCharacters) {
  for (int i = 0; i < 1000; ++i) {
    const std::string sid = generate_sid();
    ASSERT_EQ(sid.size(), kSidSize);
    ASSERT_TRUE(std::all_of(sid.begin(), sid.end(), is_base64url)) << sid;
    // Back to the standard alphabet, it decodes to 15 bytes.
    std::string standard = sid;
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    std::string raw;
    ASSERT_TRUE(base64_decode(standard, raw));
    ASSERT_EQ(raw.size(), kSidRawBytes);
  }
}

TEST(Sid, UniqueAcrossPoolRefills) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(seen.insert(generate_sid()).second);
}

TEST(Sid, UniqueAcrossThreads) {
  std::mutex m;
  std::unordered_set<std::string> seen;
  bool duplicate = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 5000; ++i) mine.push_back(generate_sid());
      std::lock_guard lock(m);
      for (auto& s : mine) duplicate |= !seen.insert(std::move(s)).second;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(Sid, EveryCharacterIsUsed) {
  // 2000 ids are 40000 characters: each of the 64 should turn up (the chance one does not is
  // about 64 * (63/64)^40000, nil).
  std::array<bool, 256> used{};
  for (int i = 0; i < 2000; ++i) {
    for (const char c : generate_sid()) used[static_cast<unsigned char>(c)] = true;
  }
  EXPECT_EQ(std::count(used.begin(), used.end(), true), 64);
}

TEST(SecureRandom, LargeAndSmallDraws) {
  std::vector<uint8_t> big(10000, 0);
  secure_random(big);
  // 10000 random bytes are never all zero, and hold every value.
  std::array<bool, 256> seen{};
  for (const uint8_t b : big) seen[b] = true;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 256);
  std::array<uint8_t, 32> a{}, b{};
  secure_random(a);
  secure_random(b);
  EXPECT_NE(a, b);
  secure_random(std::span<uint8_t>());  // empty draws are fine
}

}  // namespace
}  // namespace relay::engineio
