#include "core/timer_wheel.hpp"

#include <bit>
#include <cassert>
#include <limits>

namespace relay::core {
namespace {

constexpr uint64_t kSlotMask = timer_wheel::kSlots - 1;
// Bits below the overflow boundary: the whole range the levels can hold.
constexpr uint64_t kRangeMask =
    (uint64_t{1} << (timer_wheel::kBitsPerLevel * timer_wheel::kLevels)) - 1;

constexpr uint64_t bit(unsigned i) noexcept { return uint64_t{1} << i; }

}  // namespace

timer::~timer() { timer_wheel::cancel(*this); }

timer_wheel::timer_wheel(uint64_t now_ms) noexcept : now_(now_ms) {
  for (timer_link& r : rings_) r.prev = r.next = &r;
}

timer_wheel::~timer_wheel() {
  // Owners may outlive the wheel (destruction order at shutdown): leave their timers
  // unscheduled so that ~timer() does not touch freed memory.
  for (timer_link& r : rings_) {
    for (timer_link* l = r.next; l != &r;) {
      timer* t = static_cast<timer*>(l);
      l = l->next;
      t->prev = t->next = nullptr;
      t->wheel = nullptr;
    }
    r.prev = r.next = &r;
  }
  count_ = 0;
}

// Level = the highest digit in which `at` differs from now_ (so every timer at level L shares
// now_'s digits above L and has a larger digit at L: slots never wrap, and the lowest non-empty
// level always holds the earliest timers). Requires at >= now_.
unsigned timer_wheel::ring_for(uint64_t at) const noexcept {
  const uint64_t diff = (at ^ now_) | kSlotMask;  // | kSlotMask: differences below 64 -> level 0
  const unsigned level = static_cast<unsigned>(63 - std::countl_zero(diff)) / kBitsPerLevel;
  if (level >= kLevels) return kOverflow;
  return level * kSlots + static_cast<unsigned>((at >> (level * kBitsPerLevel)) & kSlotMask);
}

void timer_wheel::link(timer& t, unsigned ring) noexcept {
  timer_link* head = &rings_[ring];
  t.next = head;
  t.prev = head->prev;
  head->prev->next = &t;
  head->prev = &t;
  occupied_[ring / kSlots] |= bit(ring % kSlots);
}

void timer_wheel::unlink(timer& t) noexcept {
  timer_link* prev = t.prev;
  timer_link* next = t.next;
  prev->next = next;
  next->prev = prev;
  // The ring had only t and its sentinel: prev is the sentinel, inside rings_.
  if (prev == next) {
    const auto ring = static_cast<unsigned>(prev - rings_);
    occupied_[ring / kSlots] &= ~bit(ring % kSlots);
  }
  t.prev = t.next = nullptr;
  t.wheel = nullptr;
  --count_;
}

void timer_wheel::schedule(timer& t, uint64_t expire_at_ms) noexcept {
  cancel(t);
  unsigned ring;
  if (expire_at_ms <= now_) {
    expire_at_ms = now_;
    // The slot being fired would pick it up again in this advance(); park it instead.
    ring = firing_ ? kDeferred : static_cast<unsigned>(now_ & kSlotMask);
  } else {
    ring = ring_for(expire_at_ms);
  }
  t.expire_at = expire_at_ms;
  t.wheel = this;
  link(t, ring);
  ++count_;
}

// The time at which the earliest non-empty ring must be processed, and that ring. For level 0
// this is the exact expiry; above, it is when the slot's range begins (cascade time); for the
// overflow ring, the next 64^kLevels boundary.
timer_wheel::deadline timer_wheel::next_deadline() const noexcept {
  for (unsigned level = 0; level < kLevels; ++level) {
    const uint64_t occ = occupied_[level];
    if (occ == 0) continue;
    const auto slot = static_cast<unsigned>(std::countr_zero(occ));
    const unsigned shift = level * kBitsPerLevel;
    const uint64_t above = ~((uint64_t{1} << (shift + kBitsPerLevel)) - 1);
    const uint64_t at = (now_ & above) | (uint64_t{slot} << shift);
    assert(at >= now_ && (level == 0 || at > now_));
    return {at, level * kSlots + slot};
  }
  if (occupied_[kLevels] & bit(kOverflow % kSlots)) return {(now_ | kRangeMask) + 1, kOverflow};
  return {std::numeric_limits<uint64_t>::max(), kRings};
}

// now_ has just reached the ring's deadline: re-file its timers relative to now_. Each lands on
// a lower level (or back on the overflow ring if still out of range), never on this ring, and
// no callback runs, so walking the detached chain is safe.
void timer_wheel::cascade(unsigned ring) noexcept {
  timer_link* head = &rings_[ring];
  timer_link* l = head->next;
  head->prev = head->next = head;
  occupied_[ring / kSlots] &= ~bit(ring % kSlots);
  while (l != head) {
    timer* t = static_cast<timer*>(l);
    l = l->next;
    link(*t, ring_for(t->expire_at));
  }
}

// Timers that callbacks made due become due at the final now_ and fire on the next advance():
// move them to now_'s level-0 slot.
void timer_wheel::finish_firing() noexcept {
  firing_ = false;
  timer_link* parked = &rings_[kDeferred];
  if (parked->next == parked) return;
  timer_link* l = parked->next;
  parked->prev = parked->next = parked;
  occupied_[kLevels] &= ~bit(kDeferred % kSlots);
  const auto ring = static_cast<unsigned>(now_ & kSlotMask);
  while (l != parked) {
    timer* t = static_cast<timer*>(l);
    l = l->next;
    t->expire_at = now_;
    link(*t, ring);
  }
}

size_t timer_wheel::advance(uint64_t now_ms) {
  if (firing_) return 0;
  if (now_ms < now_) now_ms = now_;
  size_t fired = 0;
  // Resets firing_ even if a callback throws, so the wheel stays usable.
  struct firing_scope {
    explicit firing_scope(timer_wheel& w) noexcept : wheel(w) { wheel.firing_ = true; }
    ~firing_scope() { wheel.finish_firing(); }
    timer_wheel& wheel;
  } scope(*this);

  for (;;) {
    const deadline d = next_deadline();
    if (d.ring == kRings || d.at > now_ms) break;
    now_ = d.at;  // empty slots in between were skipped: nothing to do there
    if (d.ring >= kSlots) {
      cascade(d.ring);
      continue;
    }
    // Fire a level-0 slot: every timer in it has expire_at == now_ (schedule() clamps). Callbacks
    // cannot add to this slot (firing_ parks due timers), but may cancel any timer in it, so
    // always take the current first one.
    timer_link* head = &rings_[d.ring];
    while (head->next != head) {
      timer& t = *static_cast<timer*>(head->next);
      unlink(t);
      ++fired;
      if (t.fire != nullptr) t.fire(t);  // t may be gone after this
    }
  }
  // Nothing is due until the next deadline > now_ms, so moving now_ does not move any timer.
  now_ = now_ms;
  return fired;
}

int64_t timer_wheel::next_timeout_ms(uint64_t now_ms) const noexcept {
  const deadline d = next_deadline();
  if (d.ring == kRings) return -1;
  if (d.at <= now_ms) return 0;
  const uint64_t wait = d.at - now_ms;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(wait > kMax ? kMax : wait);
}

}  // namespace relay::core
