#pragma once
// A hash set of pointers with open addressing (linear probing, backward-shift deletion): one
// array of pointers, no node per element. Connections and sockets are indexed by the hundred
// thousand (sessions by sid, sockets by id, room members); a std::unordered_set spends a
// malloc'd node (32 bytes with its header) plus a bucket on each, this set 8-16 bytes.
//
// Traits says what an element's key is and how keys hash and compare:
//   struct traits {
//     static std::string_view key(const session* s);   // any key type K
//     static size_t hash(std::string_view k);
//   };
// Keys are compared with ==. Lookups take a key; erase takes the element (found by its key,
// then by identity). Iteration order is unspecified; inserting or erasing invalidates
// iterators. Not synchronized.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <utility>

namespace relay::core {

template <class T, class Traits>
class flat_ptr_set {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T*;
    using difference_type = std::ptrdiff_t;
    using pointer = T* const*;
    using reference = T* const&;

    iterator() = default;
    reference operator*() const noexcept { return *at_; }
    iterator& operator++() noexcept {
      ++at_;
      skip_empty();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const iterator& o) const noexcept { return at_ == o.at_; }

   private:
    friend class flat_ptr_set;
    iterator(T* const* at, T* const* end) : at_(at), end_(end) { skip_empty(); }
    void skip_empty() noexcept {
      while (at_ != end_ && *at_ == nullptr) ++at_;
    }
    T* const* at_ = nullptr;
    T* const* end_ = nullptr;
  };

  flat_ptr_set() noexcept = default;
  flat_ptr_set(const flat_ptr_set&) = delete;
  flat_ptr_set& operator=(const flat_ptr_set&) = delete;
  flat_ptr_set(flat_ptr_set&& o) noexcept
      : slots_(std::exchange(o.slots_, nullptr)),
        mask_(std::exchange(o.mask_, 0)),
        size_(std::exchange(o.size_, 0)) {}
  flat_ptr_set& operator=(flat_ptr_set&& o) noexcept {
    std::swap(slots_, o.slots_);
    std::swap(mask_, o.mask_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~flat_ptr_set() { std::free(slots_); }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return slots_ ? mask_ + 1 : 0; }

  iterator begin() const noexcept { return iterator(slots_, slots_ + capacity()); }
  iterator end() const noexcept { return iterator(slots_ + capacity(), slots_ + capacity()); }

  // Adds p (non-null) unless an element with an equal key is there; true if added.
  bool insert(T* p) {
    if ((size_ + 1) * 8 > capacity() * 7) grow();  // load factor at most 7/8
    const auto& k = Traits::key(p);
    for (size_t i = Traits::hash(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == nullptr) {
        slots_[i] = p;
        ++size_;
        return true;
      }
      if (Traits::key(slots_[i]) == k) return false;
    }
  }

  // The element with this key, or null.
  template <class K>
  T* find(const K& k) const noexcept {
    if (size_ == 0) return nullptr;
    for (size_t i = Traits::hash(k) & mask_;; i = (i + 1) & mask_) {
      T* s = slots_[i];
      if (s == nullptr) return nullptr;
      if (Traits::key(s) == k) return s;
    }
  }

  // Removes p itself; false if it is not in the set.
  bool erase(T* p) noexcept {
    if (size_ == 0) return false;
    size_t i = Traits::hash(Traits::key(p)) & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i] == nullptr) return false;
      if (slots_[i] == p) break;
    }
    // Backward shift: move later members of the probe run into the hole when their home slot
    // does not lie (cyclically) between the hole and them, so no lookup ever stops early.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j] != nullptr; j = (j + 1) & mask_) {
      const size_t home = Traits::hash(Traits::key(slots_[j])) & mask_;
      if (((j - home) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = nullptr;
    --size_;
    if (size_ == 0) clear();  // an emptied set (a room everyone left) gives its array back
    return true;
  }

  void clear() noexcept {
    std::free(std::exchange(slots_, nullptr));
    mask_ = 0;
    size_ = 0;
  }

 private:
  void grow() {
    const size_t cap = slots_ ? (mask_ + 1) * 2 : 4;
    auto* fresh = static_cast<T**>(std::calloc(cap, sizeof(T*)));
    if (fresh == nullptr) throw std::bad_alloc();
    T** old = std::exchange(slots_, fresh);
    const size_t old_cap = old ? mask_ + 1 : 0;
    mask_ = cap - 1;
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i] == nullptr) continue;
      size_t j = Traits::hash(Traits::key(old[i])) & mask_;
      while (slots_[j] != nullptr) j = (j + 1) & mask_;
      slots_[j] = old[i];
    }
    std::free(old);
  }

  T** slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace relay::core
