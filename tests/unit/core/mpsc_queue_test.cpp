#include "core/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace relay::core {
namespace {

struct item : mpsc_node {
  uint32_t producer = 0;
  uint32_t seq = 0;
};

item* pop_item(mpsc_queue& q) { return static_cast<item*>(q.pop()); }

TEST(mpsc_queue, EmptyQueue) {
  mpsc_queue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

TEST(mpsc_queue, SingleThreadFifo) {
  mpsc_queue q;
  item items[5];
  for (uint32_t i = 0; i < 5; ++i) {
    items[i].seq = i;
    q.push(&items[i]);
    EXPECT_FALSE(q.empty());
  }
  for (uint32_t i = 0; i < 5; ++i) {
    item* it = pop_item(q);
    ASSERT_NE(it, nullptr);
    EXPECT_EQ(it->seq, i);
  }
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

TEST(mpsc_queue, OneElementRoundTrips) {
  // The last element is only handed out after the stub is re-pushed behind it: exercise that
  // path many times, reusing the node as soon as it is popped.
  mpsc_queue q;
  item a;
  for (uint32_t i = 0; i < 1000; ++i) {
    a.seq = i;
    q.push(&a);
    ASSERT_FALSE(q.empty());
    item* it = pop_item(q);
    ASSERT_EQ(it, &a);
    EXPECT_EQ(it->seq, i);
    ASSERT_TRUE(q.empty());
    ASSERT_EQ(q.pop(), nullptr);
  }
}

TEST(mpsc_queue, PushReportsWasEmpty) {
  mpsc_queue q;
  item a, b, c;
  EXPECT_TRUE(q.push(&a));
  EXPECT_FALSE(q.push(&b));
  EXPECT_EQ(q.pop(), &a);
  EXPECT_EQ(q.pop(), &b);  // stub re-pushed behind b
  EXPECT_TRUE(q.push(&c));
  EXPECT_EQ(q.pop(), &c);
}

TEST(mpsc_queue, RandomInterleavingMatchesDeque) {
  std::mt19937 rng(3);
  mpsc_queue q;
  std::deque<item*> model;
  std::vector<std::unique_ptr<item>> pool;
  std::vector<item*> free_items;
  for (int i = 0; i < 64; ++i) {
    pool.push_back(std::make_unique<item>());
    free_items.push_back(pool.back().get());
  }
  uint32_t next = 0;
  for (int step = 0; step < 100000; ++step) {
    if (!free_items.empty() && rng() % 2 == 0) {
      item* it = free_items.back();
      free_items.pop_back();
      it->seq = next++;
      q.push(it);
      model.push_back(it);
    } else {
      item* it = pop_item(q);
      if (model.empty()) {
        ASSERT_EQ(it, nullptr);
      } else {
        ASSERT_EQ(it, model.front());
        model.pop_front();
        free_items.push_back(it);
      }
    }
    ASSERT_EQ(q.empty(), model.empty()) << step;
  }
}

// 4 producers x 1M pushes, one consumer: everything arrives, each producer's items in order.
// Nodes are recycled back to their producer through a second queue (per producer, the consumer
// pushing), so a node is reused right after pop() -- the way tasks are freed and reallocated.
TEST(mpsc_queue, FourProducersOneConsumer) {
  constexpr uint32_t kProducers = 4;
  constexpr uint32_t kPerProducer = 1'000'000;
  constexpr size_t kPool = 1024;
  mpsc_queue q;
  std::vector<std::unique_ptr<mpsc_queue>> returns;
  std::vector<std::unique_ptr<item[]>> pools;
  for (uint32_t p = 0; p < kProducers; ++p) {
    returns.push_back(std::make_unique<mpsc_queue>());
    pools.push_back(std::make_unique<item[]>(kPool));
  }

  std::vector<std::thread> producers;
  for (uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      size_t fresh = 0;
      for (uint32_t i = 0; i < kPerProducer; ++i) {
        item* it;
        if (fresh < kPool) {
          it = &pools[p][fresh++];
        } else {
          while ((it = pop_item(*returns[p])) == nullptr) std::this_thread::yield();
        }
        it->producer = p;
        it->seq = i;
        q.push(it);
      }
    });
  }

  std::vector<uint32_t> expected(kProducers, 0);
  uint64_t received = 0;
  uint64_t misordered = 0;
  while (received < uint64_t{kProducers} * kPerProducer) {
    item* it = pop_item(q);
    if (it == nullptr) {
      std::this_thread::yield();
      continue;
    }
    if (it->producer >= kProducers || it->seq != expected[it->producer]) {
      ++misordered;
    } else {
      ++expected[it->producer];
    }
    ++received;
    returns[it->producer]->push(it);
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(misordered, 0u);
  for (uint32_t p = 0; p < kProducers; ++p) EXPECT_EQ(expected[p], kPerProducer) << p;
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace relay::core
