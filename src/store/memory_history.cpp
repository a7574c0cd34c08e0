#include "store/memory_history.hpp"

#include <bit>
#include <stdexcept>
#include <utility>

#include "store/epoch.hpp"

namespace relay::store {

memory_history::memory_history(history_options options, record_changes record)
    : options_(std::move(options)), record_(record == record_changes::yes) {
  if (!options_.limits) throw std::invalid_argument("history store: no limits function given");
}

memory_history::stripe& memory_history::stripe_of(std::string_view room) const noexcept {
  static_assert(std::has_single_bit(kStripes));
  // The top bits pick the stripe: the map's buckets use the low ones.
  const size_t h = name_hash{}(room);
  return stripes_[h >> (sizeof(size_t) * 8 - std::countr_zero(kStripes))];
}

room_log& memory_history::find_or_create(stripe& s, std::string_view room, int64_t now_ms) {
  if (auto it = s.rooms.find(room); it != s.rooms.end()) return it->second;
  std::string epoch = new_epoch();
  if (record_) {
    record(s, {.what = history_change::kind::room_created,
               .room = std::string(room),
               .epoch = epoch,
               .time_ms = now_ms});
  }
  auto [it, inserted] =
      s.rooms.try_emplace(std::string(room), std::move(epoch), options_.limits(room), 0, now_ms,
                          std::vector<history_entry_ptr>{}, now_ms);
  return it->second;
}

void memory_history::record(stripe& s, history_change change) {
  const bool bounded =
      change.what == history_change::kind::appended || change.what == history_change::kind::trimmed;
  // Creations and drops are always kept: they are rare, and without them a restart would
  // resurrect a forgotten room or lose an epoch.
  if (bounded && s.changes.size() >= kMaxChangesPerStripe) {
    ++s.changes_dropped;
    return;
  }
  s.changes.push_back(std::move(change));
}

void memory_history::record_trim(stripe& s, std::string_view room, const room_log& log) {
  record(s, {.what = history_change::kind::trimmed,
             .room = std::string(room),
             .first_kept = log.first_offset()});
}

stream_position memory_history::append(std::string_view room, std::string event, std::string data,
                                       int64_t now_ms) {
  // Built outside the lock; offset and time are set under it, before anyone else can see it.
  auto entry = std::make_shared<history_entry>();
  entry->event = std::move(event);
  entry->data = std::move(data);
  history_entry_ptr shared = entry;

  stripe& s = stripe_of(room);
  std::lock_guard lock(s.mutex);
  room_log& log = find_or_create(s, room, now_ms);
  const size_t entries_before = log.size();
  const size_t bytes_before = log.bytes();
  log.append(std::move(entry), now_ms);
  s.entries = s.entries + log.size() - entries_before;
  s.bytes = s.bytes + log.bytes() - bytes_before;
  if (record_) {
    record(s, {.what = history_change::kind::appended,
               .room = std::string(room),
               .epoch = log.epoch(),
               .entry = std::move(shared),
               .first_kept = log.first_offset()});
  }
  return {log.last_offset(), log.epoch()};
}

history_page memory_history::since(std::string_view room, uint64_t after_offset, size_t max_count,
                                   int64_t now_ms) const {
  stripe& s = stripe_of(room);
  std::lock_guard lock(s.mutex);
  const auto it = s.rooms.find(room);
  if (it == s.rooms.end()) {
    history_page page;
    page.truncated = after_offset != 0;  // a position in a history this store does not have
    return page;
  }
  return it->second.since(after_offset, max_count, now_ms);
}

history_page memory_history::latest(std::string_view room, size_t n, int64_t now_ms) const {
  stripe& s = stripe_of(room);
  std::lock_guard lock(s.mutex);
  const auto it = s.rooms.find(room);
  if (it == s.rooms.end()) return {};
  return it->second.latest(n, now_ms);
}

stream_position memory_history::stream_top(std::string_view room, int64_t now_ms) {
  stripe& s = stripe_of(room);
  std::lock_guard lock(s.mutex);
  const room_log& log = find_or_create(s, room, now_ms);
  return {log.last_offset(), log.epoch()};
}

void memory_history::expire(int64_t now_ms) {
  for (stripe& s : stripes_) {
    std::lock_guard lock(s.mutex);
    for (auto it = s.rooms.begin(); it != s.rooms.end();) {
      room_log& log = it->second;
      const size_t bytes_before = log.bytes();
      const size_t dropped = log.drop_aged(now_ms);
      s.entries -= dropped;
      s.bytes -= bytes_before - log.bytes();
      if (log.forgettable(now_ms, options_.empty_room_ttl_ms)) {
        if (record_) record(s, {.what = history_change::kind::room_dropped, .room = it->first});
        it = s.rooms.erase(it);
        continue;
      }
      if (dropped != 0 && record_) record_trim(s, it->first, log);
      ++it;
    }
  }
}

history_stats memory_history::stats() const {
  history_stats total;
  for (const stripe& s : stripes_) {
    std::lock_guard lock(s.mutex);
    total.rooms += s.rooms.size();
    total.entries += s.entries;
    total.bytes += s.bytes;
    total.unsaved_changes_dropped += s.changes_dropped;
  }
  return total;
}

void memory_history::restore(std::string_view room, std::string epoch, uint64_t last_offset,
                             int64_t last_time_ms, std::vector<history_entry_ptr> entries,
                             int64_t now_ms) {
  const uint64_t first_saved = entries.empty() ? last_offset + 1 : entries.front()->offset;
  stripe& s = stripe_of(room);
  std::lock_guard lock(s.mutex);
  if (auto old = s.rooms.find(room); old != s.rooms.end()) {
    s.entries -= old->second.size();
    s.bytes -= old->second.bytes();
    s.rooms.erase(old);
  }
  auto [it, inserted] =
      s.rooms.try_emplace(std::string(room), std::move(epoch), options_.limits(room), last_offset,
                          last_time_ms, std::move(entries), now_ms);
  const room_log& log = it->second;
  s.entries += log.size();
  s.bytes += log.bytes();
  if (record_ && log.first_offset() != first_saved) record_trim(s, room, log);
}

void memory_history::take_changes(std::vector<history_change>& out) {
  for (stripe& s : stripes_) {
    std::lock_guard lock(s.mutex);
    if (s.changes.empty()) continue;
    if (out.empty()) {
      out.swap(s.changes);  // the common case: no copy, and the stripe reuses out's capacity
      continue;
    }
    out.insert(out.end(), std::make_move_iterator(s.changes.begin()),
               std::make_move_iterator(s.changes.end()));
    s.changes.clear();
  }
}

}  // namespace relay::store
