#include "net/out_queue.hpp"

#include <algorithm>
#include <cstring>

namespace relay::net {
namespace {

// Per-thread pools of write chunks: echo traffic recycles the same few chunks instead of
// hitting malloc for every message. Two sizes: a queue's first chunk is small when the first
// write is (a handshake response, one echo), so a burst of thousands of new connections does not
// leave thousands of touched 16 KiB chunks behind in the heap; bulk output uses big chunks.
// Bounded so a burst does not pin memory forever.
struct chunk_pool {
  size_t chunk_size;
  size_t max_pooled;
  std::vector<core::shared_buffer*> free;
  ~chunk_pool() {
    for (auto* b : free) b->release();
  }
  core::shared_buffer* take() {
    if (!free.empty()) {
      core::shared_buffer* b = free.back();
      free.pop_back();
      b->resize(0);
      return b;
    }
    return core::shared_buffer::create(chunk_size);
  }
  // Only chunks nobody else references can be reused.
  bool give(core::shared_buffer* b) {
    if (b->capacity() != chunk_size || !b->unique()) return false;
    if (free.size() >= max_pooled) {
      b->release();
    } else {
      free.push_back(b);
    }
    return true;
  }
};
thread_local chunk_pool tls_small_pool{out_queue::kSmallChunkSize, 256, {}};
thread_local chunk_pool tls_large_pool{out_queue::kChunkSize, 32, {}};

core::shared_buffer* take_chunk(size_t n, bool queue_empty) {
  if (queue_empty && n <= out_queue::kSmallChunkSize) return tls_small_pool.take();
  if (n <= out_queue::kChunkSize) return tls_large_pool.take();
  return core::shared_buffer::create(n);
}

void give_chunk(core::shared_buffer* b) {
  if (!tls_small_pool.give(b) && !tls_large_pool.give(b)) b->release();
}

}  // namespace

uint8_t* out_queue::append_uninitialized(size_t n) {
  bytes_ += n;
  if (!slices_.empty() && head_ < slices_.size()) {
    slice& tail = slices_.back();
    if (tail.writable && tail.off + tail.len == tail.buf->size() && tail.buf->room() >= n) {
      tail.len += static_cast<uint32_t>(n);
      return tail.buf->grow(n);
    }
  }
  core::shared_buffer* b = take_chunk(n, head_ == slices_.size());
  slices_.push_back(slice{b, 0, static_cast<uint32_t>(n), true});
  return b->grow(n);
}

void out_queue::append(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  // Fill the tail chunk first, then new chunks, so large writes do not need one huge buffer.
  size_t left = bytes.size();
  const uint8_t* p = bytes.data();
  if (!slices_.empty() && head_ < slices_.size()) {
    slice& tail = slices_.back();
    if (tail.writable && tail.off + tail.len == tail.buf->size()) {
      size_t n = std::min(left, tail.buf->room());
      if (n > 0) {
        tail.buf->append(p, n);
        tail.len += static_cast<uint32_t>(n);
        bytes_ += n;
        p += n;
        left -= n;
      }
    }
  }
  while (left > 0) {
    size_t n = std::min(left, kChunkSize);
    std::memcpy(append_uninitialized(n), p, n);
    p += n;
    left -= n;
  }
}

void out_queue::append_shared(core::shared_buffer* buf, size_t off, size_t len) {
  if (len == 0) return;
  buf->add_ref();
  slices_.push_back(slice{buf, static_cast<uint32_t>(off), static_cast<uint32_t>(len), false});
  bytes_ += len;
}

int out_queue::gather(iovec* iov, int max) const noexcept {
  int n = 0;
  for (size_t i = head_; i < slices_.size() && n < max; ++i, ++n) {
    iov[n].iov_base = const_cast<uint8_t*>(slices_[i].buf->data() + slices_[i].off);
    iov[n].iov_len = slices_[i].len;
  }
  return n;
}

void out_queue::consume(size_t n) noexcept {
  bytes_ -= n;
  while (n > 0) {
    slice& s = slices_[head_];
    if (n < s.len) {
      s.off += static_cast<uint32_t>(n);
      s.len -= static_cast<uint32_t>(n);
      // A partially sent chunk must not be appended to any more: its prefix is gone, but the
      // slice still ends at the buffer's end, so appends stay correct. Nothing to do.
      return;
    }
    n -= s.len;
    if (s.writable) {
      give_chunk(s.buf);
    } else {
      s.buf->release();
    }
    ++head_;
  }
  if (head_ == slices_.size()) {
    // Fully drained: give the slice array back too, so idle connections own no heap memory.
    std::vector<slice>().swap(slices_);
    head_ = 0;
  } else if (head_ > 64 && head_ * 2 > slices_.size()) {
    slices_.erase(slices_.begin(), slices_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
}

void out_queue::clear() noexcept {
  for (size_t i = head_; i < slices_.size(); ++i) {
    if (slices_[i].writable) {
      give_chunk(slices_[i].buf);
    } else {
      slices_[i].buf->release();
    }
  }
  std::vector<slice>().swap(slices_);
  head_ = 0;
  bytes_ = 0;
}

}  // namespace relay::net
