#include "core/shared_buffer.hpp"

#include <cstdlib>
#include <new>

namespace relay::core {

shared_buffer* shared_buffer::create(size_t capacity) {
  void* mem = std::malloc(sizeof(shared_buffer) + capacity);
  if (mem == nullptr) throw std::bad_alloc();
  return new (mem) shared_buffer(capacity);
}

shared_buffer* shared_buffer::copy_of(std::span<const uint8_t> bytes) {
  shared_buffer* b = create(bytes.size());
  b->append(bytes.data(), bytes.size());
  return b;
}

void shared_buffer::destroy() noexcept {
  this->~shared_buffer();
  std::free(this);
}

}  // namespace relay::core
