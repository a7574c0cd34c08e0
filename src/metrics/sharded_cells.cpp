#include "metrics/sharded_cells.hpp"

namespace relay::metrics {

void set_thread_shard(unsigned index) noexcept { detail::thread_shard = index; }

namespace detail {

sharded_cells::sharded_cells(unsigned shards, unsigned words)
    : overflow_shard_(shards),
      lines_per_shard_((words + kWordsPerLine - 1) / kWordsPerLine),
      // Value-initialized: every atomic starts at 0. new[] honours the line alignment (C++17).
      lines_(std::make_unique<line[]>((std::size_t{shards} + 1) * lines_per_shard_)) {}

uint64_t sharded_cells::sum(unsigned word) const noexcept {
  uint64_t total = 0;
  for_each_shard(word, [&](uint64_t value) { total += value; });
  return total;
}

}  // namespace detail
}  // namespace relay::metrics
