#pragma once
// A connection's pending output: frames are appended during a loop iteration and flushed with
// one send() (corking). Grows by doubling and keeps its capacity, so a connection stops
// allocating once it has seen its largest burst (K frames of the message size).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace relay::bench {

class out_buffer {
 public:
  // Room for n more bytes at the end; write there, then commit().
  uint8_t* reserve(size_t n) {
    if (capacity_ - end_ < n) make_room(n);
    return data_.get() + end_;
  }
  void commit(size_t n) noexcept { end_ += n; }

  const uint8_t* pending() const noexcept { return data_.get() + begin_; }
  size_t pending_size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  void consume(size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  void make_room(size_t n) {
    const size_t used = end_ - begin_;
    if (begin_ > 0 && capacity_ - used >= n) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      size_t cap = capacity_ ? capacity_ * 2 : 256;
      while (cap - used < n) cap *= 2;
      auto bigger = std::make_unique_for_overwrite<uint8_t[]>(cap);
      if (used) std::memcpy(bigger.get(), data_.get() + begin_, used);
      data_ = std::move(bigger);
      capacity_ = cap;
    }
    begin_ = 0;
    end_ = used;
  }

  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace relay::bench
