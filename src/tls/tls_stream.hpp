#pragma once
// TLS (OpenSSL) as one more net::stream: the connection code does not know it is encrypted.
// Server side only for now; TLS 1.2 minimum.
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "net/stream.hpp"

namespace relay::tls {

// One per server: certificate chain + key, protocol floor, ALPN "http/1.1".
class context {
 public:
  // Throws std::runtime_error naming the file and OpenSSL's reason (start-up only).
  context(const std::string& cert_chain_file, const std::string& key_file);
  ~context();
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  // A stream for a freshly accepted socket; the handshake runs lazily on first read/write.
  std::unique_ptr<net::stream> accept(int fd) const;

 private:
  SSL_CTX* ctx_;
};

class tls_stream final : public net::stream {
 public:
  tls_stream(SSL_CTX* ctx, int fd);
  ~tls_stream() override;

  ssize_t read(int fd, uint8_t* buf, size_t len) override;
  ssize_t writev(int fd, const iovec* iov, int count) override;
  bool wants_write() const noexcept override { return want_write_; }
  void shutdown(int fd) noexcept override;

 private:
  ssize_t map_error(int ret);

  SSL* ssl_;
  bool want_write_ = false;
};

}  // namespace relay::tls
