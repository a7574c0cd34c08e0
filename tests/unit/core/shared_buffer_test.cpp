#include "core/shared_buffer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace relay::core {
namespace {

std::string_view as_text(const shared_buffer& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST(shared_buffer, CreateIsEmptyAndAligned) {
  buffer_ref r(shared_buffer::create(100));
  EXPECT_EQ(r->size(), 0u);
  EXPECT_EQ(r->capacity(), 100u);
  EXPECT_EQ(r->room(), 100u);
  EXPECT_TRUE(r->unique());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(r->data()) % 16, 0u);
  EXPECT_TRUE(r->bytes().empty());
}

TEST(shared_buffer, ZeroCapacity) {
  buffer_ref r(shared_buffer::create(0));
  EXPECT_EQ(r->capacity(), 0u);
  EXPECT_EQ(r->room(), 0u);
}

TEST(shared_buffer, AppendGrowResize) {
  buffer_ref r(shared_buffer::create(16));
  r->append("hello", 5);
  EXPECT_EQ(as_text(*r.get()), "hello");
  EXPECT_EQ(r->room(), 11u);
  uint8_t* at = r->grow(3);
  EXPECT_EQ(at, r->data() + 5);
  std::memcpy(at, "abc", 3);
  EXPECT_EQ(as_text(*r.get()), "helloabc");
  r->resize(4);
  EXPECT_EQ(as_text(*r.get()), "hell");
  r->append(" world!!!!!!", 12);
  EXPECT_EQ(r->size(), 16u);
  EXPECT_EQ(r->room(), 0u);
  EXPECT_EQ(r->bytes().size(), 16u);
  EXPECT_EQ(r->bytes().data(), r->data());
}

TEST(shared_buffer, CopyOf) {
  const uint8_t src[] = {1, 2, 3, 0, 255};
  buffer_ref r(shared_buffer::copy_of(src));
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ(r->capacity(), 5u);
  EXPECT_EQ(std::memcmp(r->data(), src, 5), 0);
  EXPECT_NE(r->data(), src);
  buffer_ref empty(shared_buffer::copy_of({}));
  EXPECT_EQ(empty->size(), 0u);
}

TEST(shared_buffer, RawRefcount) {
  shared_buffer* b = shared_buffer::create(8);
  EXPECT_TRUE(b->unique());
  b->add_ref();
  EXPECT_FALSE(b->unique());
  b->release();
  EXPECT_TRUE(b->unique());
  b->release();  // frees (LeakSanitizer flags a missing free, ASan a double one)
}

TEST(buffer_ref, DefaultIsNull) {
  buffer_ref r;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.get(), nullptr);
  buffer_ref copy = r;
  EXPECT_FALSE(copy);
  r = copy;
  EXPECT_FALSE(r);
}

TEST(buffer_ref, CopyAddsAReferenceAndDestructionDropsIt) {
  buffer_ref a(shared_buffer::create(4));
  {
    buffer_ref b = a;
    EXPECT_EQ(a.get(), b.get());
    EXPECT_FALSE(a->unique());
    buffer_ref c;
    c = b;
    EXPECT_EQ(c.get(), a.get());
  }
  EXPECT_TRUE(a->unique());
}

TEST(buffer_ref, MoveTransfersWithoutTouchingTheCount) {
  buffer_ref a(shared_buffer::create(4));
  shared_buffer* raw = a.get();
  buffer_ref b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(b.get(), raw);
  EXPECT_TRUE(b->unique());
  buffer_ref c;
  c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(c->unique());
}

TEST(buffer_ref, AssignmentReleasesTheOldBuffer) {
  buffer_ref a(shared_buffer::create(4));
  buffer_ref b(shared_buffer::create(4));
  buffer_ref keep = a;
  a = b;  // a's old buffer is now only in `keep`
  EXPECT_TRUE(keep->unique());
  EXPECT_FALSE(b->unique());
  a = buffer_ref();  // drops one reference to b's buffer
  EXPECT_TRUE(b->unique());
}

TEST(buffer_ref, SelfAssignment) {
  buffer_ref a(shared_buffer::create(4));
  buffer_ref& alias = a;
  a = alias;
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->unique());
  a = std::move(alias);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->unique());
}

TEST(buffer_ref, ReleaseHandsOverTheReference) {
  buffer_ref a(shared_buffer::create(4));
  shared_buffer* raw = a.release();
  EXPECT_FALSE(a);
  EXPECT_TRUE(raw->unique());
  buffer_ref back(raw);  // adopts without adding
  EXPECT_TRUE(back->unique());
}

// One buffer encoded once, referenced from many threads, released in any order: the last
// release must free it after every reader is done (ThreadSanitizer checks the ordering, ASan the
// use-after-free, LeakSanitizer the free).
TEST(buffer_ref, CrossThreadRelease) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 500;
  std::atomic<uint64_t> checksum{0};
  for (int round = 0; round < kRounds; ++round) {
    buffer_ref buf(shared_buffer::create(64));
    for (uint8_t i = 0; i < 64; ++i) buf->append(&i, 1);
    std::vector<buffer_ref> handed(kThreads, buf);
    std::atomic<int> go{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, ref = std::move(handed[static_cast<size_t>(t)])]() mutable {
        while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
        uint64_t sum = 0;
        for (uint8_t b : ref->bytes()) sum += b;
        checksum.fetch_add(sum, std::memory_order_relaxed);
        ref = buffer_ref();  // release here, racing with the others
      });
    }
    if (round % 2 == 0) buf = buffer_ref();  // sometimes the creator lets go first
    go.store(1, std::memory_order_release);
    for (auto& t : threads) t.join();
    if (buf) {
      EXPECT_TRUE(buf->unique());
    }
  }
  EXPECT_EQ(checksum.load(), uint64_t{kRounds} * kThreads * (63 * 64 / 2));
}

}  // namespace
}  // namespace relay::core
