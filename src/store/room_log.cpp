#include "store/room_log.hpp"

#include <algorithm>
#include <utility>

namespace relay::store {
namespace {

// Below this the dead prefix is left in place: erasing it would cost more than it frees.
constexpr size_t kMinDeadPrefix = 16;

size_t entry_bytes(const history_entry& e) noexcept { return e.event.size() + e.data.size(); }

}  // namespace

room_log::room_log(std::string epoch, history_limits limits, uint64_t last_offset,
                   int64_t last_time_ms, std::vector<history_entry_ptr> entries, int64_t now_ms)
    : epoch_(std::move(epoch)),
      limits_(limits),
      last_offset_(last_offset),
      last_time_ms_(last_time_ms),
      entries_(std::move(entries)) {
  for (const history_entry_ptr& e : entries_) {
    bytes_ += entry_bytes(*e);
    last_time_ms_ = std::max(last_time_ms_, e->time_ms);
  }
  trim(now_ms);
}

size_t room_log::append(std::shared_ptr<history_entry> entry, int64_t now_ms) {
  entry->offset = ++last_offset_;
  // A publish on another thread may carry a slightly older clock reading: keep times ordered so
  // that aging only ever removes a prefix.
  last_time_ms_ = std::max(last_time_ms_, now_ms);
  entry->time_ms = last_time_ms_;
  bytes_ += entry_bytes(*entry);
  entries_.push_back(std::move(entry));
  return trim(now_ms);
}

size_t room_log::drop_aged(int64_t now_ms) {
  size_t dropped = 0;
  while (size() != 0 && aged(entries_[head_]->time_ms, now_ms)) {
    pop_front();
    ++dropped;
  }
  // A room that aged out has gone quiet: give its capacity back.
  if (size() == 0 && entries_.capacity() != 0) std::vector<history_entry_ptr>().swap(entries_);
  return dropped;
}

bool room_log::forgettable(int64_t now_ms, uint64_t empty_room_ttl_ms) const noexcept {
  if (size() != 0 || now_ms < last_time_ms_) return false;
  const uint64_t idle = static_cast<uint64_t>(now_ms - last_time_ms_);
  const uint64_t keep = limits_.max_age_ms + empty_room_ttl_ms;
  return idle >= keep && keep >= empty_room_ttl_ms;  // the second test: no wrap-around
}

history_page room_log::since(uint64_t after_offset, size_t max_count, int64_t now_ms) const {
  if (after_offset >= last_offset_) {
    history_page page = page_from(0, 0);
    page.truncated = after_offset > last_offset_;  // an offset this history never issued
    return page;
  }
  const size_t live = first_live_index(now_ms);
  const uint64_t first_live_offset = first_offset() + (live - head_);
  const uint64_t start_offset = std::max(after_offset + 1, first_live_offset);
  const size_t begin = head_ + static_cast<size_t>(start_offset - first_offset());
  size_t end = entries_.size();
  if (max_count != 0 && end - begin > max_count) end = begin + max_count;
  history_page page = page_from(begin, end);
  page.truncated = after_offset + 1 < first_live_offset;
  return page;
}

history_page room_log::latest(size_t n, int64_t now_ms) const {
  const size_t live = first_live_index(now_ms);
  const size_t end = entries_.size();
  const size_t begin = (n == 0 || end - live <= n) ? live : end - n;
  return page_from(begin, end);
}

bool room_log::aged(int64_t time_ms, int64_t now_ms) const noexcept {
  return limits_.max_age_ms != 0 && now_ms >= time_ms &&
         static_cast<uint64_t>(now_ms - time_ms) >= limits_.max_age_ms;
}

size_t room_log::first_live_index(int64_t now_ms) const noexcept {
  const auto it =
      std::partition_point(entries_.begin() + static_cast<ptrdiff_t>(head_), entries_.end(),
                           [&](const history_entry_ptr& e) { return aged(e->time_ms, now_ms); });
  return static_cast<size_t>(it - entries_.begin());
}

history_page room_log::page_from(size_t begin, size_t end) const {
  history_page page;
  page.entries.assign(entries_.begin() + static_cast<ptrdiff_t>(begin),
                      entries_.begin() + static_cast<ptrdiff_t>(end));
  page.last_offset = last_offset_;
  page.epoch = epoch_;
  return page;
}

size_t room_log::trim(int64_t now_ms) {
  size_t dropped = 0;
  while (size() != 0 && ((limits_.max_messages != 0 && size() > limits_.max_messages) ||
                         (limits_.max_bytes != 0 && bytes_ > limits_.max_bytes) ||
                         aged(entries_[head_]->time_ms, now_ms))) {
    pop_front();
    ++dropped;
  }
  return dropped;
}

void room_log::pop_front() noexcept {
  bytes_ -= entry_bytes(*entries_[head_]);
  entries_[head_].reset();
  ++head_;
  if (head_ == entries_.size()) {
    entries_.clear();  // keeps the capacity: an active room appends again soon
    head_ = 0;
  } else if (head_ >= kMinDeadPrefix && head_ * 2 >= entries_.size()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace relay::store
