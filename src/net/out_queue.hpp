#pragma once
// A connection's pending output: an ordered list of slices of refcounted buffers. Small writes
// are copied into a per-connection chunk taken from a per-thread pool; shared payloads
// (broadcast frames) are referenced, never copied. The connection drains it with one writev
// per loop iteration (write corking).
//
// Memory: an empty queue owns nothing, so idle connections cost only sizeof(out_queue).
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/shared_buffer.hpp"

namespace relay::net {

class out_queue {
 public:
  static constexpr size_t kChunkSize = 16 * 1024 - 16;     // pooled chunk capacity
  static constexpr size_t kSmallChunkSize = 2 * 1024 - 16;  // a queue's first, if it fits

  out_queue() = default;
  out_queue(const out_queue&) = delete;
  out_queue& operator=(const out_queue&) = delete;
  ~out_queue() { clear(); }

  // Copies bytes to the end of the queue.
  void append(std::span<const uint8_t> bytes);
  // Reserves n contiguous writable bytes at the end (valid until the next call on the queue);
  // the caller writes them all. Lets a frame header and payload be encoded in one place.
  uint8_t* append_uninitialized(size_t n);
  // References [off, off+len) of buf (adds a reference).
  void append_shared(core::shared_buffer* buf, size_t off, size_t len);

  size_t bytes() const noexcept { return bytes_; }
  bool empty() const noexcept { return bytes_ == 0; }

  // Fills up to max iovecs from the front; returns how many.
  int gather(iovec* iov, int max) const noexcept;
  // Drops n bytes from the front (after a write).
  void consume(size_t n) noexcept;
  void clear() noexcept;
  void swap(out_queue& other) noexcept {
    slices_.swap(other.slices_);
    std::swap(head_, other.head_);
    std::swap(bytes_, other.bytes_);
  }

 private:
  struct slice {
    core::shared_buffer* buf;
    uint32_t off;
    uint32_t len;
    bool writable;  // our own chunk: further appends may extend this slice in place
  };
  std::vector<slice> slices_;
  size_t head_ = 0;  // first live slice
  size_t bytes_ = 0;
};

}  // namespace relay::net
