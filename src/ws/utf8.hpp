#pragma once
// Incremental UTF-8 validation (RFC 3629): rejects overlongs, surrogates (U+D800..DFFF) and
// code points above U+10FFFF as soon as the offending byte arrives, so a text message split
// across frames or reads fails fast (RFC 6455 §8.1).
//
// A byte-class DFA (one 256-entry class table, one small transition table) with an ASCII fast
// path that skips 8 bytes at a time while the validator sits between code points. The state is
// one byte, so it is cheap to keep per connection across reads. Not thread-safe per instance;
// instances are independent.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace relay::ws {

class utf8_validator {
 public:
  // Feeds more bytes. Returns false as soon as the input so far cannot be a prefix of valid
  // UTF-8 (the validator then stays failed until reset()).
  bool feed(const uint8_t* data, size_t len) noexcept;
  // True if everything fed so far is complete, valid UTF-8 (no sequence cut off at the end).
  bool complete() const noexcept { return state_ == 0; }
  bool failed() const noexcept { return state_ == kReject; }
  void reset() noexcept { state_ = 0; }

  // DFA states are row offsets into the transition table (16 entries per row); kReject is the
  // absorbing error row.
  static constexpr uint8_t kReject = 8 * 16;

 private:
  uint8_t state_ = 0;
};

// One-shot check of a whole buffer.
bool is_valid_utf8(const uint8_t* data, size_t len) noexcept;
inline bool is_valid_utf8(std::string_view s) noexcept {
  return is_valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace relay::ws
