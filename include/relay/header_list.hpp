#pragma once
// HTTP header fields kept for as long as a connection lives (a Socket.IO handshake's), packed
// into one allocation: a vector of string pairs costs a dozen allocations per connection, which
// an idle fleet of millions feels. Names are stored lower-cased; lookups ignore case. The
// request's target (URL) can ride in the same block (a handshake keeps both).
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace relay {

class header_list {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;  // name, value

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = header_list::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    iterator() = default;
    value_type operator*() const noexcept;
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const iterator& o) const noexcept { return at_ == o.at_; }

   private:
    friend class header_list;
    explicit iterator(const char* at) : at_(at) {}
    const char* at_ = nullptr;
  };

  header_list() noexcept = default;
  header_list(const header_list& other);
  header_list(header_list&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  header_list& operator=(header_list other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~header_list();

  // Appends a field; the name is lower-cased. Names and values longer than 65,535 bytes are cut
  // there (an HTTP head that large is refused long before).
  void add(std::string_view name, std::string_view value);
  // The first field with this name (any case), or empty.
  std::string_view get(std::string_view name) const noexcept;
  size_t size() const noexcept { return block_ ? block_->count : 0; }
  bool empty() const noexcept { return size() == 0; }
  // The request target kept ahead of the fields; empty if unset.
  void set_target(std::string_view target);
  std::string_view target() const noexcept {
    return block_ ? std::string_view(bytes(), block_->target_size) : std::string_view();
  }
  // Room for n bytes of target and fields (each field takes 4 bytes besides its name and
  // value): filled to exactly that, the block has no slack and is never reallocated.
  void reserve(size_t n);
  // Gives back the growth slack once every field is in.
  void shrink_to_fit();

  iterator begin() const noexcept {
    return iterator(block_ ? bytes() + block_->target_size : nullptr);
  }
  iterator end() const noexcept { return iterator(block_ ? bytes() + block_->size : nullptr); }

 private:
  // One heap block: this head, then the target, then per field: name length (2 bytes,
  // little-endian), name, value length (2 bytes), value. The object is one pointer.
  struct head {
    uint32_t size;  // bytes in use after the head
    uint32_t capacity;
    uint32_t count;
    uint32_t target_size;
  };
  const char* bytes() const noexcept { return reinterpret_cast<const char*>(block_ + 1); }
  char* bytes() noexcept { return reinterpret_cast<char*>(block_ + 1); }
  // Room for n more bytes (the block may move); returns where they go.
  char* grow(size_t n);

  head* block_ = nullptr;
};

}  // namespace relay
