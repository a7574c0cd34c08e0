#pragma once
// Hierarchical timing wheel with millisecond resolution (h2o lib/common/timerwheel.c is the
// model): O(1) schedule/cancel, timers embedded in their owners (no allocation), and a cheap
// "time until the next expiry" for epoll_wait.
//
// Layout: kLevels levels of 64 slots; level L slot s holds timers that agree with now() on every
// bit above level L and whose level-L digit is s (always ahead of now()'s digit). A 64-bit
// occupancy word per level finds the next non-empty slot with one count-trailing-zeros, so
// advance() jumps over empty time (an hours-long jump costs a handful of steps) and
// next_timeout_ms() is O(kLevels). When now() reaches a slot above level 0, its timers cascade
// to lower levels. Timers due after the current 64^kLevels-ms period (~2.2 years; the levels
// cover one such aligned period) wait on an overflow ring that is re-filed each time now()
// crosses into the next period, so arbitrarily distant timers work.
//
// Not thread-safe: one wheel per event loop.
//
// Reentrancy: a callback may schedule or cancel any timer (itself, others due in the same
// advance(), timers of other wheels) and may destroy any timer (e.g. the owner of the one that
// fired), but must not call advance() (a nested call does nothing and returns 0) or destroy the
// wheel.
#include <cstddef>
#include <cstdint>

namespace relay::core {

class timer_wheel;

// Intrusive list links. The wheel's slot heads are bare links (rings with a sentinel), so unlink
// needs no branch on "am I the head".
struct timer_link {
  timer_link* prev = nullptr;  // null when not scheduled
  timer_link* next = nullptr;
};

struct timer : timer_link {
  using callback = void (*)(timer&);
  explicit timer(callback cb = nullptr) noexcept : fire(cb) {}
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer();  // cancels if scheduled

  bool scheduled() const noexcept { return prev != nullptr; }

  callback fire;  // called once per expiry, after the timer is unscheduled; may be null
  // When the timer is due, in the wheel's clock. schedule() stores max(requested, now()), so a
  // timer set in the past reads as due "now".
  uint64_t expire_at = 0;
  timer_wheel* wheel = nullptr;  // the wheel it is scheduled on, or null
};

class timer_wheel {
 public:
  static constexpr unsigned kBitsPerLevel = 6;  // 64 slots per level
  static constexpr unsigned kSlots = 1u << kBitsPerLevel;
  static constexpr unsigned kLevels = 6;  // 64^6 ms ~ 2.2 years before the overflow list

  explicit timer_wheel(uint64_t now_ms) noexcept;
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;
  ~timer_wheel();  // unlinks every timer still scheduled (does not fire them)

  // (Re)schedules t to fire at expire_at_ms (absolute, same clock as advance()); t may currently
  // be on any wheel. A time at or before now() is due immediately: it fires on the next
  // advance() -- also when scheduled from a callback, so a callback that keeps re-arming itself
  // "now" cannot make advance() loop forever (its expire_at then becomes the now_ms that
  // advance() reached).
  void schedule(timer& t, uint64_t expire_at_ms) noexcept;
  // No-op if t is not scheduled.
  static void cancel(timer& t) noexcept {
    if (t.scheduled()) t.wheel->unlink(t);
  }

  // Moves the clock to now_ms and fires every timer whose expire_at <= now_ms, in non-decreasing
  // expire_at order (timers due in the same millisecond fire in any order). While a callback
  // runs, now() is the expire_at being fired; a timer it schedules for a later time that is
  // still <= now_ms fires in this same call, in order; one it schedules for now() or earlier
  // fires on the next advance(). A now_ms earlier than now() is treated as now(): the clock
  // never goes back. Returns how many fired.
  size_t advance(uint64_t now_ms);

  // Milliseconds from now_ms until advance() next has work (0 if a timer is due), or -1 if no
  // timer is scheduled. May be early, never late: a timer more than 64 ms away is first
  // cascaded to a finer level, so a sleeping caller wakes up to kLevels times before it fires;
  // callers advance() and ask again.
  int64_t next_timeout_ms(uint64_t now_ms) const noexcept;

  size_t size() const noexcept { return count_; }
  uint64_t now() const noexcept { return now_; }

 private:
  friend struct timer;

  // Slot rings: level L slot s at index L * kSlots + s, then the overflow ring and the ring of
  // timers that callbacks made due while advance() was firing. Every ring's sentinel lives in
  // this one array, so unlink() finds the occupancy bit to clear from the sentinel's address.
  static constexpr unsigned kOverflow = kLevels * kSlots;
  static constexpr unsigned kDeferred = kOverflow + 1;
  static constexpr unsigned kRings = kDeferred + 1;

  struct deadline {
    uint64_t at;
    unsigned ring;
  };

  unsigned ring_for(uint64_t at) const noexcept;
  void link(timer& t, unsigned ring) noexcept;
  void unlink(timer& t) noexcept;
  deadline next_deadline() const noexcept;
  void cascade(unsigned ring) noexcept;
  void finish_firing() noexcept;

  uint64_t now_;
  size_t count_ = 0;
  bool firing_ = false;
  // Bit s of word L: ring L * kSlots + s is non-empty. Word kLevels covers the extra rings;
  // only the overflow bit of it is ever read.
  uint64_t occupied_[kLevels + 1] = {};
  timer_link rings_[kRings];
};

}  // namespace relay::core
