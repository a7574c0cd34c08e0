#pragma once
// A new history epoch: 8 characters of a 32-letter alphabet (40 random bits), short enough for
// an SSE id and a std::string without allocation. It only has to differ from the epochs this
// room had before, so a per-thread PRNG seeded once from the kernel is enough (and cheap under
// a lock). Thread-safe.
#include <string>

namespace relay::store {

std::string new_epoch();

}  // namespace relay::store
