#include "tls/tls_stream.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace relay::tls {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Offer only HTTP/1.1 over ALPN: this server speaks no h2.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

context::context(const std::string& cert_chain_file, const std::string& key_file) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr) throw std::runtime_error("TLS: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // Partial writes + moving buffers: our writev gathers slices into a scratch buffer whose
  // address may change between retries.
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                             SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx_, cert_chain_file.c_str()) != 1) {
    std::string why = openssl_error();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("TLS certificate " + cert_chain_file + ": " + why);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    std::string why = openssl_error();
    SSL_CTX_free(ctx_);
    throw std::runtime_error("TLS key " + key_file + ": " + why);
  }
  SSL_CTX_set_alpn_select_cb(ctx_, select_alpn, nullptr);
}

context::~context() { SSL_CTX_free(ctx_); }

std::unique_ptr<net::stream> context::accept(int fd) const {
  return std::make_unique<tls_stream>(ctx_, fd);
}

tls_stream::tls_stream(SSL_CTX* ctx, int fd) : ssl_(SSL_new(ctx)) {
  SSL_set_fd(ssl_, fd);
  SSL_set_accept_state(ssl_);
}

tls_stream::~tls_stream() { SSL_free(ssl_); }

ssize_t tls_stream::map_error(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      want_write_ = false;
      return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // close_notify: orderly EOF
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      return errno != 0 ? -errno : -ECONNRESET;
    default:
      ERR_clear_error();
      return -EPROTO;  // handshake failure, bad record, ...
  }
}

ssize_t tls_stream::read(int, uint8_t* buf, size_t len) {
  // Drain every decrypted record available now: OpenSSL may hold data the kernel no longer
  // signals as readable.
  size_t total = 0;
  while (total < len) {
    size_t got = 0;
    errno = 0;
    int ret = SSL_read_ex(ssl_, buf + total, len - total, &got);
    if (ret == 1) {
      want_write_ = false;
      total += got;
      continue;
    }
    ssize_t err = map_error(0);
    if (total > 0) return static_cast<ssize_t>(total);
    return err;
  }
  return static_cast<ssize_t>(total);
}

ssize_t tls_stream::writev(int, const iovec* iov, int count) {
  // TLS records are built from contiguous bytes: write slice by slice. With partial writes
  // enabled, a short SSL_write means the socket is full.
  size_t total = 0;
  for (int i = 0; i < count; ++i) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t left = iov[i].iov_len;
    while (left > 0) {
      size_t written = 0;
      errno = 0;
      int ret = SSL_write_ex(ssl_, p, left, &written);
      if (ret != 1) {
        ssize_t err = map_error(0);
        if (total > 0) return static_cast<ssize_t>(total);
        return err;
      }
      want_write_ = false;
      total += written;
      p += written;
      left -= written;
    }
  }
  return static_cast<ssize_t>(total);
}

void tls_stream::shutdown(int) noexcept {
  // One close_notify attempt; we do not wait for the peer's (RFC 8446 §6.1 allows it).
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace relay::tls
