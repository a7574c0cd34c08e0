#pragma once
// Per-thread sharded storage behind every counter, gauge and histogram (docs/metrics.md).
//
// Each series owns (shards + 1) blocks of relaxed 64-bit atomics, each block starting on its own
// cache line: block i is written by the loop thread that called set_thread_shard(i), the last
// block (the overflow shard) by every other thread. An increment is then one relaxed fetch_add on
// a line that only its own loop writes, so loops never bounce a line between cores; a scrape adds
// the blocks up, which is slower but rare.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace relay::metrics {

// A loop thread calls this once, before it touches any metric, with its loop index 0..N-1 (N =
// the shards given to the registry). Threads that never call it, and indexes >= N, write to the
// shared overflow shard. Two threads given the same index stay correct, only slower.
void set_thread_shard(unsigned index) noexcept;

namespace detail {

inline constexpr unsigned kNoShard = ~0u;
// constinit keeps access to a plain %fs-relative load: no TLS init wrapper on the hot path.
inline constinit thread_local unsigned thread_shard = kNoShard;

class sharded_cells {
 public:
  // words: the atomics per shard (a counter needs 1, a histogram its buckets + 1).
  sharded_cells(unsigned shards, unsigned words);

  // The calling thread's copy of `word`. Writers use relaxed atomics: a shard usually has one
  // writer, but overflow threads (or a misconfigured index) may share one.
  std::atomic<uint64_t>& local(unsigned word) noexcept {
    return cell(std::min(thread_shard, overflow_shard_), word);
  }
  // Sum (mod 2^64) of `word` over all shards; scrape time only.
  uint64_t sum(unsigned word) const noexcept;
  // Applies fn(uint64_t) to each shard's `word`, e.g. to add up doubles kept as bits.
  template <typename Fn>
  void for_each_shard(unsigned word, Fn&& fn) const {
    for (unsigned shard = 0; shard <= overflow_shard_; ++shard) {
      fn(cell(shard, word).load(std::memory_order_relaxed));
    }
  }

 private:
  // 64 bytes: the line size of x86-64 and of most ARM cores this server runs on.
  static constexpr unsigned kLineBytes = 64;
  static constexpr unsigned kWordsPerLine = kLineBytes / sizeof(uint64_t);
  struct alignas(kLineBytes) line {
    std::atomic<uint64_t> words[kWordsPerLine];
  };

  std::atomic<uint64_t>& cell(unsigned shard, unsigned word) const noexcept {
    return lines_[shard * lines_per_shard_ + word / kWordsPerLine].words[word % kWordsPerLine];
  }

  unsigned overflow_shard_;
  unsigned lines_per_shard_;
  std::unique_ptr<line[]> lines_;
};

}  // namespace detail
}  // namespace relay::metrics
