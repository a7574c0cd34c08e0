#include "bench/mask_source.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace relay::bench {

void mask_source::refill() noexcept {
  size_t got = 0;
  while (got < kPoolSize) {
    const ssize_t r = getrandom(pool_.data() + got, kPoolSize - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      // No entropy source at all: there is no safe fallback for masking keys.
      std::perror("relay bench: getrandom");
      std::abort();
    }
    got += static_cast<size_t>(r);
  }
  pos_ = 0;
}

void mask_source::fill(uint8_t* out, size_t len) noexcept {
  while (len > 0) {
    if (pos_ == kPoolSize) refill();
    size_t n = kPoolSize - pos_;
    if (n > len) n = len;
    std::memcpy(out, pool_.data() + pos_, n);
    pos_ += n;
    out += n;
    len -= n;
  }
}

}  // namespace relay::bench
