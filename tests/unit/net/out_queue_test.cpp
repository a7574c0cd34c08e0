#include "net/out_queue.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace relay::net {
namespace {

std::string drain_all(out_queue& q, size_t max_per_write = SIZE_MAX) {
  std::string out;
  while (!q.empty()) {
    iovec iov[16];
    int n = q.gather(iov, 16);
    size_t budget = max_per_write;
    size_t took = 0;
    for (int i = 0; i < n && budget > 0; ++i) {
      size_t k = std::min(budget, iov[i].iov_len);
      out.append(static_cast<const char*>(iov[i].iov_base), k);
      budget -= k;
      took += k;
    }
    q.consume(took);
  }
  return out;
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(OutQueue, StartsEmptyAndOwnsNothing) {
  out_queue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  iovec iov[4];
  EXPECT_EQ(q.gather(iov, 4), 0);
}

TEST(OutQueue, SmallAppendsCoalesceIntoOneSlice) {
  out_queue q;
  q.append(bytes("hello "));
  q.append(bytes("world"));
  std::memcpy(q.append_uninitialized(1), "!", 1);
  iovec iov[4];
  ASSERT_EQ(q.gather(iov, 4), 1);
  EXPECT_EQ(q.bytes(), 12u);
  EXPECT_EQ(drain_all(q), "hello world!");
}

TEST(OutQueue, SharedBuffersAreReferencedNotCopied) {
  out_queue q;
  core::shared_buffer* b = core::shared_buffer::copy_of(bytes("0123456789"));
  q.append(bytes("<"));
  q.append_shared(b, 2, 5);
  q.append(bytes(">"));
  EXPECT_FALSE(b->unique());  // the queue holds a reference
  iovec iov[4];
  ASSERT_EQ(q.gather(iov, 4), 3);
  EXPECT_EQ(iov[1].iov_base, b->data() + 2);
  EXPECT_EQ(drain_all(q), "<23456>");
  EXPECT_TRUE(b->unique());  // released after being sent
  b->release();
}

TEST(OutQueue, PartialConsumeKeepsOrderAcrossSlicesAndChunks) {
  std::mt19937 rng(7);
  out_queue q;
  std::string expected;
  core::shared_buffer* shared = core::shared_buffer::copy_of(bytes(std::string(100, 's')));
  for (int i = 0; i < 500; ++i) {
    if (rng() % 3 == 0) {
      size_t off = rng() % 50, len = 1 + rng() % 50;
      q.append_shared(shared, off, len);
      expected.append(len, 's');
    } else {
      std::string s(rng() % 5000, static_cast<char>('a' + i % 26));
      q.append(bytes(s));
      expected += s;
    }
  }
  EXPECT_EQ(q.bytes(), expected.size());
  EXPECT_EQ(drain_all(q, 777), expected);
  EXPECT_TRUE(q.empty());
  shared->release();
}

TEST(OutQueue, LargeAppendSpansChunks) {
  out_queue q;
  std::string big(3 * out_queue::kChunkSize + 17, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  q.append(bytes(big));
  EXPECT_EQ(q.bytes(), big.size());
  EXPECT_EQ(drain_all(q, 4096), big);
}

TEST(OutQueue, ClearReleasesSharedReferences) {
  core::shared_buffer* b = core::shared_buffer::copy_of(bytes("abc"));
  {
    out_queue q;
    q.append_shared(b, 0, 3);
    q.append_shared(b, 0, 3);
    EXPECT_FALSE(b->unique());
  }
  EXPECT_TRUE(b->unique());
  b->release();
}

}  // namespace
}  // namespace relay::net
