#include "store/epoch.hpp"

#include <cstdint>
#include <random>

namespace relay::store {

std::string new_epoch() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // no l, o, 0, 1
  uint64_t bits = rng();
  std::string epoch(8, ' ');
  for (char& c : epoch) {
    c = kAlphabet[bits & 31];
    bits >>= 5;
  }
  return epoch;
}

}  // namespace relay::store
