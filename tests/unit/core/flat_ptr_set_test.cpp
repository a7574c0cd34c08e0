#include "core/flat_ptr_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace relay::core {
namespace {

struct item {
  std::string name;
};

struct by_name {
  static std::string_view key(const item* i) { return i->name; }
  static size_t hash(std::string_view k) { return std::hash<std::string_view>()(k); }
};

// Every key hashes alike: all elements share one probe run, the hardest case for deletion.
struct colliding {
  static std::string_view key(const item* i) { return i->name; }
  static size_t hash(std::string_view) { return 7; }
};

// A few distinct hashes: runs that wrap around the end of the array and interleave.
struct clustered {
  static std::string_view key(const item* i) { return i->name; }
  static size_t hash(std::string_view k) { return k.empty() ? 0 : static_cast<size_t>(k[0]) * 5; }
};

TEST(FlatPtrSet, InsertFindEraseByKeyAndIdentity) {
  flat_ptr_set<item, by_name> set;
  item a{"a"}, b{"b"}, a2{"a"};
  EXPECT_EQ(set.find(std::string_view("a")), nullptr);
  EXPECT_TRUE(set.insert(&a));
  EXPECT_TRUE(set.insert(&b));
  EXPECT_FALSE(set.insert(&a2));  // equal key
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.find(std::string_view("a")), &a);
  EXPECT_FALSE(set.erase(&a2));  // same key, other element
  EXPECT_TRUE(set.erase(&a));
  EXPECT_FALSE(set.erase(&a));
  EXPECT_EQ(set.find(std::string_view("a")), nullptr);
  EXPECT_EQ(set.find(std::string_view("b")), &b);
  EXPECT_TRUE(set.erase(&b));
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.capacity(), 0u);  // emptied: the array is given back
}

// Random inserts and erases checked against std::set, for several hash qualities.
template <class Traits>
void random_against_reference(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::unique_ptr<item>> pool;
  pool.reserve(300);
  for (int i = 0; i < 300; ++i) pool.push_back(std::make_unique<item>(item{std::to_string(i)}));
  flat_ptr_set<item, Traits> set;
  std::set<item*> ref;
  for (int step = 0; step < 20000; ++step) {
    item* p = pool[rng() % pool.size()].get();
    if (rng() % 3 != 0) {
      EXPECT_EQ(set.insert(p), ref.insert(p).second);
    } else {
      EXPECT_EQ(set.erase(p), ref.erase(p) == 1);
    }
    ASSERT_EQ(set.size(), ref.size());
    if (step % 97 == 0) {
      for (const auto& q : pool) {
        const bool in = ref.count(q.get()) == 1;
        ASSERT_EQ(set.find(std::string_view(q->name)), in ? q.get() : nullptr) << q->name;
      }
      std::vector<item*> listed(set.begin(), set.end());
      std::sort(listed.begin(), listed.end());
      ASSERT_TRUE(std::equal(listed.begin(), listed.end(), ref.begin(), ref.end()));
    }
  }
}

TEST(FlatPtrSet, RandomOperationsMatchStdSet) { random_against_reference<by_name>(1); }
TEST(FlatPtrSet, RandomOperationsWithOneHash) { random_against_reference<colliding>(2); }
TEST(FlatPtrSet, RandomOperationsWithClusteredHashes) { random_against_reference<clustered>(3); }

TEST(FlatPtrSet, MovesOwnership) {
  flat_ptr_set<item, by_name> a;
  item x{"x"};
  a.insert(&x);
  flat_ptr_set<item, by_name> b(std::move(a));
  EXPECT_EQ(b.find(std::string_view("x")), &x);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  a = std::move(b);
  EXPECT_EQ(a.find(std::string_view("x")), &x);
}

}  // namespace
}  // namespace relay::core
