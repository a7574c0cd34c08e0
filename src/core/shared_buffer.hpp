#pragma once
// Refcounted immutable byte buffers: a broadcast is encoded once into one of these and every
// recipient's send queue holds a reference (DESIGN.md "encode once, send many").
//
// Thread safety: the refcount is atomic, so a buffer may be referenced and released from any
// loop. The bytes must not change once a second reference exists; only the creator writes
// them, before sharing.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>

namespace relay::core {

class shared_buffer {
 public:
  // One allocation: this header followed by `capacity` bytes. Never returns null (aborts on OOM
  // like operator new).
  static shared_buffer* create(size_t capacity);
  static shared_buffer* copy_of(std::span<const uint8_t> bytes);

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  bool unique() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }

  uint8_t* data() noexcept { return reinterpret_cast<uint8_t*>(this + 1); }
  const uint8_t* data() const noexcept { return reinterpret_cast<const uint8_t*>(this + 1); }
  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return capacity_; }
  size_t room() const noexcept { return capacity_ - size_; }
  std::span<const uint8_t> bytes() const noexcept { return {data(), size_}; }

  // Writer side (only while unshared): append bytes, or reserve n bytes and return where.
  void append(const void* p, size_t n) noexcept {
    if (n == 0) return;  // an empty span may have a null data(): memcpy(_, nullptr, 0) is UB
    std::memcpy(data() + size_, p, n);
    size_ += static_cast<uint32_t>(n);
  }
  uint8_t* grow(size_t n) noexcept {
    uint8_t* at = data() + size_;
    size_ += static_cast<uint32_t>(n);
    return at;
  }
  void resize(size_t n) noexcept { size_ = static_cast<uint32_t>(n); }

 private:
  explicit shared_buffer(size_t capacity) noexcept
      : capacity_(static_cast<uint32_t>(capacity)) {}
  void destroy() noexcept;

  std::atomic<uint32_t> refs_{1};
  uint32_t size_ = 0;
  uint32_t capacity_;
  [[maybe_unused]] uint32_t reserved_ = 0;  // keeps data() 16-byte aligned
};
static_assert(sizeof(shared_buffer) == 16);

// RAII handle: one reference.
class buffer_ref {
 public:
  buffer_ref() noexcept = default;
  // Adopts an existing reference (does not add one).
  explicit buffer_ref(shared_buffer* adopted) noexcept : buf_(adopted) {}
  buffer_ref(const buffer_ref& o) noexcept : buf_(o.buf_) {
    if (buf_) buf_->add_ref();
  }
  buffer_ref(buffer_ref&& o) noexcept : buf_(std::exchange(o.buf_, nullptr)) {}
  buffer_ref& operator=(buffer_ref o) noexcept {
    std::swap(buf_, o.buf_);
    return *this;
  }
  ~buffer_ref() {
    if (buf_) buf_->release();
  }

  shared_buffer* get() const noexcept { return buf_; }
  shared_buffer* operator->() const noexcept { return buf_; }
  explicit operator bool() const noexcept { return buf_ != nullptr; }
  shared_buffer* release() noexcept { return std::exchange(buf_, nullptr); }

 private:
  shared_buffer* buf_ = nullptr;
};

}  // namespace relay::core
