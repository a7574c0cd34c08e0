#pragma once
// Per-thread free lists of fixed-size blocks, carved from 64 KiB slabs, for long-lived objects
// that exist in the tens of thousands (one per connection).
//
// Why not plain malloc: a connection's object is allocated in the middle of its handshake,
// between short-lived allocations (the HTTP session, parser scratch). Freed around it, those
// leave holes that malloc cannot hand back, and at 10,000 idle connections the holes cost as
// much RSS as the objects themselves. Carving the objects from their own slabs keeps them
// packed: RSS per idle connection is then the object's size, not the object plus a hole.
//
// Blocks go back to the free list of the thread that frees them; slabs are never returned to
// the system (a connection spike's memory is reused by the next spike). Every slab is also
// recorded in a process-wide list, so that it stays reachable after its thread exits (objects
// may be freed later, on another thread) and leak checkers see it as in use, not leaked.
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace relay::core {

template <size_t Size, size_t Align = alignof(std::max_align_t)>
class object_pool {
 public:
  static void* allocate() {
    state& s = tls_state;
    if (s.free == nullptr) s.refill();
    block* b = s.free;
    s.free = b->next;
    return b;
  }

  static void release(void* p) noexcept {
    if (p == nullptr) return;
    state& s = tls_state;
    block* b = static_cast<block*>(p);
    b->next = s.free;
    s.free = b;
  }

 private:
  static constexpr size_t kBlockSize = (Size + Align - 1) / Align * Align;
  static constexpr size_t kSlabBytes = 64 * 1024;
  static constexpr size_t kBlocksPerSlab =
      kSlabBytes / kBlockSize > 0 ? kSlabBytes / kBlockSize : 1;
  static_assert(kBlockSize >= sizeof(void*));

  struct block {
    block* next;
  };
  static void record_slab(void* slab) {
    static std::mutex mu;
    static auto* slabs = new std::vector<void*>();  // never destroyed: reachable to the end
    std::lock_guard lock(mu);
    slabs->push_back(slab);
  }
  struct state {
    block* free = nullptr;
    void refill() {
      void* slab = std::aligned_alloc(Align < alignof(void*) ? alignof(void*) : Align,
                                      kBlockSize * kBlocksPerSlab);
      if (slab == nullptr) throw std::bad_alloc();
      record_slab(slab);
      auto* bytes = static_cast<std::byte*>(slab);
      // Thread the blocks in address order so consecutive connections are neighbours.
      for (size_t i = kBlocksPerSlab; i-- > 0;) {
        auto* b = reinterpret_cast<block*>(bytes + i * kBlockSize);
        b->next = free;
        free = b;
      }
    }
  };
  static thread_local state tls_state;
};

template <size_t Size, size_t Align>
thread_local typename object_pool<Size, Align>::state object_pool<Size, Align>::tls_state;

}  // namespace relay::core
