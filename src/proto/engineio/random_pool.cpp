#include "proto/engineio/random_pool.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace relay::engineio {
namespace {

// 4 KiB serves ~270 session ids per getrandom call; draws this size or larger bypass it.
constexpr size_t kPoolSize = 4096;

struct pool {
  uint8_t bytes[kPoolSize];
  size_t used = kPoolSize;  // starts empty
};

thread_local pool tls_pool;

void fill_from_kernel(uint8_t* out, size_t n) noexcept {
  while (n != 0) {
    const ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "relay: getrandom failed: %s\n", std::strerror(errno));
      std::abort();
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

// In the child only the forking thread survives, and this handler runs on it.
void discard_after_fork() noexcept { tls_pool.used = kPoolSize; }

}  // namespace

void secure_random(std::span<uint8_t> out) noexcept {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, discard_after_fork); });
  if (out.empty()) return;
  if (out.size() >= kPoolSize) {
    fill_from_kernel(out.data(), out.size());
    return;
  }
  pool& p = tls_pool;
  if (kPoolSize - p.used < out.size()) {
    fill_from_kernel(p.bytes, kPoolSize);
    p.used = 0;
  }
  std::memcpy(out.data(), p.bytes + p.used, out.size());
  // Wipe what was handed out, so the pool never holds a copy of an id already issued.
  std::memset(p.bytes + p.used, 0, out.size());
  p.used += out.size();
}

}  // namespace relay::engineio
