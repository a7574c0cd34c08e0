#pragma once
// Intrusive multi-producer single-consumer queue (Vyukov's non-blocking design): any thread
// pushes, only the owning loop pops. No lock and no allocation inside the queue; the node is
// part of the posted object.
#include <atomic>

namespace relay::core {

struct mpsc_node {
  std::atomic<mpsc_node*> next{nullptr};
};

class mpsc_queue {
 public:
  mpsc_queue() noexcept : head_(&stub_), tail_(&stub_) {}
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  // Any thread. Returns true when the queue was empty before (the consumer may be asleep).
  bool push(mpsc_node* n) noexcept {
    n->next.store(nullptr, std::memory_order_relaxed);
    // seq_cst, not just acq_rel: event_loop pairs this exchange with a seq_cst flag (a Dekker
    // handshake: either the sleeping consumer sees the node, or the producer sees it asleep),
    // which C++ only guarantees when both sides are seq_cst. Same instruction on x86/ARMv8.
    mpsc_node* prev = head_.exchange(n, std::memory_order_seq_cst);
    prev->next.store(n, std::memory_order_release);
    return prev == &stub_;
  }

  // Consumer only. Returns null when empty, or when a producer is between its two stores
  // (the caller retries on the next wake-up; that producer's push() then reports nothing, so
  // callers must also re-check after draining -- see event_loop).
  mpsc_node* pop() noexcept {
    mpsc_node* tail = tail_;
    mpsc_node* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // producer mid-push
    push(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  // Consumer only. Conservative: true only when no push has started. The head_ load is seq_cst
  // so that, with push()'s seq_cst exchange, it completes event_loop's sleep/wake handshake
  // without a standalone fence (which ThreadSanitizer cannot model).
  bool empty() const noexcept {
    return tail_ == &stub_ && stub_.next.load(std::memory_order_acquire) == nullptr &&
           head_.load(std::memory_order_seq_cst) == &stub_;
  }

 private:
  alignas(64) std::atomic<mpsc_node*> head_;
  alignas(64) mpsc_node* tail_;
  mpsc_node stub_;
};

}  // namespace relay::core
