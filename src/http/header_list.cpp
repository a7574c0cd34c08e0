#include "relay/header_list.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace relay {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void put_length(char* out, size_t n) {
  out[0] = static_cast<char>(n & 0xff);
  out[1] = static_cast<char>((n >> 8) & 0xff);
}

size_t get_length(const char* p) {
  return static_cast<size_t>(static_cast<uint8_t>(p[0])) |
         (static_cast<size_t>(static_cast<uint8_t>(p[1])) << 8);
}

}  // namespace

header_list::value_type header_list::iterator::operator*() const noexcept {
  const size_t name_len = get_length(at_);
  const char* name = at_ + 2;
  const size_t value_len = get_length(name + name_len);
  return {std::string_view(name, name_len), std::string_view(name + name_len + 2, value_len)};
}

header_list::iterator& header_list::iterator::operator++() noexcept {
  const size_t name_len = get_length(at_);
  const size_t value_len = get_length(at_ + 2 + name_len);
  at_ += 4 + name_len + value_len;
  return *this;
}

header_list::header_list(const header_list& other) {
  if (other.block_ == nullptr) return;
  const size_t n = sizeof(head) + other.block_->size;
  block_ = static_cast<head*>(std::malloc(n));
  if (block_ == nullptr) throw std::bad_alloc();
  std::memcpy(block_, other.block_, n);
  block_->capacity = other.block_->size;
}

header_list::~header_list() { std::free(block_); }

char* header_list::grow(size_t n) {
  const size_t used = block_ ? block_->size : 0;
  const size_t capacity = block_ ? block_->capacity : 0;
  if (used + n > UINT32_MAX) throw std::length_error("header_list too large");
  if (capacity - used < n) {
    const size_t want = std::max<size_t>({used + n, capacity * 2, 64});
    const size_t cap = std::min<size_t>(want, UINT32_MAX);
    auto* b = static_cast<head*>(std::realloc(block_, sizeof(head) + cap));
    if (b == nullptr) throw std::bad_alloc();
    if (block_ == nullptr) *b = head{0, 0, 0, 0};
    block_ = b;
    block_->capacity = static_cast<uint32_t>(cap);
  }
  char* at = bytes() + block_->size;
  block_->size = static_cast<uint32_t>(used + n);
  return at;
}

void header_list::reserve(size_t n) {
  const size_t used = block_ ? block_->size : 0;
  if (block_ != nullptr && block_->capacity >= n) return;
  if (n > UINT32_MAX) throw std::length_error("header_list too large");
  auto* b = static_cast<head*>(std::realloc(block_, sizeof(head) + n));
  if (b == nullptr) throw std::bad_alloc();
  if (block_ == nullptr) *b = head{0, 0, 0, 0};
  block_ = b;
  block_->size = static_cast<uint32_t>(used);
  block_->capacity = static_cast<uint32_t>(n);
}

void header_list::shrink_to_fit() {
  if (block_ == nullptr || block_->capacity == block_->size) return;
  if (auto* b = static_cast<head*>(std::realloc(block_, sizeof(head) + block_->size))) {
    block_ = b;
    block_->capacity = block_->size;
  }
}

void header_list::add(std::string_view name, std::string_view value) {
  constexpr size_t kMax = 0xffff;
  name = name.substr(0, kMax);
  value = value.substr(0, kMax);
  char* p = grow(4 + name.size() + value.size());
  put_length(p, name.size());
  std::transform(name.begin(), name.end(), p + 2, ascii_lower);
  put_length(p + 2 + name.size(), value.size());
  std::memcpy(p + 4 + name.size(), value.data(), value.size());
  ++block_->count;
}

void header_list::set_target(std::string_view target) {
  if (block_ == nullptr && target.empty()) return;
  const size_t old = block_ ? block_->target_size : 0;
  if (target.size() > old) grow(target.size() - old);
  char* b = bytes();
  const size_t fields = block_->size - (target.size() > old ? target.size() - old : 0) - old;
  std::memmove(b + target.size(), b + old, fields);
  std::memcpy(b, target.data(), target.size());
  block_->size = static_cast<uint32_t>(target.size() + fields);
  block_->target_size = static_cast<uint32_t>(target.size());
}

std::string_view header_list::get(std::string_view name) const noexcept {
  for (auto [n, v] : *this) {
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(),
                   [](char stored, char asked) { return stored == ascii_lower(asked); })) {
      return v;
    }
  }
  return {};
}

}  // namespace relay
