#pragma once
// Engine.IO session ids, in the shape the Node server's base64id gives them: 15 bytes from a
// CSPRNG as 20 characters of the URL-safe base64 alphabet (RFC 4648 §5), e.g.
// "lv_VI97HAXpY6yYWAAAC". All 120 bits are random (base64id spends a few on a counter);
// guessing a live id is what would let a stranger read or post on someone's session.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relay::engineio {

inline constexpr size_t kSidRawBytes = 15;
inline constexpr size_t kSidSize = 20;

// Thread-safe; about one getrandom(2) call per 270 ids (see random_pool.hpp).
std::string generate_sid();

// An id of at most kSidSize characters kept inline, for the sessions and sockets a server holds
// by the million: a std::string of 20 characters costs its 32 bytes plus a heap block.
class inline_id {
 public:
  inline_id() noexcept = default;
  // Longer text is cut at kSidSize (ids are made here, always that long).
  explicit inline_id(std::string_view s) noexcept
      : size_(static_cast<uint8_t>(std::min(s.size(), kSidSize))) {
    std::copy_n(s.data(), size_, chars_);
  }
  std::string_view view() const noexcept { return {chars_, size_}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string(view()); }

 private:
  char chars_[kSidSize] = {};
  uint8_t size_ = 0;
};

}  // namespace relay::engineio
