#pragma once
// Engine.IO session ids, in the shape the Node server's base64id gives them: 15 bytes from a
// CSPRNG as 20 characters of the URL-safe base64 alphabet (RFC 4648 §5), e.g.
// "lv_VI97HAXpY6yYWAAAC". All 120 bits are random (base64id spends a few on a counter);
// guessing a live id is what would let a stranger read or post on someone's session.
#include <cstddef>
#include <string>

namespace relay::engineio {

inline constexpr size_t kSidRawBytes = 15;
inline constexpr size_t kSidSize = 20;

// Thread-safe; about one getrandom(2) call per 270 ids (see random_pool.hpp).
std::string generate_sid();

}  // namespace relay::engineio
