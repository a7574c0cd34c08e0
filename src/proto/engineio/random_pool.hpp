#pragma once
// Cryptographically secure random bytes from getrandom(2), served from a per-thread pool so
// that small draws (session ids) do not cost one system call each. Thread-safe: each thread has
// its own pool. A forked child discards the pool it inherited (pthread_atfork), so parent and
// child never hand out the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>

namespace relay::engineio {

// Fills out. Never returns weak bytes: if the kernel cannot supply randomness (getrandom(2)
// failing with anything but EINTR, which does not happen on Linux >= 3.17), it aborts the
// process rather than hand out guessable session ids.
void secure_random(std::span<uint8_t> out) noexcept;

}  // namespace relay::engineio
