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

  header_list() = default;

  // Appends a field; the name is lower-cased. Names and values longer than 65,535 bytes are cut
  // there (an HTTP head that large is refused long before).
  void add(std::string_view name, std::string_view value);
  // The first field with this name (any case), or empty.
  std::string_view get(std::string_view name) const noexcept;
  size_t size() const noexcept { return count_; }
  // The request target kept ahead of the fields (cut at 4 GiB, never reached); empty if unset.
  void set_target(std::string_view target);
  std::string_view target() const noexcept { return {block_.data(), target_size_}; }
  bool empty() const noexcept { return count_ == 0; }
  // Gives back the growth slack once every field is in.
  void shrink_to_fit() { block_.shrink_to_fit(); }

  iterator begin() const noexcept { return iterator(block_.data() + target_size_); }
  iterator end() const noexcept { return iterator(block_.data() + block_.size()); }

 private:
  // The target, then per field: name length (2 bytes, little-endian), name, value length
  // (2 bytes), value.
  std::string block_;
  uint32_t count_ = 0;
  uint32_t target_size_ = 0;
};

}  // namespace relay
